import type { Logger } from "pino";
import { parseDuration, timerDelay } from "../api/duration.ts";
import type { ProfileSpec } from "../api/profile.ts";
import type { ProfileStatus } from "../api/status.ts";
import type { PerformanceProfile } from "../api/types.ts";
import { validateSpec } from "../api/validate.ts";
import type { KubeClient } from "../kube/client.ts";
import { freezeDeployment, rollBackDeployment, unfreezeDeployment } from "../kube/deployments.ts";
import { Resources } from "../kube/resources.ts";
import { splitKey } from "../kube/types.ts";
import type { SloMetrics } from "../metrics/slo-metrics.ts";
import { notificationFor } from "../notify/messages.ts";
import type { Notifier } from "../notify/notifier.ts";
import { decide, type PolicyAction } from "../policy/index.ts";
import { overrideFromAnnotations } from "../policy/override.ts";
import { statusChanged } from "../policy/status-changed.ts";
import type { PrometheusConnections, Resolved } from "../prometheus/connections.ts";
import type { PrometheusClient } from "../prometheus/client.ts";
import type { RecordedReadCache } from "../prometheus/recorded-cache.ts";
import type { RulesFileWriter } from "../prometheus/rules-file.ts";
import { countingQuerier, readDirect, type ProfileReading, type ReadMode } from "../prometheus/slo-reader.ts";
import type { PrometheusRuleApplier } from "../kube/rules.ts";
import type { SloProfile } from "../slo/plan.ts";
import type { SyntaxChecker } from "../prometheus/syntax-check.ts";
import { userQueries } from "../slo/user-queries.ts";
import { findCondition } from "../api/conditions.ts";
import { freshest } from "../runtime/freshest.ts";
import type { Result } from "../runtime/controller.ts";
import type { EventRecorder } from "../runtime/events.ts";
import type { Informer } from "../runtime/informer.ts";
import { invalidSpecStatus, type SpecProblem } from "./profile-status.ts";
import { deploymentState, type Deployment, type ReplicaSet } from "../workload/deployment.ts";
import { servingState } from "../canary/facts.ts";
import { promotePrimary } from "../kube/canary.ts";
import { primaryName, SOURCE_HASH_ANNOTATION } from "../traffic/index.ts";
import { reconcileTraffic, type TrafficDeps } from "./traffic.ts";

export interface ProfileReconcilerDeps {
  client: KubeClient;
  profiles: Informer<PerformanceProfile>;
  deployments: Informer<Deployment>;
  replicaSets: Informer<ReplicaSet>;
  events: EventRecorder;
  notifier: Notifier;
  prometheus: PrometheusConnections;
  syntax: SyntaxChecker;
  metrics: SloMetrics;
  logger: Logger;
  /** Write status at least this often while numbers move, so it shows the budget is watched. */
  heartbeatMs?: number;
  /** The read mode of profiles that do not set spec.prometheus.mode (--read-mode). Default Direct. */
  readMode?: ReadMode;
  /** Recording-rule reads, one batch per Prometheus connection; without it every profile reads Direct. */
  recorded?: RecordedReadCache;
  /** --rules-dir: recording rules go to rule files here, preferred over PrometheusRule objects. */
  rulesFile?: RulesFileWriter;
  /** PrometheusRule objects, used where the CRD is served and no rules directory is set. */
  prometheusRules?: PrometheusRuleApplier;
  /** The canary, traffic policy and autoscaling half; without it profiles get the budget policy only. */
  traffic?: TrafficDeps;
  now?: () => Date;
}

/**
 * One profile, one pass: validate, measure, decide (pure), act, write status. Requeues itself every
 * evaluationInterval; a change to the profile or its Deployment brings it back sooner.
 */
export function profileReconciler(deps: ProfileReconcilerDeps): (key: string) => Promise<Result> {
  const now = deps.now ?? (() => new Date());
  const heartbeatMs = deps.heartbeatMs ?? 5 * 60_000;
  // What our own status writes returned, until the informer has caught up with them.
  const written = new Map<string, PerformanceProfile>();
  const write = async (namespace: string, name: string, status: ProfileStatus) => {
    written.set(`${namespace}/${name}`, await writeStatus(deps, namespace, name, status));
  };
  // Profiles already warned that they cannot have recording rules, so the warning is not per cycle.
  const warned = new Set<string>();
  return async (key) => {
    const { namespace = "default", name } = splitKey(key);
    const profile = freshest(deps.profiles.get(key), written.get(key));
    if (written.get(key) !== undefined && profile !== written.get(key)) written.delete(key);
    if (!profile || profile.metadata?.deletionTimestamp) {
      deps.metrics.forget(namespace, name);
      written.delete(key);
      warned.delete(key);
      deps.recorded?.forget(namespace, name);
      deps.prometheusRules?.forget(namespace, name);
      await deps.rulesFile?.remove(namespace, name);
      return {};
    }
    const log = deps.logger.child({ profile: name, namespace, controller: "profile" });
    const valid = validateSpec(profile.spec);
    if (!valid.ok) {
      await writeInvalid(deps, write, profile, { field: valid.field, message: valid.message.replace(/^[^:]+: /, "") }, now(), log);
      return {};
    }
    const spec = valid.spec;
    // validateSpec bounds the interval to 1h. Every requeue below is at most this interval, and the
    // clamp keeps them from overflowing setTimeout (a 25d delay fires after 1 ms, a hot loop) whatever
    // that bound becomes.
    const interval = timerDelay(parseDuration(spec.policy.evaluationInterval));

    const resolved = await deps.prometheus.resolve(namespace, spec.prometheus);
    // Parse the user's PromQL first: a parse error names the exact field, a failed query only the SLO.
    const parseProblem = resolved.ok ? await queryProblem(deps, spec, resolved.client) : undefined;
    const slo: SloProfile = { namespace, name, spec };
    const mode = resolved.ok && !parseProblem ? await readMode(deps, slo, spec.prometheus?.mode, warned, log) : "Direct";
    if (mode === "RecordingRules" && resolved.ok) await ensureRules(deps, slo, profile.metadata?.uid, resolved.client, log);
    const reading = parseProblem ? undefined : await measure(deps, resolved, slo, mode, interval, now());
    const problem = parseProblem ?? reading?.problem;
    if (problem || !reading) {
      if (problem) await writeInvalid(deps, write, profile, problem, now(), log);
      return { requeueAfterMs: interval };
    }

    const deployment = deps.deployments.get(`${namespace}/${spec.targetRef.name}`);
    const replicaSets = deployment ? deps.replicaSets.list().filter((rs) => rs.metadata?.namespace === namespace) : [];
    // In canary mode primary serves the traffic, so its revision is the one the policy judges.
    const primary = spec.canary ? deps.deployments.get(`${namespace}/${primaryName(spec.targetRef.name)}`) : undefined;
    const state = deployment ? servingState(deploymentState(deployment, replicaSets), primary) : undefined;
    const decision = decide({
      profile: { namespace, name },
      spec,
      status: profile.status,
      measurements: reading.measurements,
      deployment: state,
      override: overrideFromAnnotations(profile.metadata?.annotations, now()),
      generation: profile.metadata?.generation,
      now: now(),
    });

    for (const action of decision.actions) {
      await act(deps, profile, spec, deployment, replicaSets, action, log);
    }
    let status = decision.status;
    let requeueAfterMs = interval;
    if (deps.traffic) {
      try {
        const prometheus = resolved.ok ? countingQuerier(resolved.client, () => deps.metrics.queries.inc({ mode: "Canary" })) : undefined;
        const traffic = await reconcileTraffic(deps.traffic, { profile, spec, status, replicaSets, measurements: reading.measurements, prometheus, now: now(), log });
        status = traffic.status;
        requeueAfterMs = Math.min(interval, traffic.requeueAfterMs ?? interval);
      } catch (err) {
        // The budget's decision stands and is written; the traffic half is retried soon.
        log.warn({ err: err instanceof Error ? err.message : String(err) }, "canary, traffic policy or autoscaling could not be reconciled; retrying");
        requeueAfterMs = Math.min(interval, TRAFFIC_RETRY_MS);
      }
    }
    deps.metrics.observe(namespace, name, reading.measurements, status.phase ?? "Unknown");
    if (statusChanged(profile.status, status, { heartbeatMs })) {
      await write(namespace, name, status);
      log.debug({ phase: status.phase, consumed: status.budget?.consumedPercent }, "status written");
    }
    return { requeueAfterMs };
  };
}

const TRAFFIC_RETRY_MS = 5_000;

interface Reading {
  measurements: ProfileReading["measurements"];
  problem?: SpecProblem;
}

/**
 * The mode this profile is read in: its own, else the operator's. RecordingRules needs somewhere for
 * the rules to go (a rules directory or the PrometheusRule CRD); without either the profile is read
 * Direct, with one warning: a correct, costlier reading beats no reading (no reading means no freeze).
 */
async function readMode(
  deps: ProfileReconcilerDeps,
  profile: SloProfile,
  own: ReadMode | undefined,
  warned: Set<string>,
  log: Logger,
): Promise<ReadMode> {
  const wanted = own ?? deps.readMode ?? "Direct";
  if (wanted === "Direct" || !deps.recorded) {
    deps.recorded?.forget(profile.namespace, profile.name);
    return "Direct";
  }
  if (deps.rulesFile) return "RecordingRules";
  let served = false;
  try {
    served = (await deps.prometheusRules?.crdServed()) ?? false;
  } catch (err) {
    // Unknown this cycle (API unreachable): read Direct now, ask again next cycle.
    log.warn({ err: err instanceof Error ? err.message : String(err) }, "cannot tell whether the PrometheusRule CRD is served; reading Direct this cycle");
    return "Direct";
  }
  if (served) return "RecordingRules";
  const key = `${profile.namespace}/${profile.name}`;
  if (!warned.has(key)) {
    warned.add(key);
    log.warn("RecordingRules mode needs --rules-dir or the PrometheusRule CRD (prometheus-operator); reading this profile Direct");
  }
  deps.recorded.forget(profile.namespace, profile.name);
  return "Direct";
}

/**
 * Puts the profile's recording rules where its Prometheus loads them: the rules directory when set,
 * else a PrometheusRule. A failure is logged and the reading goes ahead: rules applied before still
 * record, and missing series read as no data, which never acts.
 */
async function ensureRules(deps: ProfileReconcilerDeps, profile: SloProfile, uid: string | undefined, client: PrometheusClient, log: Logger): Promise<void> {
  try {
    const result = deps.rulesFile ? await deps.rulesFile.ensure(profile, client.url) : await deps.prometheusRules?.ensure(profile, uid);
    if (result?.changed) log.info({ target: deps.rulesFile ? "file" : "PrometheusRule", problems: result.problems.length }, "recording rules updated");
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, "recording rules could not be written; reading what Prometheus records");
  }
}


async function measure(
  deps: ProfileReconcilerDeps,
  resolved: Resolved,
  profile: SloProfile,
  mode: ReadMode,
  intervalMs: number,
  at: Date,
): Promise<Reading> {
  if (!resolved.ok) return { measurements: { error: resolved.message, slos: [], at } };
  let reading: ProfileReading | undefined;
  if (mode === "RecordingRules" && deps.recorded) {
    // Duration, errors and query counts are the batch's: the cache reports them once per batch.
    reading = await deps.recorded.get(resolved.client, profile, intervalMs);
  } else {
    const started = performance.now();
    [reading] = await readDirect(countingQuerier(resolved.client, () => deps.metrics.queries.inc({ mode: "Direct" })), [profile], at);
    deps.metrics.queryDuration.observe({ mode: "Direct" }, (performance.now() - started) / 1000);
    if (reading?.measurements.error) deps.metrics.queryErrors.inc({ mode: "Direct", kind: errorKind(reading.measurements.error) });
  }
  if (!reading) return { measurements: { error: "no reading", slos: [], at } };
  const { spec } = profile;
  // A query Prometheus refuses, a threshold without a bucket, or a ratio expression of several series
  // is the spec's to fix: report it as such (Ready=False, InvalidSpec), naming the narrowest field known.
  // Waiting cannot cure these, so they are not MetricsAvailable's "no data"; like a parse error they are
  // spec errors only Prometheus can reveal. NotRecorded is not: the rules were just written and
  // Prometheus has not evaluated them yet, so those SLOs are NoData until their series appear.
  const bad = reading.problems.find((p) => p.reason !== "NotRecorded");
  const index = spec.slos.findIndex((s) => s.name === bad?.slo);
  const problem = bad ? { field: bad.field ?? `spec.slos[${index}].indicator`, message: bad.message } : undefined;
  return { measurements: reading.measurements, problem };
}

/** The kind of a Prometheus failure, from the wording PrometheusClient and the readers give each kind. */
export function errorKind(message: string): "unreachable" | "timeout" | "server" | "bad_response" {
  if (message.includes("is unreachable")) return "unreachable";
  if (message.includes("sent a malformed answer") || /^Prometheus answered \d+ /.test(message)) return "bad_response";
  if (message.includes("did not answer within") || message.includes("timeout")) return "timeout";
  return "server";
}

/** The PromQL a user wrote, through Prometheus's own parser: a parse error names the field. */
async function queryProblem(deps: ProfileReconcilerDeps, spec: ProfileSpec, client: PrometheusClient): Promise<SpecProblem | undefined> {
  for (const q of userQueries(spec)) {
    const verdict = await deps.syntax.check(client, q.expr);
    if (verdict.ok === false) return { field: q.field, message: `PromQL does not parse: ${verdict.message}` };
  }
  return undefined;
}

async function act(
  deps: ProfileReconcilerDeps,
  profile: PerformanceProfile,
  spec: ProfileSpec,
  deployment: Deployment | undefined,
  replicaSets: ReplicaSet[],
  action: PolicyAction,
  log: Logger,
): Promise<void> {
  const namespace = profile.metadata?.namespace ?? "default";
  const name = profile.metadata?.name ?? "";
  const target = spec.targetRef.name;
  switch (action.action) {
    case "freeze":
      await freezeDeployment(deps.client, namespace, target, name, action.message);
      break;
    case "unfreeze":
      await unfreezeDeployment(deps.client, namespace, target);
      break;
    case "rollback": {
      if (!deployment) return;
      await rollBackDeployment(deps.client, deployment, replicaSets, action.toTemplateHash);
      // In canary mode the pods serving traffic are primary's: the last known good template goes to
      // them directly, not through a canary (which the rollback's freeze would not start anyway).
      const primary = spec.canary ? deps.deployments.get(`${namespace}/${primaryName(target)}`) : undefined;
      if (primary && primary.metadata?.annotations?.[SOURCE_HASH_ANNOTATION] !== action.toTemplateHash) {
        await promotePrimary(deps.client, primary, replicaSets, action.toTemplateHash, action.toRevision);
      }
      break;
    }
    case "event":
      await deps.events.record(profile, action.type, action.reason, action.message);
      return;
    case "notify":
      deps.notifier.send(spec.policy.notifications ?? [], notificationFor({ namespace, name }, action, new Date()));
      return;
  }
  deps.metrics.actions.inc({ namespace, profile: name, action: action.action });
  log.info({ action: action.action, target, ...("message" in action ? { message: action.message } : {}) }, "action taken");
}

type StatusWriter = (namespace: string, name: string, status: ProfileStatus) => Promise<void>;

async function writeInvalid(
  deps: ProfileReconcilerDeps,
  write: StatusWriter,
  profile: PerformanceProfile,
  problem: SpecProblem,
  now: Date,
  log: Logger,
): Promise<void> {
  const next = invalidSpecStatus(profile, problem, now);
  if (!statusChanged(profile.status, next, { heartbeatMs: Number.MAX_SAFE_INTEGER })) return;
  const { namespace = "default", name = "" } = profile.metadata ?? {};
  await write(namespace, name, next);
  const before = findCondition(profile.status?.conditions, "Ready");
  const ready = findCondition(next.conditions, "Ready");
  if (ready && (before?.reason !== ready.reason || before.message !== ready.message)) {
    await deps.events.record(profile, "Warning", ready.reason, ready.message);
  }
  log.info({ reason: ready?.reason, message: ready?.message }, "profile refused");
}

async function writeStatus(deps: ProfileReconcilerDeps, namespace: string, name: string, status: ProfileStatus): Promise<PerformanceProfile> {
  return deps.client.apply(Resources.PerformanceProfile, { metadata: { name, namespace }, status } as PerformanceProfile, {
    subresource: "status",
    force: true,
  });
}
