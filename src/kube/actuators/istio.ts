import type { DriftApplier } from "../owned.ts";
import { Resources } from "../resources.ts";
import type { Actuator, ActContext } from "./actuator.ts";
import type { IstioAction } from "./actions.ts";

/** The VirtualService and DestinationRule a profile owns: applied when they drift, deleted when no longer wanted. */
export class IstioActuator implements Actuator<IstioAction> {
  private readonly applier: DriftApplier;

  constructor(applier: DriftApplier) {
    this.applier = applier;
  }

  async act(a: IstioAction, ctx: ActContext): Promise<boolean> {
    const uid = ctx.profile.metadata?.uid ?? "";
    if (a.op === "delete") {
      const current = a.resource === "VirtualService" ? ctx.current.virtualService(a.name) : ctx.current.destinationRule(a.name);
      return this.applier.deleteIfOwned(Resources[a.resource], current, uid);
    }
    const o = a.object;
    return o.kind === "VirtualService"
      ? this.applier.ensure(Resources.VirtualService, ctx.current.virtualService(o.metadata.name), o)
      : this.applier.ensure(Resources.DestinationRule, ctx.current.destinationRule(o.metadata.name), o);
  }
}
