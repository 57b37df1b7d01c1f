import type { Logger } from "pino";
import { parseDuration } from "../api/duration.ts";
import type { ProfileSpec } from "../api/profile.ts";
import type { ProfileStatus } from "../api/status.ts";
import type { PerformanceProfile } from "../api/types.ts";
import { boost, hpaSpec } from "../autoscaling/index.ts";
import { canaryFreeze, stepCanary, type CanaryAction, type CanaryDecision, type CanaryMeasurement, type WorkloadFacts } from "../canary/index.ts";
import { checkDue, hasCanaryTrack, primaryFacts, targetFacts } from "../canary/facts.ts";
import { createPrimary, labelCanaryTrack, promotePrimary, scaleDeployment } from "../kube/canary.ts";
import type { KubeClient } from "../kube/client.ts";
import type { Deployment, ReplicaSet } from "../workload/deployment.ts";
import type { DriftApplier } from "../kube/owned.ts";
import { Resources, type ResourceType } from "../kube/resources.ts";
import type { SloMetrics } from "../metrics/slo-metrics.ts";
import { notificationFor } from "../notify/messages.ts";
import type { Notifier } from "../notify/notifier.ts";
import { withCanary } from "../policy/index.ts";
import { readCanary } from "../prometheus/canary-reader.ts";
import type { InstantQuerier } from "../prometheus/slo-reader.ts";
import { canaryPlan } from "../slo/canary.ts";
import type { Measurements } from "../slo/types.ts";
import { setCondition } from "../api/conditions.ts";
import type { EventRecorder } from "../runtime/events.ts";
import type { Informer } from "../runtime/informer.ts";
import {
  destinationRule,
  primaryName,
  scaledDeployment,
  serviceHost,
  virtualService,
  type DestinationRule,
  type HorizontalPodAutoscaler,
  type VirtualService,
} from "../traffic/index.ts";

export const CANARY_PROGRESSING = "CanaryProgressing";

export interface TrafficDeps {
  client: KubeClient;
  /** Applies the VirtualService, DestinationRule and HPA only when they drifted or the spec changed. */
  applier: DriftApplier;
  deployments: Informer<Deployment>;
  /** Undefined where Istio's networking CRDs are not served: canaries and traffic policy cannot run. */
  virtualServices?: Informer<VirtualService>;
  destinationRules?: Informer<DestinationRule>;
  hpas: Informer<HorizontalPodAutoscaler>;
  events: EventRecorder;
  notifier: Notifier;
  metrics: SloMetrics;
}

export interface TrafficInput {
  profile: PerformanceProfile;
  spec: ProfileSpec;
  /** The policy's next status: its freeze decides whether a canary may start or promote. */
  status: ProfileStatus;
  /** The namespace's ReplicaSets, as the policy read them: the target's revisions and templates. */
  replicaSets: ReplicaSet[];
  measurements: Measurements;
  /** The profile's Prometheus, for canary checks; undefined when it could not be resolved. */
  prometheus: InstantQuerier | undefined;
  now: Date;
  log: Logger;
}

export interface TrafficResult {
  status: ProfileStatus;
  /** When the canary wants to be looked at again, if sooner than the policy's interval. */
  requeueAfterMs?: number;
}

/**
 * The traffic half of a profile's reconcile, after the budget policy: the DestinationRule (traffic
 * policy and, with a canary, the subsets), the canary's step (VirtualService weights, `<name>-primary`,
 * replicas) and the HPA with the SLO boost. Objects are applied only when they drifted from what the
 * spec asks, so a quiet profile costs no writes and a hand edit is put back on the informer's event.
 */
export async function reconcileTraffic(deps: TrafficDeps, input: TrafficInput): Promise<TrafficResult> {
  const { profile, spec } = input;
  const namespace = profile.metadata?.namespace ?? "default";
  const uid = profile.metadata?.uid ?? "";
  let status = input.status;
  let requeueAfterMs: number | undefined;

  const istio = deps.destinationRules && deps.virtualServices ? { dr: deps.destinationRules, vs: deps.virtualServices } : undefined;
  if (istio) {
    await syncDestinationRule(deps, istio.dr, input, namespace, uid);
    // A spec change may rename the Service (guard mode names it after the target) or drop the canary:
    // Tollgate's objects under another name would route the same host twice.
    if (profile.status?.observedGeneration !== profile.metadata?.generation) {
      const host = serviceHost(spec);
      await deleteStale(deps, Resources.DestinationRule, istio.dr, namespace, uid, spec.canary || spec.trafficPolicy ? host : undefined);
      await deleteStale(deps, Resources.VirtualService, istio.vs, namespace, uid, spec.canary ? host : undefined);
    }
  }

  if (spec.canary && istio) {
    const canary = await runCanary(deps, istio.vs, input, namespace, uid);
    status = {
      ...status,
      ...(canary.decision?.status ? { canary: canary.decision.status } : {}),
      phase: withCanary(status.phase ?? "Unknown", canary.active),
      conditions: setCondition(status.conditions, canary.condition, profile.metadata?.generation, input.now),
    };
    requeueAfterMs = canary.requeueAfterMs;
  } else if (spec.canary) {
    const message = "spec.canary needs Istio's networking CRDs (networking.istio.io/v1), which this cluster does not serve; no canary runs.";
    status = { ...status, conditions: setCondition(status.conditions, { type: CANARY_PROGRESSING, status: "False", reason: "IstioNotInstalled", message }, profile.metadata?.generation, input.now) };
  } else if (status.canary || status.conditions?.some((c) => c.type === CANARY_PROGRESSING)) {
    const { canary: _, ...rest } = status;
    status = { ...rest, conditions: status.conditions?.filter((c) => c.type !== CANARY_PROGRESSING) };
  }

  status = await syncAutoscaler(deps, input, status, namespace, uid);
  return { status, requeueAfterMs };
}

async function deleteStale(
  deps: TrafficDeps,
  type: ResourceType,
  informer: Informer<DestinationRule> | Informer<VirtualService>,
  namespace: string,
  uid: string,
  keep: string | undefined,
): Promise<void> {
  for (const obj of informer.list()) {
    if (obj.metadata?.namespace === namespace && obj.metadata.name !== keep) await deps.applier.deleteIfOwned(type, obj, uid);
  }
}

async function syncDestinationRule(
  deps: TrafficDeps,
  informer: Informer<DestinationRule>,
  input: TrafficInput,
  namespace: string,
  uid: string,
): Promise<void> {
  const { spec, profile } = input;
  if (!spec.canary && !spec.trafficPolicy) return;
  const host = serviceHost(spec);
  const current = informer.get(`${namespace}/${host}`);
  const desired = destinationRule(namespace, profile.metadata?.name ?? "", spec.trafficPolicy, { subsets: spec.canary !== undefined, host, ownerUid: uid });
  if (await deps.applier.ensure(Resources.DestinationRule, current, desired)) {
    input.log.info({ host, created: current === undefined }, "DestinationRule applied");
  }
}

interface CanaryOutcome {
  decision?: CanaryDecision;
  active: boolean;
  condition: { type: string; status: "True" | "False"; reason: string; message: string };
  requeueAfterMs?: number;
}

const POLL_SOON_MS = 2_000;

async function runCanary(deps: TrafficDeps, vsInformer: Informer<VirtualService>, input: TrafficInput, namespace: string, uid: string): Promise<CanaryOutcome> {
  const { spec, profile, now, log } = input;
  const canary = spec.canary!;
  const name = profile.metadata?.name ?? "";
  const targetName = spec.targetRef.name;
  const waiting = (reason: string, message: string, active = true): CanaryOutcome => ({
    active,
    condition: { type: CANARY_PROGRESSING, status: active ? "True" : "False", reason, message },
    requeueAfterMs: POLL_SOON_MS,
  });

  const target = deps.deployments.get(`${namespace}/${targetName}`);
  if (!target) return waiting("TargetNotFound", `Deployment ${namespace}/${targetName} does not exist; no canary runs.`, false);
  if (!hasCanaryTrack(target)) {
    await labelCanaryTrack(deps.client, target);
    log.info({ target: targetName }, "target's pod template labelled as the canary track");
    return waiting("Initializing", `Labelling ${targetName}'s pod template as the canary track.`);
  }
  const { replicaSets } = input;
  const facts = targetFacts(target, replicaSets);
  if (!facts.ok) return waiting("Initializing", `Waiting: ${facts.message}.`);
  const primary = deps.deployments.get(`${namespace}/${primaryName(targetName)}`);

  let measurement: CanaryMeasurement | undefined;
  if (checkDue(canary, profile.status?.canary, facts.facts.templateHash, now)) {
    const plan = canaryPlan(namespace, spec);
    measurement = input.prometheus && plan ? await readCanary(input.prometheus, plan, now) : { error: "Prometheus is not configured for this profile", slos: [] };
  }
  const decision = stepCanary({
    profile: { namespace, name },
    spec,
    status: profile.status?.canary,
    target: facts.facts,
    primary: primary ? primaryFacts(primary) : undefined,
    canaryMeasurement: measurement,
    frozen: canaryFreeze(input.status, now),
    now,
  });

  for (const action of decision.actions) {
    await carryOut(deps, vsInformer, input, { namespace, uid, target, targetFacts: facts.facts, primary, replicaSets }, action);
  }
  const { summary } = decision;
  if (measurement) log.info({ canary: decision.status?.phase, weight: decision.status?.weight, step: decision.status?.step, reason: summary.reason }, "canary checked");
  return {
    decision,
    active: summary.active,
    condition: { type: CANARY_PROGRESSING, status: summary.active ? "True" : "False", reason: summary.reason, message: summary.message },
    requeueAfterMs: decision.requeueAfterMs,
  };
}

interface Workloads {
  namespace: string;
  uid: string;
  target: Deployment;
  targetFacts: WorkloadFacts & { revision: number };
  primary: Deployment | undefined;
  replicaSets: ReplicaSet[];
}

async function carryOut(deps: TrafficDeps, vsInformer: Informer<VirtualService>, input: TrafficInput, w: Workloads, action: CanaryAction): Promise<void> {
  const { spec, profile, log } = input;
  const name = profile.metadata?.name ?? "";
  const count = () => deps.metrics.actions.inc({ namespace: w.namespace, profile: name, action: action.action });
  switch (action.action) {
    case "ensurePrimary": {
      if (w.primary) return;
      await createPrimary(deps.client, w.target, w.replicaSets, {
        replicas: action.replicas,
        templateHash: w.targetFacts.templateHash,
        revision: w.targetFacts.revision,
        profileName: name,
      });
      count();
      log.info({ primary: primaryName(spec.targetRef.name), replicas: action.replicas }, "primary created");
      return;
    }
    case "setWeights": {
      const desired = virtualService(w.namespace, name, spec.canary!, { primary: action.primary, canary: action.canary }, w.uid);
      const current = vsInformer.get(`${w.namespace}/${desired.metadata.name}`);
      if (await deps.applier.ensure(Resources.VirtualService, current, desired)) {
        count();
        log.info({ primary: action.primary, canary: action.canary }, "canary weights applied");
      }
      return;
    }
    case "scaleCanary":
      if (await scaleDeployment(deps.client, w.target, action.replicas)) {
        count();
        log.info({ replicas: action.replicas }, "canary scaled");
      }
      return;
    case "scalePrimary":
      // Only ever up: primary's HPA owns its replicas otherwise.
      if (w.primary && (w.primary.spec?.replicas ?? 1) < action.replicas && (await scaleDeployment(deps.client, w.primary, action.replicas))) {
        count();
        log.info({ replicas: action.replicas }, "primary scaled up");
      }
      return;
    case "promote":
      if (!w.primary) return;
      await promotePrimary(deps.client, w.primary, w.replicaSets, action.templateHash, action.revision);
      count();
      log.info({ templateHash: action.templateHash, revision: action.revision }, "canary template copied to primary");
      return;
    case "event":
      await deps.events.record(profile, action.type, action.reason, action.message);
      return;
    case "notify":
      deps.notifier.send(spec.policy.notifications ?? [], notificationFor({ namespace: w.namespace, name }, action, input.now));
      return;
  }
}

/**
 * The HPA for the scaled Deployment (primary in canary mode, which must exist first) with the SLO
 * boost's CPU target, and status.autoscaling. Without spec.autoscaling Tollgate's HPA is deleted.
 */
async function syncAutoscaler(deps: TrafficDeps, input: TrafficInput, status: ProfileStatus, namespace: string, uid: string): Promise<ProfileStatus> {
  const { spec, profile, log } = input;
  const scaled = scaledDeployment(spec);
  const current = deps.hpas.get(`${namespace}/${scaled}`);
  // After a switch between guard and canary mode, the HPA of the other Deployment is no longer wanted.
  const other = spec.canary ? spec.targetRef.name : primaryName(spec.targetRef.name);
  await deps.applier.deleteIfOwned(Resources.HorizontalPodAutoscaler, deps.hpas.get(`${namespace}/${other}`), uid);
  if (!spec.autoscaling) {
    await deps.applier.deleteIfOwned(Resources.HorizontalPodAutoscaler, current, uid);
    if (!status.autoscaling) return status;
    const { autoscaling: _, ...rest } = status;
    return rest;
  }
  const b = boost({
    autoscaling: spec.autoscaling,
    slos: spec.slos,
    measurements: input.measurements,
    previous: status.autoscaling,
    stepEveryMs: parseDuration(spec.policy.evaluationInterval),
  });
  if (b.reason === "Lowered" || b.reason === "Restored") {
    log.info({ cpuTarget: b.cpuTarget, reason: b.reason }, b.message);
    await deps.events.record(profile, "Normal", b.reason === "Lowered" ? "AutoscalingBoosted" : "AutoscalingRestored", b.message);
  }
  if (deps.deployments.get(`${namespace}/${scaled}`)) {
    const desired = hpaSpec({ namespace, name: profile.metadata?.name ?? "", uid }, spec.autoscaling, scaled, b.cpuTarget);
    if (await deps.applier.ensure(Resources.HorizontalPodAutoscaler, current, desired)) log.info({ hpa: scaled, cpuTarget: b.cpuTarget }, "HorizontalPodAutoscaler applied");
  }
  return { ...status, autoscaling: { cpuTarget: b.cpuTarget, ...(b.boostedSince ? { boostedSince: b.boostedSince } : {}) } };
}
