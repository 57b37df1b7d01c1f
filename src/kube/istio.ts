import type { DestinationRule } from "../traffic/destination-rule.ts";
import type { VirtualService } from "../traffic/virtual-service.ts";
import type { KubeClient } from "./client.ts";
import { Resources } from "./resources.ts";

/**
 * Server-side apply with force, as the `tollgate` field manager. Force takes ownership only of the fields
 * in the object Tollgate applies (e2e/istio.e2e.test.ts shows it on the API server): a hand edit of one
 * of them is overwritten, fields applied by Argo CD or anyone else stay theirs. Without force, a single
 * `kubectl edit` of a weight or threshold would turn every later apply into a 409 conflict.
 */
export function applyDestinationRule(client: KubeClient, obj: DestinationRule): Promise<DestinationRule> {
  return client.apply(Resources.DestinationRule, obj, { force: true });
}

/** As applyDestinationRule; note that the whole `spec.http` list is Tollgate's (Istio's lists are atomic). */
export function applyVirtualService(client: KubeClient, obj: VirtualService): Promise<VirtualService> {
  return client.apply(Resources.VirtualService, obj, { force: true });
}
