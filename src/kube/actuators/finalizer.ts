import type { PerformanceProfile } from "../../api/types.ts";
import type { KubeClient } from "../client.ts";
import { FINALIZER } from "../labels.ts";
import { Resources } from "../resources.ts";
import type { Actuator, ActContext } from "./actuator.ts";
import type { FinalizerAction } from "./actions.ts";

/**
 * Tollgate's finalizer on the profile. JSON patches that test the list they change, so another
 * controller's finalizer added or removed meanwhile is never lost: the test fails (422) and the next
 * pass, on the fresher copy, tries again.
 */
export class FinalizerActuator implements Actuator<FinalizerAction> {
  private readonly client: KubeClient;

  constructor(client: KubeClient) {
    this.client = client;
  }

  async act(a: FinalizerAction, ctx: ActContext): Promise<boolean> {
    const { profile } = ctx;
    const list = profile.metadata?.finalizers ?? [];
    const at = list.indexOf(FINALIZER);
    const patch =
      a.op === "add"
        ? at >= 0
          ? undefined
          : list.length
            ? [{ op: "test", path: "/metadata/finalizers", value: list }, { op: "add", path: "/metadata/finalizers/-", value: FINALIZER }]
            : // JSON Patch cannot test that a member is absent, and "add" would replace a list added meanwhile.
              [{ op: "test", path: "/metadata/resourceVersion", value: profile.metadata?.resourceVersion }, { op: "add", path: "/metadata/finalizers", value: [FINALIZER] }]
        : at < 0
          ? undefined
          : [{ op: "test", path: `/metadata/finalizers/${at}`, value: FINALIZER }, { op: "remove", path: `/metadata/finalizers/${at}` }];
    if (!patch) return false;
    await this.client.patch<PerformanceProfile>(Resources.PerformanceProfile, ctx.namespace, profile.metadata?.name ?? "", patch, { contentType: "application/json-patch+json" });
    return true;
  }
}
