import { parseDuration } from "../api/duration.ts";
import type { Phase, ProfileStatus } from "../api/status.ts";
import { findCondition } from "../api/conditions.ts";
import type { PolicyAction, RollbackAction } from "./actions.ts";
import type { PolicyDecision, PolicyInput } from "./input.ts";
import { budgetStatus, readBudget, sloStatuses, type BudgetView } from "./budget.ts";
import { BUDGET_HEALTHY, DEPLOYMENTS_FROZEN } from "./condition-names.ts";
import { nextConditions } from "./conditions.ts";
import { revisionWithTemplate } from "./deployment.ts";
import { nextFreeze, type FreezeStatus } from "./freeze.ts";
import { health, trackLastKnownGood } from "./last-known-good.ts";
import { budgetText, levels } from "./messages.ts";
import { nextOutage, outageShare } from "./outage.ts";
import { overrideActive } from "./override.ts";
import { judgeRollback, type SkipCause } from "./rollback.ts";
import { signals } from "./signals.ts";


/**
 * The error-budget policy, a pure function of its input: the same input gives the same output, and
 * everything it must remember is in the status it returns (since-times, last known good, candidate,
 * freeze, override, rollback), so an operator restarted with that status carries on exactly.
 */
export function decide(input: PolicyInput): PolicyDecision {
  const { spec, measurements, deployment: d, now, generation } = input;
  const policy = spec.policy;
  const prev: ProfileStatus = input.status ?? {};
  const target = spec.targetRef.name;
  const view = readBudget(spec, prev, measurements);
  const outage = nextOutage(prev.prometheusOutage, view, now);
  const override = overrideActive(input.override, now) ? input.override.override : undefined;

  const budgetFreeze = nextFreeze(prev.freeze, view, policy, now);
  const freeze: FreezeStatus | undefined = budgetFreeze && override ? { ...budgetFreeze, override } : budgetFreeze;
  const enforced = freeze !== undefined && override === undefined;

  const tracked = trackLastKnownGood(
    { ...(prev.lastKnownGood ? { lastKnownGood: prev.lastKnownGood } : {}), ...(prev.candidate ? { candidate: prev.candidate } : {}) },
    d,
    health(view, policy),
    policy,
    now,
  );
  const lkg = tracked.lastKnownGood;

  // A rollback in flight runs to completion (or until a human takes over with an override); its write is
  // repeated until the Deployment carries the target template, which the shell treats as a no-op.
  let rollingBack = false;
  let rollbackAction: RollbackAction | undefined;
  if (prev.phase === "RollingBack" && d && lkg) {
    if (d.templateHash === lkg.templateHash) rollingBack = !d.rolloutComplete;
    else if (!override) {
      rollingBack = true;
      const to = revisionWithTemplate(d, lkg.templateHash);
      if (to) rollbackAction = { action: "rollback", toRevision: to.revision, toTemplateHash: to.templateHash, fromRevision: d.revision };
    }
  }

  // Once per incident: a rollback recorded since the freeze began blocks any other until the freeze lifts.
  let rollback = prev.rollback;
  const rolledBackBefore = inIncident(rollback, freeze);
  let skip: { cause: SkipCause; message: string } | undefined;
  let rollbackMessage: string | undefined;
  if (!view.noData && view.worst && view.worst.consumed >= policy.rollbackAt && !rolledBackBefore && !rollingBack) {
    const margin = parseDuration(policy.evaluationInterval);
    const gap = outage ? { share: (windowMs: number) => outageShare(outage, windowMs, margin, now), ...outage } : undefined;
    const verdict = judgeRollback({ view, policy, deployment: d, lastKnownGood: lkg, override, target, ...(gap ? { outage: gap } : {}) });
    if (verdict.kind === "rollback") {
      rollingBack = true;
      rollback = { revision: verdict.to.revision, from: verdict.from, at: now.toISOString() };
      rollbackAction = { action: "rollback", toRevision: verdict.to.revision, toTemplateHash: verdict.to.templateHash, fromRevision: verdict.from };
      rollbackMessage = verdict.message;
    } else skip = { cause: verdict.cause, message: verdict.message };
  }
  const rolledBack = rollingBack || inIncident(rollback, freeze);

  const conditions = nextConditions({ input, prev, view, freeze, override, enforced, rolledBack, rollingBack, rollback, skip, target });
  const healthy = findCondition(conditions, BUDGET_HEALTHY);

  // The budget's phase; the controller shows a running canary over Healthy and Warning (withCanary).
  const phase: Phase = rollingBack ? "RollingBack" : freeze ? "Frozen" : view.noData ? "Degraded" : healthy?.status === "False" ? "Warning" : "Healthy";

  const budget = budgetStatus(view, prev);
  const status: ProfileStatus = compact({
    ...prev,
    observedGeneration: generation ?? prev.observedGeneration,
    phase,
    budget,
    slos: sloStatuses(spec, prev, measurements),
    lastKnownGood: tracked.lastKnownGood,
    candidate: tracked.candidate,
    freeze,
    rollback,
    prometheusOutage: outage,
    conditions,
  });

  const actions: PolicyAction[] = [];
  if (d) {
    const newRollback = rollbackMessage !== undefined;
    // Label before the rollback resumes the Deployment, so the admission policy guards the rollout too.
    if (enforced && (newRollback ? !d.frozen : !rollingBack && !(d.paused && d.frozen))) {
      const reason = findCondition(conditions, DEPLOYMENTS_FROZEN)?.reason ?? "BudgetExhausted";
      actions.push({ action: "freeze", reason, message: freezeMessage(input, view, freeze) });
    }
    if (rollbackAction) actions.push(rollbackAction);
    if (!enforced && d.frozen) actions.push({ action: "unfreeze", message: findCondition(conditions, DEPLOYMENTS_FROZEN)?.message ?? "" });
  }
  actions.push(
    ...signals({
      input,
      prev,
      next: status,
      view,
      rolledBackMessage: rollbackMessage,
      rollbackCompleted: prev.phase === "RollingBack" && !rollingBack && d !== undefined && d.templateHash === lkg?.templateHash,
      target,
    }),
  );
  return { status, actions, ...(skip ? { rollbackSkipped: skip.cause } : {}) };
}

function inIncident(rollback: ProfileStatus["rollback"], freeze: FreezeStatus | undefined): boolean {
  return rollback !== undefined && freeze !== undefined && Date.parse(rollback.at) >= Date.parse(freeze.since);
}

function freezeMessage(input: PolicyInput, view: BudgetView, freeze: FreezeStatus | undefined): string {
  const { spec } = input;
  const lv = levels(spec.policy);
  const why =
    freeze?.reason === "NoData"
      ? "no SLO has a verdict (onNoData Freeze); rollouts resume when data returns"
      : `${budgetText(view, freeze)} (freeze at ${lv.freeze}); rollouts resume when it recovers below ${lv.unfreeze}`;
  // The admission policy puts this after "Deployment <name> is frozen by PerformanceProfile <profile>: ".
  return why;
}

/** Drops undefined fields, so a cleared freeze or candidate leaves status rather than being written as null. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
