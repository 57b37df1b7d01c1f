import { parseDuration } from "../api/duration.ts";
import type { Policy } from "../api/policy.ts";
import { burningNow, CONFIRM_ROLE, SHORT_ROLE, type BudgetView, type SloView } from "./budget.ts";
import { revisionWithTemplate, type DeploymentFacts } from "./deployment.ts";
import { percent, rate, threshold } from "./format.ts";
import type { RevisionRecord } from "./last-known-good.ts";
import { MAX_OUTAGE_SHARE } from "./outage.ts";
import type { FreezeOverride } from "./override.ts";

/** Why a rollback due at rollbackAt did not happen; the RollbackSkipped condition's reason. */
export const SKIP_CAUSES = [
  "TargetNotFound",
  "RollbackDisabled",
  "OverrideActive",
  "NoLastKnownGood",
  "LiveRevisionUnknown",
  "LiveIsLastKnownGood",
  "LastKnownGoodUnavailable",
  "LiveNotNewer",
  "PrometheusOutage",
  "NotBurningNow",
] as const;
export type SkipCause = (typeof SKIP_CAUSES)[number];

export type RollbackVerdict =
  | { kind: "rollback"; to: { revision: number; templateHash: string }; from: number; trigger: SloView; message: string }
  | { kind: "skip"; cause: SkipCause; message: string };

export interface RollbackFacts {
  view: BudgetView;
  policy: Policy;
  deployment: DeploymentFacts | undefined;
  lastKnownGood: RevisionRecord | undefined;
  override: FreezeOverride | undefined;
  target: string;
  /** The share of the trigger SLO's window a Prometheus outage may have left without samples. */
  outage?: { share: (windowMs: number) => number; from: string; to?: string };
}

const burns = (s: SloView) => `${SHORT_ROLE}-window ${rate(s.burn[SHORT_ROLE] ?? 0)}, ${CONFIRM_ROLE}-window ${rate(s.burn[CONFIRM_ROLE] ?? 0)}`;

/**
 * Judges a rollback for an incident that has reached rollbackAt and has not rolled back yet. The
 * preconditions are checked in a fixed order and the first that fails is the one reported, so the
 * RollbackSkipped reason is stable from cycle to cycle; PrometheusOutage and NotBurningNow come last
 * because they are the ones that change by themselves.
 */
export function judgeRollback(f: RollbackFacts): RollbackVerdict {
  const { view, policy, deployment: d, lastKnownGood: lkg, target } = f;
  const over = view.slos.filter((s) => s.consumed !== undefined && s.consumed >= policy.rollbackAt);
  const trigger = over.find(burningNow) ?? view.worst;
  if (!trigger || trigger.consumed === undefined) throw new Error("judgeRollback needs an SLO at rollbackAt");
  const lead = `${trigger.name} consumed ${percent(trigger.consumed)} of its ${trigger.window} budget (roll back at ${threshold(policy.rollbackAt)})`;
  const skip = (cause: SkipCause, why: string): RollbackVerdict => ({ kind: "skip", cause, message: `${lead}, but ${why}` });

  if (!d) return skip("TargetNotFound", `Deployment ${target} does not exist.`);
  if (!policy.rollback.enabled) {
    return skip("RollbackDisabled", "policy.rollback.enabled is false, so rollouts stay frozen and the rollback is left to people.");
  }
  if (f.override) {
    return skip("OverrideActive",
      `${f.override.by} overrides the freeze until ${f.override.expires}, so Tollgate leaves Deployment ${target} to them.`);
  }
  if (!lkg) {
    return skip("NoLastKnownGood",
      `no revision of Deployment ${target} has run healthy for ${policy.stableAfter} (policy.stableAfter) yet, so there is no last known good revision to return to.`);
  }
  if (d.templateHash === undefined) {
    return skip("LiveRevisionUnknown",
      `the live revision ${d.revision} has no ReplicaSet yet, so Tollgate cannot tell it from the last known good one.`);
  }
  if (d.templateHash === lkg.templateHash) {
    return skip("LiveIsLastKnownGood",
      `the live revision ${d.revision} is the last known good one (pod-template-hash ${lkg.templateHash}), so a rollback would change nothing.`);
  }
  const to = revisionWithTemplate(d, lkg.templateHash);
  if (!to) {
    return skip("LastKnownGoodUnavailable",
      `the ReplicaSet of the last known good revision ${lkg.revision} (pod-template-hash ${lkg.templateHash}) is gone, so there is nothing to return to (raise the Deployment's revisionHistoryLimit).`);
  }
  if (d.revision <= to.revision) {
    return skip("LiveNotNewer", `the live revision ${d.revision} is not newer than the last known good revision ${to.revision}.`);
  }
  const gap = f.outage?.share(parseDuration(trigger.window)) ?? 0;
  if (f.outage && gap > MAX_OUTAGE_SHARE) {
    return skip("PrometheusOutage",
      `Prometheus could not be queried from ${f.outage.from}${f.outage.to ? ` to ${f.outage.to}` : " on"}, which may leave ${percent(100 * gap)} of the ${trigger.window} window without samples; the rollback waits until that is under ${percent(100 * MAX_OUTAGE_SHARE)}, since the numbers then cover only part of it.`);
  }
  if (!burningNow(trigger)) {
    return skip("NotBurningNow",
      `it is not burning now (${burns(trigger)}; a rollback needs both above 1), so the damage is past and a rollback would not help.`);
  }
  return {
    kind: "rollback",
    to: { revision: to.revision, templateHash: to.templateHash },
    from: d.revision,
    trigger,
    message: `Rolling Deployment ${target} back from revision ${d.revision} to the last known good revision ${to.revision}: ${lead} and is still burning (${burns(trigger)}).`,
  };
}
