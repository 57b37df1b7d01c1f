import type { DriftApplier } from "../owned.ts";
import { Resources } from "../resources.ts";
import type { Actuator, ActContext } from "./actuator.ts";
import type { HpaAction } from "./actions.ts";

/** The HorizontalPodAutoscaler a profile owns: applied when it drifts, deleted when no longer wanted. */
export class HpaActuator implements Actuator<HpaAction> {
  private readonly applier: DriftApplier;

  constructor(applier: DriftApplier) {
    this.applier = applier;
  }

  async act(a: HpaAction, ctx: ActContext): Promise<boolean> {
    if (a.op === "delete") return this.applier.deleteIfOwned(Resources.HorizontalPodAutoscaler, ctx.current.hpa(a.name), ctx.profile.metadata?.uid ?? "");
    return this.applier.ensure(Resources.HorizontalPodAutoscaler, ctx.current.hpa(a.object.metadata.name), a.object);
  }
}
