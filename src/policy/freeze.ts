import type { Policy } from "../api/policy.ts";
import type { ProfileStatus } from "../api/status.ts";
import type { BudgetView } from "./budget.ts";
import type { FreezeReason } from "./condition-names.ts";
import { truncate } from "./format.ts";

export type FreezeStatus = NonNullable<ProfileStatus["freeze"]>;

/**
 * The freeze as the budget alone decides it, before any override. A frozen profile stays frozen until
 * consumption falls below unfreezeBelow (hysteresis: between unfreezeBelow and freezeAt it stays as it
 * was); the leaving test uses the highest consumption including an SLO whose data vanished, so a gap
 * cannot lift a freeze. Without any data nothing changes, except that onNoData Freeze freezes. A
 * NoData freeze lifts when data returns and no SLO is at freezeAt, and turns into a budget freeze if
 * one is: it was never the budget's freeze to hold with hysteresis. `since` never moves while frozen:
 * it names the incident.
 */
export function nextFreeze(prev: FreezeStatus | undefined, view: BudgetView, policy: Policy, now: Date): FreezeStatus | undefined {
  const held: FreezeStatus | undefined = prev ? withoutOverride(prev) : undefined;
  if (view.noData || !view.worst) {
    if (held) return held;
    return policy.onNoData === "Freeze" ? { since: now.toISOString(), reason: "NoData" satisfies FreezeReason } : undefined;
  }
  const worst = view.worst;
  const exhausted: FreezeStatus = {
    since: held?.since ?? now.toISOString(),
    reason: "BudgetExhausted" satisfies FreezeReason,
    slo: worst.name,
    consumedPercent: truncate(worst.consumed, 2),
  };
  const highest = view.held?.consumed ?? worst.consumed;
  if (!held) return worst.consumed >= policy.freezeAt ? exhausted : undefined;
  if (held.reason === "NoData") {
    if (worst.consumed >= policy.freezeAt) return exhausted;
    return highest >= policy.freezeAt ? held : undefined;
  }
  return highest < policy.unfreezeBelow ? undefined : held;
}

function withoutOverride(f: FreezeStatus): FreezeStatus {
  const { override: _, ...rest } = f;
  return rest;
}
