import type { ProfileSpec } from "../api/profile.ts";
import type { Condition } from "../api/status.ts";
import { decide, type DeploymentFacts, type PolicyAction } from "../policy/index.ts";
import type { Measurements } from "../slo/types.ts";
import { profileDetail, summarize, type ProfileSummary } from "./status-view.ts";

/**
 * `kubectl tollgate evaluate`: the budget policy's own decision (policy/decide.ts) on a measurement
 * taken now, for a profile that is only a file. Pure: the shell reads Prometheus.
 */

/** What Prometheus could not answer for an SLO, as the reader words it (slo-reader's SloProblem). */
export interface EvaluationProblem {
  slo: string;
  reason: string;
  field?: string;
  message: string;
}

export interface Evaluation {
  /** The status the policy would write, read as `status` reads a profile. */
  profile: ProfileSummary;
  conditions: Array<Pick<Condition, "type" | "status" | "reason" | "message">>;
  /** What the policy asks for, in order: Deployment actions, then events, then notifications. */
  actions: PolicyAction[];
  rollbackSkipped: string | null;
  /** Why no SLO has a verdict (Prometheus did not answer); null when it answered. */
  measurementError: string | null;
  problems: EvaluationProblem[];
  /** What a file cannot tell and the evaluation therefore assumes. */
  assumptions: string[];
}

/**
 * The target as the evaluation assumes it: running one revision, rolled out, not paused or frozen, so
 * a freeze shows as the action it would be. Its one revision is also the only one there is, so the
 * policy finds no last known good revision to roll back to, which is true of a profile with no history.
 */
export const ASSUMED_DEPLOYMENT: DeploymentFacts = {
  revision: 1,
  templateHash: "live",
  rolloutComplete: true,
  paused: false,
  frozen: false,
  revisions: [{ revision: 1, templateHash: "live" }],
};

export const ASSUMPTIONS = [
  "No history: the profile starts with no status, so a profile already frozen in the cluster stays frozen until consumption falls below policy.unfreezeBelow, which this evaluation cannot see.",
  "No last known good revision: only the operator's status records one, so at policy.rollbackAt the decision is RollbackSkipped (NoLastKnownGood) where the operator may roll back.",
  "The target Deployment runs one revision, rolled out and not frozen; no override annotation.",
  "Direct queries at the evaluation time, every window read raw, as an operator in Direct mode reads them.",
];

export function evaluate(input: {
  namespace: string;
  name: string;
  spec: ProfileSpec;
  measurements: Measurements;
  problems: readonly EvaluationProblem[];
  now: Date;
}): Evaluation {
  const decision = decide({
    profile: { namespace: input.namespace, name: input.name },
    spec: input.spec,
    status: undefined,
    measurements: input.measurements,
    deployment: ASSUMED_DEPLOYMENT,
    override: undefined,
    generation: undefined,
    now: input.now,
  });
  return {
    profile: summarize({ metadata: { namespace: input.namespace, name: input.name }, spec: input.spec, status: decision.status }, input.now),
    conditions: (decision.status.conditions ?? []).map(({ type, status, reason, message }) => ({ type, status, reason, message })),
    actions: decision.actions,
    rollbackSkipped: decision.rollbackSkipped ?? null,
    measurementError: input.measurements.error ?? null,
    problems: [...input.problems],
    assumptions: ASSUMPTIONS,
  };
}

function actionText(a: PolicyAction, target: string): string {
  switch (a.action) {
    case "freeze":
      return `freeze Deployment ${target} (${a.reason}): ${a.message}`;
    case "unfreeze":
      return `unfreeze Deployment ${target}: ${a.message}`;
    case "rollback":
      return `roll Deployment ${target} back from revision ${a.fromRevision} to ${a.toRevision}`;
    case "event":
      return `event ${a.type} ${a.reason}: ${a.message}`;
    case "notify":
      return `notify ${a.event} (${a.severity}): ${a.summary}`;
  }
}

/** The evaluation in words: the profile and SLO lines `status` prints, then the actions and conditions. */
export function evaluationText(e: Evaluation, target: string, now: Date): string {
  const lines: string[] = [];
  if (e.measurementError !== null) lines.push(`Prometheus did not answer: ${e.measurementError}`, "");
  lines.push(profileDetail(e.profile, now).trimEnd(), "");
  if (e.problems.length > 0) {
    lines.push("No verdict:");
    for (const p of e.problems) lines.push(`  ${p.slo}: ${p.reason}${p.field ? ` (${p.field})` : ""}: ${p.message}`);
    lines.push("");
  }
  lines.push("Tollgate would:");
  if (e.actions.length === 0) lines.push("  nothing: no action is due");
  for (const a of e.actions) lines.push(`  ${actionText(a, target)}`);
  lines.push("", "Conditions:");
  for (const c of e.conditions) lines.push(`  ${c.type}=${c.status} ${c.reason}: ${c.message}`);
  lines.push("", "Assumed:");
  for (const a of e.assumptions) lines.push(`  - ${a}`);
  return `${lines.join("\n")}\n`;
}
