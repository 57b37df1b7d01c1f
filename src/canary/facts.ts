import { deploymentState, rolloutComplete, type Deployment, type DeploymentState, type ReplicaSet } from "../workload/deployment.ts";
import { CANARY, SOURCE_HASH_ANNOTATION, SOURCE_REVISION_ANNOTATION, TRACK_LABEL } from "../traffic/labels.ts";
import { parseDuration } from "../api/duration.ts";
import type { CanarySpec, CanaryStatus, WorkloadFacts } from "./types.ts";

/** Ready pods of the Deployment's current template: none until the controller has seen the spec. */
function readyOfCurrent(d: Deployment): number {
  const s = d.status ?? {};
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return 0;
  return Math.min(s.updatedReplicas ?? 0, s.readyReplicas ?? 0);
}

function counts(d: Deployment): Omit<WorkloadFacts, "templateHash"> {
  return { desiredReplicas: d.spec?.replicas ?? 1, readyReplicas: readyOfCurrent(d), rolloutComplete: rolloutComplete(d) };
}

/**
 * The target as the step machine sees it, or why it cannot yet: its newest ReplicaSet must exist and
 * carry the canary track label, else the subsets would not find its pods.
 */
export function targetFacts(
  target: Deployment,
  replicaSets: readonly ReplicaSet[],
): { ok: true; facts: WorkloadFacts & { revision: number } } | { ok: false; message: string } {
  // Until the Deployment controller has seen the spec, its status describes the template before it:
  // judging the canary's pods on it would count a freshly pushed revision's pods as not ready.
  const generation = target.metadata?.generation ?? 0;
  const observed = target.status?.observedGeneration ?? 0;
  if (observed < generation) {
    return { ok: false, message: `the Deployment controller has not yet observed generation ${generation} of ${target.metadata?.name ?? "the target"} (it reports ${observed})` };
  }
  const state = deploymentState(target, replicaSets);
  const rs = replicaSets.find((r) => r.metadata?.name === state.revisions.find((v) => v.revision === state.revision)?.replicaSet);
  if (!state.templateHash || !rs) {
    return { ok: false, message: `${state.name} has no ReplicaSet for its current template yet${state.paused ? " (it is paused)" : ""}` };
  }
  if (rs.spec?.template?.metadata?.labels?.[TRACK_LABEL] !== CANARY) {
    return { ok: false, message: `${state.name}'s pod template is being labelled ${TRACK_LABEL}=${CANARY}${state.paused ? "; it is paused, so the label waits for the freeze to lift" : ""}` };
  }
  return { ok: true, facts: { ...counts(target), templateHash: state.templateHash, revision: state.revision } };
}

/** `<name>-primary` as the step machine sees it: its template hash is the target's it was copied from. */
export function primaryFacts(primary: Deployment): WorkloadFacts {
  return { ...counts(primary), templateHash: primary.metadata?.annotations?.[SOURCE_HASH_ANNOTATION] ?? "" };
}

/** Whether the target's pod template carries the canary track label (the shell adds it once). */
export function hasCanaryTrack(target: Deployment): boolean {
  return target.spec?.template?.metadata?.labels?.[TRACK_LABEL] === CANARY;
}

/**
 * Whether a check is due, so the shell reads the canary's numbers only then: a canary is running on
 * the target's current template with traffic, and an interval has passed since its last check.
 */
export function checkDue(canary: CanarySpec, status: CanaryStatus | undefined, targetHash: string, now: Date): boolean {
  if (status?.phase !== "Progressing" || status.templateHash !== targetHash || status.step < 1) return false;
  const last = status.lastCheck === undefined ? Number.NaN : Date.parse(status.lastCheck);
  return Number.isFinite(last) && last + parseDuration(canary.interval) <= now.getTime();
}

/**
 * What the budget policy should see as live in canary mode: the revision primary serves (every request
 * but the canary's share), not the target's newest template, which is only a canary until promoted.
 * Otherwise a revision would become last known good while still a canary, and a rollback of a promoted
 * revision would find nothing to return to. Paused, frozen and the revisions to roll back to stay the
 * target's: it is the Deployment the freeze and a rollback write to. Without primary yet, the target
 * serves everything.
 */
export function servingState(target: DeploymentState, primary: Deployment | undefined): DeploymentState {
  const hash = primary?.metadata?.annotations?.[SOURCE_HASH_ANNOTATION];
  if (!primary || !hash) return target;
  const revision = Number(primary.metadata?.annotations?.[SOURCE_REVISION_ANNOTATION]);
  return {
    ...target,
    revision: Number.isInteger(revision) ? revision : target.revision,
    templateHash: hash,
    rolloutComplete: rolloutComplete(primary),
  };
}
