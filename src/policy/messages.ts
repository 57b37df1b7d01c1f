import type { Policy } from "../api/policy.ts";
import type { BudgetView, SloView } from "./budget.ts";
import type { FreezeStatus } from "./freeze.ts";
import { percent, threshold } from "./format.ts";

/** "availability consumed 104.2 % of its 30d budget". */
export function consumedText(s: SloView & { consumed: number }): string {
  return `${s.name} consumed ${percent(s.consumed)} of its ${s.window} budget`;
}

/** The budget in a sentence, falling back to what the freeze recorded when no SLO has a verdict now. */
export function budgetText(view: BudgetView, freeze: FreezeStatus | undefined): string {
  if (view.worst) return consumedText(view.worst);
  if (freeze?.slo !== undefined && freeze.consumedPercent !== undefined) {
    return `${freeze.slo} had consumed ${percent(freeze.consumedPercent)} of its budget when rollouts froze and no SLO has a verdict now`;
  }
  return "no SLO has a verdict";
}

/** What the policy does while it has no data, for messages. */
export function noDataStance(policy: Policy): string {
  return policy.onNoData === "Freeze"
    ? "rollouts stay frozen until data returns (onNoData Freeze), and missing data never causes a rollback"
    : "the policy holds its current state and takes no action (onNoData Hold)";
}

/** Why a state that must be left is still held by an SLO without data, or "" when it is not. */
export function heldText(view: BudgetView, level: number): string {
  const h = view.held;
  if (!h || h.slo.verdict === "Ok" || h.consumed < level) return "";
  return `; ${h.slo.name} has no verdict now and last consumed ${percent(h.consumed)}, which still counts`;
}

export const levels = (policy: Policy) => ({
  warn: threshold(policy.warnAt),
  freeze: threshold(policy.freezeAt),
  rollback: threshold(policy.rollbackAt),
  unfreeze: threshold(policy.unfreezeBelow),
});
