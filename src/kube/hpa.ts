import type { HorizontalPodAutoscaler } from "../traffic/autoscaler.ts";
import type { KubeClient } from "./client.ts";
import { Resources } from "./resources.ts";

/**
 * Server-side apply with force as `tollgate`: a hand edit of minReplicas or a target is restored, while
 * fields Tollgate does not apply (labels, annotations of other managers) are left alone. The HPA's
 * status and the Deployment's replicas are the HPA controller's and are never part of the apply.
 */
export function applyHpa(client: KubeClient, obj: HorizontalPodAutoscaler): Promise<HorizontalPodAutoscaler> {
  return client.apply(Resources.HorizontalPodAutoscaler, obj, { force: true });
}
