import { parseDuration, timerDelay } from "../../api/duration.ts";
import type { ProfileSpec } from "../../api/profile.ts";
import type { ProfileStatus } from "../../api/status.ts";
import { findCondition, setCondition } from "../../api/conditions.ts";
import { servingState } from "../../canary/facts.ts";
import { FINALIZER } from "../../kube/labels.ts";
import { decide, type PolicyAction } from "../../policy/index.ts";
import type { Measurements } from "../../slo/types.ts";
import { primaryName, SOURCE_HASH_ANNOTATION } from "../../traffic/index.ts";
import { deploymentState } from "../../workload/deployment.ts";
import type { Action } from "../../kube/actuators/actions.ts";
import { untilSlot } from "./cadence.ts";
import { claimedMessage } from "./claim.ts";
import { appendOutbox, outboxEntries, withOutbox, type Signal } from "./outbox.ts";
import { frozenByProfile, planRelease } from "./plan-release.ts";
import { planTraffic, POLL_SOON_MS } from "./plan-traffic.ts";
import type { Snapshot } from "./snapshot.ts";
import { refusedStatus } from "./spec-problem.ts";

/** One pass's decision: the status to record first, then the actions to carry out in order. */
export interface Plan {
  /** The whole next status, its outbox holding every event and notification not yet carried out. */
  status: ProfileStatus;
  actions: Action[];
  /** When to look again; undefined when only a change should bring the profile back. */
  requeueAfterMs?: number;
}

/**
 * The pure heart of a pass: the budget policy, the canary, the traffic policy, autoscaling and the
 * hand-back of a Deployment, decided together from one snapshot. Its signals go to the outbox, so
 * they are recorded before anything is done and told once however often the pass is repeated.
 */
export function plan(s: Snapshot, now: Date): Plan {
  if (s.deleting) return planDeletion(s, now);
  const finalizer: Action[] = hasFinalizer(s) ? [] : [{ kind: "finalizer", op: "add" }];
  if (!s.spec) {
    // Refused by validation: only an edit of the spec, which brings the profile back, can cure it.
    const problem = s.problem ?? { field: "spec", message: "missing" };
    return refused(s, problem.reason ?? "InvalidSpec", `${problem.field}: ${problem.message}`, finalizer, now);
  }
  const spec = s.spec;
  // How soon the periodic pass comes: on the profile's slot of its interval (cadence.ts).
  const periodic = untilSlot(`${s.namespace}/${s.name}`, timerDelay(parseDuration(spec.policy.evaluationInterval)), now.getTime());
  if (s.problem) {
    // A route out of the tenant's scope comes down at once: the operator may have written it before
    // its allowed hosts or gateways were narrowed.
    const outOfScope = s.problem.reason === "HostNotAllowed" || s.problem.reason === "GatewayNotAllowed";
    const routes: Action[] = outOfScope ? s.owned.virtualServices.map((vs) => ({ kind: "istio", op: "delete", resource: "VirtualService", name: vs.metadata.name })) : [];
    // Otherwise refused by Prometheus or the operator's checks, whose answers may change: look again.
    return { ...refused(s, s.problem.reason ?? "InvalidSpec", `${s.problem.field}: ${s.problem.message}`, [...finalizer, ...routes], now), requeueAfterMs: periodic };
  }
  if (s.claimedBy) {
    const release = planRelease(s, spec.targetRef.name, { ownedObjects: true });
    const p = refused(s, "TargetClaimed", claimedMessage(s.namespace, spec.targetRef.name, s.claimedBy), [...finalizer, ...release.actions], now);
    return { ...p, requeueAfterMs: release.done ? periodic : POLL_SOON_MS };
  }
  if (!s.measurements) return { status: s.profile.status ?? {}, actions: finalizer, requeueAfterMs: periodic };
  return planGoverning(s, spec, s.measurements, periodic, finalizer, now);
}

function planGoverning(s: Snapshot, spec: ProfileSpec, measurements: Measurements, periodic: number, finalizer: Action[], now: Date): Plan {
  const prev = s.profile.status ?? {};
  const target = spec.targetRef.name;
  // A profile whose targetRef moved hands its former Deployment back first, then records the new one.
  const former = prev.target !== undefined && prev.target !== target ? planRelease(s, prev.target, { ownedObjects: false }) : undefined;

  const deployment = s.deployments.get(target);
  const primary = spec.canary ? s.deployments.get(primaryName(target)) : undefined;
  const state = deployment ? servingState(deploymentState(deployment, s.replicaSets), primary) : undefined;
  const decision = decide({
    profile: { namespace: s.namespace, name: s.name },
    spec,
    status: prev,
    measurements,
    // Only this profile's own freeze is one it may lift.
    deployment: state ? { ...state, frozen: frozenByProfile(deployment, s.name) } : undefined,
    override: s.override,
    generation: s.profile.metadata?.generation,
    now,
  });
  const budget = policyActions(decision.actions, spec, s);
  const traffic = planTraffic(s, spec, measurements, decision.status, now);
  const released = former?.done ? [{ action: "event", type: "Normal", reason: "TargetReleased", message: `${prev.target} is handed back; ${s.name} now governs ${target}.` } satisfies Signal] : [];
  const signals = [...budget.signals, ...traffic.signals, ...released];
  const recorded = former && !former.done ? prev.target : target;
  const status = withOutbox({ ...traffic.status, target: recorded }, appendOutbox(prev, outboxEntries(s.profile.metadata?.uid ?? "", now, signals)));
  const requeue = Math.min(periodic, traffic.requeueAfterMs ?? periodic, former && !former.done ? POLL_SOON_MS : periodic);
  return {
    status,
    actions: [...finalizer, ...(former?.actions ?? []), ...rulesActions(s), ...budget.actions, ...traffic.actions],
    requeueAfterMs: requeue,
  };
}

/**
 * The profile's recording rules, when it is read from them. With tiles on, a window is summed from
 * tiles once they cover it; while Prometheus cannot say how far they reach, the rules are left as they
 * are (nothing is recorded then anyway).
 */
function rulesActions(s: Snapshot): Action[] {
  if (!s.recordingRules) return [];
  if (!s.tiles) return [{ kind: "rules", op: "ensure" }];
  if (!s.tiles.coverageMs) return [];
  return [{ kind: "rules", op: "ensure", tiles: { tile: s.tiles.tile, coverageMs: s.tiles.coverageMs } }];
}

/** The policy's actions on the target as actuator actions, and its events and notifications as signals. */
function policyActions(actions: readonly PolicyAction[], spec: ProfileSpec, s: Snapshot): { actions: Action[]; signals: Signal[] } {
  const target = spec.targetRef.name;
  const out: Action[] = [];
  const signals: Signal[] = [];
  for (const a of actions) {
    switch (a.action) {
      case "freeze":
        out.push({ kind: "deployment", op: "freeze", name: target, reason: a.reason, message: a.message });
        break;
      case "unfreeze":
        out.push({ kind: "deployment", op: "unfreeze", name: target, message: a.message });
        break;
      case "rollback": {
        // In canary mode the pods serving traffic are primary's: the last known good template goes to
        // them directly, not through a canary (which the rollback's freeze would not start anyway).
        const primary = spec.canary ? s.deployments.get(primaryName(target)) : undefined;
        const toPrimary = primary && primary.metadata?.annotations?.[SOURCE_HASH_ANNOTATION] !== a.toTemplateHash;
        out.push({
          kind: "deployment",
          op: "rollback",
          name: target,
          toTemplateHash: a.toTemplateHash,
          toRevision: a.toRevision,
          fromRevision: a.fromRevision,
          ...(toPrimary ? { primary: primaryName(target) } : {}),
        });
        break;
      }
      case "event":
      case "notify":
        signals.push(a);
        break;
    }
  }
  return { actions: out, signals };
}

/**
 * A deleted profile's passes: hand the Deployment back (see planRelease), then remove the recording
 * rules and the finalizer, which lets the profile go. Until then the profile says Terminating.
 */
function planDeletion(s: Snapshot, now: Date): Plan {
  const prev = s.profile.status ?? {};
  if (!hasFinalizer(s)) return { status: prev, actions: [] };
  const target = prev.target ?? s.spec?.targetRef.name ?? s.profile.spec?.targetRef?.name;
  const release = target ? planRelease(s, target, { ownedObjects: true }) : { actions: [], done: true, message: "No Deployment to hand back." };
  const generation = s.profile.metadata?.generation;
  const conditions = setCondition(prev.conditions, { type: "Ready", status: "False", reason: "Terminating", message: release.message }, generation, now);
  const told = findCondition(prev.conditions, "Ready")?.reason === "Terminating";
  const signals: Signal[] = [
    ...(told ? [] : [{ action: "event", type: "Normal", reason: "Terminating", message: `Handing ${target ?? "the Deployment"} back before the profile goes.` } as const]),
    ...(release.done && target ? [{ action: "event", type: "Normal", reason: "TargetReleased", message: `${target} is handed back: no freeze, no canary routes, no objects of this profile.` } as const] : []),
  ];
  const status = withOutbox({ ...prev, phase: "Terminating", conditions }, appendOutbox(prev, outboxEntries(s.profile.metadata?.uid ?? "", now, signals)));
  if (!release.done) return { status, actions: release.actions, requeueAfterMs: POLL_SOON_MS };
  return { status, actions: [{ kind: "rules", op: "remove" }, { kind: "finalizer", op: "remove" }] };
}

/** A profile Tollgate will not act on: Ready=False with `reason`, everything else kept, a Warning event once. */
function refused(s: Snapshot, reason: string, message: string, actions: Action[], now: Date): Plan {
  const prev = s.profile.status ?? {};
  const next = refusedStatus(s.profile, reason, message, now);
  const before = findCondition(prev.conditions, "Ready");
  const signals: Signal[] = before?.reason === reason && before.message === message ? [] : [{ action: "event", type: "Warning", reason, message }];
  return { status: withOutbox(next, appendOutbox(prev, outboxEntries(s.profile.metadata?.uid ?? "", now, signals))), actions };
}

function hasFinalizer(s: Snapshot): boolean {
  return s.profile.metadata?.finalizers?.includes(FINALIZER) ?? false;
}
