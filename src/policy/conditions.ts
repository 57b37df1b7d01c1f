import { ignoredAnnotation } from "../api/annotation-value.ts";
import type { ProfileStatus } from "../api/status.ts";
import { findCondition, setCondition, type Condition, type ConditionInput } from "../api/conditions.ts";
import type { BudgetView } from "./budget.ts";
import { BUDGET_HEALTHY, DEPLOYMENTS_FROZEN, METRICS_AVAILABLE, READY, ROLLBACK_SKIPPED, ROLLED_BACK } from "./condition-names.ts";
import type { PolicyInput } from "./input.ts";
import type { FreezeStatus } from "./freeze.ts";
import { budgetText, consumedText, heldText, levels, noDataStance } from "./messages.ts";
import { OVERRIDE_ANNOTATION, type FreezeOverride } from "./override.ts";
import type { SkipCause } from "./rollback.ts";

export interface ConditionFacts {
  input: PolicyInput;
  prev: ProfileStatus;
  view: BudgetView;
  freeze: FreezeStatus | undefined;
  override: FreezeOverride | undefined;
  enforced: boolean;
  rolledBack: boolean;
  rollingBack: boolean;
  rollback: ProfileStatus["rollback"];
  skip: { cause: SkipCause; message: string } | undefined;
  target: string;
}

/**
 * The policy's conditions, each a sentence with the numbers. Reasons change only when the state does;
 * messages follow the numbers every cycle and are written with the next meaningful write.
 */
export function nextConditions(f: ConditionFacts): Condition[] {
  const { input, prev, view, freeze, target } = f;
  const policy = input.spec.policy;
  const lv = levels(policy);
  let list: Condition[] = [...(prev.conditions ?? [])];
  const set = (type: string, status: ConditionInput["status"], reason: string, message: string) => {
    list = setCondition(list, { type, status, reason, message }, input.generation, input.now);
  };
  // Without data the budget's conditions keep what they said, so no transition (and no notification)
  // can come out of a gap; only a first reconcile without data says Unknown.
  const hold = (type: string) => {
    if (!findCondition(list, type)) set(type, "Unknown", "NoData", "No SLO has a verdict yet.");
  };

  // Ready
  if (!input.deployment) {
    set(READY, "False", "TargetNotFound",
      `Deployment ${target} was not found in namespace ${input.profile.namespace}; the policy cannot act on it.`);
  } else if (view.noData) {
    set(READY, "False", "MetricsUnavailable", `The error-budget policy cannot be evaluated without SLO verdicts; ${noDataStance(policy)}.`);
  } else {
    set(READY, "True", "Reconciled", "The profile is valid and Tollgate is reconciling it.");
  }

  // MetricsAvailable
  const missing = view.slos.filter((s) => s.verdict !== "Ok");
  const describe = (s: (typeof view.slos)[number]) => {
    const events = input.measurements.slos.find((x) => x.name === s.name)?.events;
    return s.verdict === "InsufficientData"
      ? `${s.name} has ${events ?? "too few"} events, fewer than minEvents ${policy.minEvents}`
      : `${s.name} has no data`;
  };
  if (view.error !== undefined) {
    set(METRICS_AVAILABLE, "False", "PrometheusUnavailable", `Prometheus could not be queried (${view.error}); ${noDataStance(policy)}.`);
  } else if (view.noData) {
    const reason = missing.every((s) => s.verdict === "InsufficientData") ? "InsufficientData" : "NoData";
    set(METRICS_AVAILABLE, "False", reason, `No SLO has a verdict (${missing.map(describe).join("; ")}); ${noDataStance(policy)}.`);
  } else if (missing.length) {
    set(METRICS_AVAILABLE, "True", "PartialData",
      `${view.slos.length - missing.length} of ${view.slos.length} SLOs have a verdict (${missing.map(describe).join("; ")}); the policy acts on the others.`);
  } else {
    set(METRICS_AVAILABLE, "True", "Measured", `All ${view.slos.length} SLOs have a verdict.`);
  }

  // BudgetHealthy: False from warnAt until the incident is over, which for a frozen profile is the unfreeze.
  const worst = view.worst;
  if (view.noData || !worst) {
    hold(BUDGET_HEALTHY);
  } else {
    const c = worst.consumed;
    const wasLow = findCondition(prev.conditions, BUDGET_HEALTHY)?.status === "False";
    if (c >= policy.freezeAt) {
      set(BUDGET_HEALTHY, "False", "BudgetExhausted", `${consumedText(worst)} (freeze at ${lv.freeze}).`);
    } else if (c >= policy.warnAt || (wasLow && (view.held?.consumed ?? c) >= policy.warnAt)) {
      set(BUDGET_HEALTHY, "False", "BudgetLow",
        `${consumedText(worst)} (warn at ${lv.warn}, freeze at ${lv.freeze})${heldText(view, policy.warnAt)}.`);
    } else if (freeze) {
      set(BUDGET_HEALTHY, "False", "BudgetRecovering",
        `${consumedText(worst)}; rollouts stay frozen until it is below ${lv.unfreeze}${heldText(view, policy.unfreezeBelow)}.`);
    } else {
      set(BUDGET_HEALTHY, "True", "WithinBudget", `${consumedText(worst)} (warn at ${lv.warn}).`);
    }
  }

  // DeploymentsFrozen: whether rollouts are blocked now, and why.
  const budget = budgetText(view, freeze);
  const o = input.override;
  if (f.enforced && freeze) {
    const frozenSince = `Rollouts of Deployment ${target} are frozen since ${freeze.since}`;
    if (o && !o.ok) {
      set(DEPLOYMENTS_FROZEN, "True", "OverrideInvalid",
        `${ignoredAnnotation(OVERRIDE_ANNOTATION, o.problem)} ${frozenSince}: ${budget}.`);
    } else if (o?.ok) {
      set(DEPLOYMENTS_FROZEN, "True", "OverrideExpired",
        `The freeze override by ${o.override.by} (${o.override.reason}) expired at ${o.override.expires}. ${frozenSince}: ${budget}.`);
    } else if (freeze.reason === "NoData") {
      set(DEPLOYMENTS_FROZEN, "True", "NoData",
        `${frozenSince} because no SLO has a verdict (onNoData Freeze); they resume when data returns and the budget allows.`);
    } else {
      set(DEPLOYMENTS_FROZEN, "True", "BudgetExhausted",
        `${frozenSince}: ${budget} (freeze at ${lv.freeze}); they resume below ${lv.unfreeze}.`);
    }
  } else if (freeze && f.override) {
    set(DEPLOYMENTS_FROZEN, "False", "FreezeOverridden",
      `${f.override.by} overrides the freeze until ${f.override.expires} (${f.override.reason}): rollouts of Deployment ${target} are allowed although ${budget}.`);
  } else {
    // A reason tells the last transition, so a lifted freeze says Unfrozen until the next one.
    const df0 = findCondition(prev.conditions, DEPLOYMENTS_FROZEN);
    const lifted = df0 !== undefined && (df0.status === "True" || df0.reason === "Unfrozen" || df0.reason === "FreezeOverridden");
    const justLifted = df0 !== undefined && (df0.status === "True" || df0.reason === "FreezeOverridden");
    const message = view.noData
      ? `Rollouts of Deployment ${target} are allowed; no SLO has a verdict and ${noDataStance(policy)}.`
      : justLifted
        ? `Rollouts of Deployment ${target} are allowed again: ${budget}${worst && worst.consumed < policy.unfreezeBelow ? `, below the unfreeze level of ${lv.unfreeze}` : ""}.`
        : `Rollouts of Deployment ${target} are allowed: ${budget} (freeze at ${lv.freeze}).`;
    set(DEPLOYMENTS_FROZEN, "False", lifted ? "Unfrozen" : "NotFrozen", message);
  }

  // RolledBack and RollbackSkipped
  const rb = f.rollback;
  if (f.rolledBack && rb) {
    const progress = f.rollingBack ? "the rollout is in progress" : "the rollout is complete";
    set(ROLLED_BACK, "True", "RolledBack",
      `Tollgate rolled Deployment ${target} back from revision ${rb.from} to the last known good revision ${rb.revision} at ${rb.at}; ${progress}.`);
    set(ROLLBACK_SKIPPED, "False", "RolledBack", `Tollgate rolled back at ${rb.at} and rolls back at most once until the freeze lifts.`);
  } else {
    set(ROLLED_BACK, "False", "NotRolledBack", "No rollback is in effect for the current budget incident.");
    if (f.skip) set(ROLLBACK_SKIPPED, "True", f.skip.cause, f.skip.message);
    else if (view.noData || !worst) hold(ROLLBACK_SKIPPED);
    else set(ROLLBACK_SKIPPED, "False", "BelowRollbackThreshold", `${consumedText(worst)}, below the rollback level of ${lv.rollback}.`);
  }
  return list;
}
