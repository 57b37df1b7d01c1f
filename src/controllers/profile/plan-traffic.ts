import { parseDuration } from "../../api/duration.ts";
import type { ProfileSpec } from "../../api/profile.ts";
import type { ProfileStatus } from "../../api/status.ts";
import { findCondition, setCondition } from "../../api/conditions.ts";
import { boost, hpaSpec } from "../../autoscaling/index.ts";
import {
  canaryCommandFromAnnotations,
  canaryFreeze,
  reportCommand,
  stepCanary,
  type CanaryAction,
  type CanaryCommandAnnotation,
  type CanaryDecision,
  type WorkloadFacts,
} from "../../canary/index.ts";
import { checkDue, hasCanaryTrack, primaryFacts, targetFacts } from "../../canary/facts.ts";
import { withCanary } from "../../policy/index.ts";
import { destinationRule, primaryName, routedCanaryWeight, scaledDeployment, serviceHost, virtualService } from "../../traffic/index.ts";
import type { Measurements } from "../../slo/types.ts";
import type { Deployment } from "../../workload/deployment.ts";
import type { Action } from "../../kube/actuators/actions.ts";
import type { Signal } from "./outbox.ts";
import type { Snapshot } from "./snapshot.ts";

export const CANARY_PROGRESSING = "CanaryProgressing";
/** How soon a canary that waits on the cluster (pods starting, a label rolling out) is looked at again. */
export const POLL_SOON_MS = 2_000;

export interface TrafficPlan {
  status: ProfileStatus;
  actions: Action[];
  signals: Signal[];
  /** When the canary wants to be looked at again, if sooner than the policy's interval. */
  requeueAfterMs?: number;
}

/**
 * The traffic half of a profile's pass, after the budget policy: the DestinationRule (traffic policy
 * and, with a canary, the subsets), the canary's step (VirtualService weights, `<target>-primary`,
 * replicas) and the HPA with the SLO boost. Objects are asked for in full every pass; their actuators
 * write only what drifted, so a quiet profile costs no writes.
 */
export function planTraffic(s: Snapshot, spec: ProfileSpec, measurements: Measurements, policyStatus: ProfileStatus, now: Date): TrafficPlan {
  const actions: Action[] = [];
  const signals: Signal[] = [];
  const generation = s.profile.metadata?.generation;
  const uid = s.profile.metadata?.uid ?? "";
  let status = policyStatus;
  let requeueAfterMs: number | undefined;

  if (s.istio) {
    const host = serviceHost(spec);
    const wantDr = spec.canary !== undefined || spec.trafficPolicy !== undefined;
    if (wantDr) actions.push({ kind: "istio", op: "apply", object: destinationRule(s.namespace, s.name, spec.trafficPolicy, { subsets: spec.canary !== undefined, host, ownerUid: uid }) });
    // A spec change may rename the Service (guard mode names it after the target) or drop the canary:
    // Tollgate's objects under another name would route the same host twice.
    for (const dr of s.owned.destinationRules) if (!wantDr || dr.metadata.name !== host) actions.push({ kind: "istio", op: "delete", resource: "DestinationRule", name: dr.metadata.name });
    for (const vs of s.owned.virtualServices) if (!spec.canary || vs.metadata.name !== host) actions.push({ kind: "istio", op: "delete", resource: "VirtualService", name: vs.metadata.name });
  }

  if (spec.canary && s.istio) {
    const command = canaryCommandFromAnnotations(s.profile.metadata?.annotations);
    const canary = planCanary(s, spec, policyStatus, command, now);
    // What the annotation cannot do is said on every path, a canary under way or one waiting on the cluster.
    const told = reportCommand(canary.condition, command, findCondition(s.profile.status?.conditions, CANARY_PROGRESSING));
    actions.push(...canary.actions);
    signals.push(...canary.signals, ...told.events);
    status = {
      ...status,
      ...(canary.decision?.status ? { canary: canary.decision.status } : {}),
      phase: withCanary(status.phase ?? "Unknown", canary.active),
      conditions: setCondition(status.conditions, { type: CANARY_PROGRESSING, ...told.condition }, generation, now),
    };
    requeueAfterMs = canary.requeueAfterMs;
  } else if (spec.canary) {
    const message = "spec.canary needs Istio's networking CRDs (networking.istio.io/v1), which this cluster does not serve; no canary runs.";
    status = { ...status, conditions: setCondition(status.conditions, { type: CANARY_PROGRESSING, status: "False", reason: "IstioNotInstalled", message }, generation, now) };
  } else if (status.canary || status.conditions?.some((c) => c.type === CANARY_PROGRESSING)) {
    const { canary: _, ...rest } = status;
    status = { ...rest, conditions: status.conditions?.filter((c) => c.type !== CANARY_PROGRESSING) };
  }

  const autoscaling = planAutoscaler(s, spec, measurements, status);
  actions.push(...autoscaling.actions);
  signals.push(...autoscaling.signals);
  return { status: autoscaling.status, actions, signals, requeueAfterMs };
}

interface CanaryPlan {
  decision?: CanaryDecision;
  actions: Action[];
  signals: Signal[];
  active: boolean;
  condition: { type: string; status: "True" | "False"; reason: string; message: string };
  requeueAfterMs?: number;
}

/** The target's facts when a canary can step on them; the reason it cannot otherwise. */
type Ready = { ok: true; target: Deployment; facts: WorkloadFacts & { revision: number } } | { ok: false; plan: CanaryPlan };

function canaryReady(s: Snapshot, spec: ProfileSpec): Ready {
  const targetName = spec.targetRef.name;
  // A first set-up shows as Initializing from its first step; a canary already under way keeps its
  // recorded state while the cluster catches up (a new ReplicaSet on its way).
  const setUp = s.profile.status?.canary ? undefined : { decision: { status: { phase: "Initializing" as const, weight: 0, step: 0, failedChecks: 0 }, actions: [], requeueAfterMs: POLL_SOON_MS, summary: { active: true, reason: "Initializing", message: "" } } };
  const waiting = (reason: string, message: string, active = true, actions: Action[] = []): Ready => ({
    ok: false,
    plan: {
      ...(active && setUp ? setUp : {}),
      actions,
      signals: [],
      active,
      condition: { type: CANARY_PROGRESSING, status: active ? "True" : "False", reason, message },
      requeueAfterMs: POLL_SOON_MS,
    },
  });
  const target = s.deployments.get(targetName);
  if (!target) return waiting("TargetNotFound", `Deployment ${s.namespace}/${targetName} does not exist; no canary runs.`, false);
  if (!hasCanaryTrack(target)) {
    return waiting("Initializing", `Labelling ${targetName}'s pod template as the canary track.`, true, [{ kind: "deployment", op: "labelTrack", name: targetName }]);
  }
  const facts = targetFacts(target, s.replicaSets);
  if (!facts.ok) return waiting("Initializing", `Waiting: ${facts.message}.`);
  return { ok: true, target, facts: facts.facts };
}

/** Whether the canary's own numbers must be read this pass: a check is due on the target's current template. */
export function canaryCheckDue(s: Snapshot, spec: ProfileSpec, now: Date): boolean {
  if (!spec.canary || !s.istio) return false;
  const ready = canaryReady(s, spec);
  return ready.ok && checkDue(spec.canary, s.profile.status?.canary, ready.facts.templateHash, now);
}

function planCanary(s: Snapshot, spec: ProfileSpec, policyStatus: ProfileStatus, command: CanaryCommandAnnotation | undefined, now: Date): CanaryPlan {
  const ready = canaryReady(s, spec);
  if (!ready.ok) return ready.plan;
  const targetName = spec.targetRef.name;
  const primary = s.deployments.get(primaryName(targetName));
  const decision = stepCanary({
    profile: { namespace: s.namespace, name: s.name },
    spec,
    status: s.profile.status?.canary,
    target: ready.facts,
    primary: primary ? primaryFacts(primary) : undefined,
    canaryMeasurement: s.canaryMeasurement,
    routedWeight: routedCanaryWeight(s.owned.virtualServices.find((vs) => vs.metadata.name === spec.canary!.service.name)),
    frozen: canaryFreeze(policyStatus, now),
    ...(command?.ok ? { command: command.command } : {}),
    now,
  });
  const actions: Action[] = [];
  const signals: Signal[] = [];
  for (const a of decision.actions) {
    const mapped = canaryAction(s, spec, ready, primary, a);
    if (mapped === undefined) continue;
    if ("kind" in mapped) actions.push(mapped);
    else signals.push(mapped);
  }
  const { summary } = decision;
  return {
    decision,
    actions,
    signals,
    active: summary.active,
    condition: { type: CANARY_PROGRESSING, status: summary.active ? "True" : "False", reason: summary.reason, message: summary.message },
    requeueAfterMs: decision.requeueAfterMs,
  };
}

function canaryAction(s: Snapshot, spec: ProfileSpec, ready: Extract<Ready, { ok: true }>, primary: Deployment | undefined, a: CanaryAction): Action | Signal | undefined {
  const targetName = spec.targetRef.name;
  switch (a.action) {
    case "ensurePrimary":
      return primary ? undefined : { kind: "deployment", op: "createPrimary", target: targetName, replicas: a.replicas, templateHash: ready.facts.templateHash, revision: ready.facts.revision };
    case "setWeights":
      return { kind: "istio", op: "apply", object: virtualService(s.namespace, s.name, spec.canary!, { primary: a.primary, canary: a.canary }, s.profile.metadata?.uid ?? "") };
    case "scaleCanary":
      return { kind: "deployment", op: "scale", name: targetName, replicas: a.replicas };
    case "scalePrimary":
      return primary ? { kind: "deployment", op: "scale", name: primaryName(targetName), replicas: a.replicas, onlyUp: true } : undefined;
    case "promote":
      return primary ? { kind: "deployment", op: "promote", target: targetName, primary: primaryName(targetName), templateHash: a.templateHash, revision: a.revision } : undefined;
    case "event":
    case "notify":
      return a;
  }
}

/**
 * The HPA for the scaled Deployment (primary in canary mode, which must exist first) with the SLO
 * boost's CPU target, and status.autoscaling. Without spec.autoscaling Tollgate's HPA is deleted.
 */
function planAutoscaler(s: Snapshot, spec: ProfileSpec, measurements: Measurements, status: ProfileStatus): { status: ProfileStatus; actions: Action[]; signals: Signal[] } {
  const scaled = scaledDeployment(spec);
  // After a switch between guard and canary mode, or a new target, no other HPA is wanted.
  const actions: Action[] = s.owned.hpas
    .filter((h) => !spec.autoscaling || h.metadata.name !== scaled)
    .map((h): Action => ({ kind: "hpa", op: "delete", name: h.metadata.name }));
  if (!spec.autoscaling) {
    if (!status.autoscaling) return { status, actions, signals: [] };
    const { autoscaling: _, ...rest } = status;
    return { status: rest, actions, signals: [] };
  }
  const b = boost({
    autoscaling: spec.autoscaling,
    slos: spec.slos,
    measurements,
    previous: status.autoscaling,
    stepEveryMs: parseDuration(spec.policy.evaluationInterval),
  });
  const signals: Signal[] =
    b.reason === "Lowered" || b.reason === "Restored" ? [{ action: "event", type: "Normal", reason: b.reason === "Lowered" ? "AutoscalingBoosted" : "AutoscalingRestored", message: b.message }] : [];
  if (s.deployments.get(scaled)) {
    actions.push({ kind: "hpa", op: "apply", object: hpaSpec({ namespace: s.namespace, name: s.name, uid: s.profile.metadata?.uid ?? "" }, spec.autoscaling, scaled, b.cpuTarget) });
  }
  return { status: { ...status, autoscaling: { cpuTarget: b.cpuTarget, ...(b.boostedSince ? { boostedSince: b.boostedSince } : {}) } }, actions, signals };
}
