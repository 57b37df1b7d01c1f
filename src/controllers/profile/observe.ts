import type { Logger } from "pino";
import { parseDuration, timerDelay } from "../../api/duration.ts";
import type { ProfileSpec } from "../../api/profile.ts";
import type { PerformanceProfile } from "../../api/types.ts";
import { validateCachedSpec } from "../../api/validate.ts";
import type { CanaryMeasurement } from "../../canary/index.ts";
import type { PrometheusRuleApplier } from "../../kube/rules.ts";
import type { SloMetrics } from "../../metrics/slo-metrics.ts";
import { overrideFromAnnotations } from "../../policy/override.ts";
import { readCanary } from "../../prometheus/canary-reader.ts";
import type { PrometheusClient } from "../../prometheus/client.ts";
import type { PrometheusConnections, Resolved } from "../../prometheus/connections.ts";
import type { RecordedReadCache } from "../../prometheus/recorded-cache.ts";
import { countingQuerier, readDirect, type ProfileReading, type ReadMode } from "../../prometheus/slo-reader.ts";
import type { SyntaxChecker } from "../../prometheus/syntax-check.ts";
import type { KubeObject } from "../../kube/types.ts";
import type { Informer } from "../../runtime/informer.ts";
import { canaryPlan } from "../../slo/canary.ts";
import type { SloProfile } from "../../slo/plan.ts";
import type { Measurements } from "../../slo/types.ts";
import { userQueries } from "../../slo/user-queries.ts";
import { primaryName, type DestinationRule, type HorizontalPodAutoscaler, type VirtualService } from "../../traffic/index.ts";
import type { Deployment, ReplicaSet } from "../../workload/deployment.ts";
import { governingProfile } from "./claim.ts";
import type { TargetIndex } from "./mappings.ts";
import { canaryCheckDue } from "./plan-traffic.ts";
import type { Snapshot } from "./snapshot.ts";
import type { SpecProblem } from "./spec-problem.ts";

/**
 * An operator-side check of what a tenant's spec names (gateways, hosts, endpoints, rule files): a
 * problem refuses the profile with Ready=False before anything is read or written for it.
 */
export type TenantCheck = (profile: { namespace: string; name: string }, spec: ProfileSpec) => Promise<SpecProblem | undefined> | SpecProblem | undefined;

/** The indexes of the informers of objects Tollgate manages: a pass reads its namespace's, and its own by owner uid. */
export type ManagedIndex = "namespace" | "owner";

export interface ObserveDeps {
  /** Run in order after validation; the first problem found refuses the profile. */
  tenantChecks?: readonly TenantCheck[];
  profiles: Informer<PerformanceProfile>;
  /** Which profiles name which Deployment: who governs the target. */
  targets: TargetIndex;
  deployments: Informer<Deployment>;
  /** Indexed by owner uid: a pass reads the ReplicaSets of its Deployments, not the cluster's. */
  replicaSets: Informer<ReplicaSet, "owner">;
  /** Undefined where Istio's networking CRDs are not served. */
  virtualServices?: Informer<VirtualService, ManagedIndex>;
  destinationRules?: Informer<DestinationRule, ManagedIndex>;
  hpas: Informer<HorizontalPodAutoscaler, ManagedIndex>;
  prometheus: PrometheusConnections;
  syntax: SyntaxChecker;
  metrics: SloMetrics;
  logger: Logger;
  /** The read mode of profiles that do not set spec.prometheus.mode (--read-mode). Default Direct. */
  readMode?: ReadMode;
  /** Recording-rule reads, one batch per Prometheus connection; without it every profile reads Direct. */
  recorded?: RecordedReadCache;
  /** A rules directory is set (--rules-dir): recording rules can always be written. */
  rulesDir: boolean;
  /** PrometheusRule objects, used where the CRD is served and no rules directory is set. */
  prometheusRules?: Pick<PrometheusRuleApplier, "crdServed">;
  /** The tile long windows are summed from (--tile); undefined: no tiles. */
  tile?: string;
}

/**
 * Reads everything one pass of `profile` needs, from the informers' caches and from Prometheus, into a
 * snapshot. It writes nothing. `warned` remembers the profiles already told they cannot have
 * recording rules, so the warning is not logged every pass.
 */
export async function observe(deps: ObserveDeps, profile: PerformanceProfile, now: Date, warned: Set<string>): Promise<Snapshot> {
  const namespace = profile.metadata?.namespace ?? "default";
  const name = profile.metadata?.name ?? "";
  const uid = profile.metadata?.uid ?? "";
  const inNamespace = <T extends KubeObject>(list: readonly T[]) => list.filter((o) => o.metadata?.namespace === namespace);
  // An owner reference is namespace-local: one from another namespace names some other object.
  const ownedBy = <T extends KubeObject>(informer: Informer<T, ManagedIndex> | undefined) => inNamespace(informer?.byIndex("owner", uid) ?? []);
  const governed = deployments(deps, profile);
  const base: Snapshot = {
    namespace,
    name,
    profile,
    deleting: profile.metadata?.deletionTimestamp !== undefined,
    deployments: governed,
    replicaSets: replicaSetsOf(deps, namespace, governed),
    managed: {
      virtualServices: deps.virtualServices?.byIndex("namespace", namespace) ?? [],
      destinationRules: deps.destinationRules?.byIndex("namespace", namespace) ?? [],
      hpas: deps.hpas.byIndex("namespace", namespace),
    },
    owned: { virtualServices: ownedBy(deps.virtualServices), destinationRules: ownedBy(deps.destinationRules), hpas: ownedBy(deps.hpas) },
    istio: deps.virtualServices !== undefined && deps.destinationRules !== undefined,
    recordingRules: false,
  };
  const valid = validateCachedSpec(profile.spec);
  if (base.deleting) return valid.ok ? { ...base, spec: valid.spec } : base;
  if (!valid.ok) return { ...base, problem: { field: valid.field, message: valid.message.replace(/^[^:]+: /, "") } };
  const spec = valid.spec;
  const first = governingProfile(deps.targets.naming(namespace, spec.targetRef.name), namespace, spec.targetRef.name);
  if (first !== undefined && first !== name) return { ...base, spec, claimedBy: first };

  for (const check of deps.tenantChecks ?? []) {
    const problem = await check({ namespace, name }, spec);
    if (problem) return { ...base, spec, problem };
  }

  const log = deps.logger.child({ profile: name, namespace, controller: "profile" });
  const interval = timerDelay(parseDuration(spec.policy.evaluationInterval));
  const resolved = await deps.prometheus.resolve(namespace, spec.prometheus);
  // What the tenant may not name (an address, a header, a missing Secret) refuses the profile; nothing is sent.
  if (!resolved.ok && resolved.problem) return { ...base, spec, problem: resolved.problem };
  // Parse the user's PromQL first: a parse error names the exact field, a failed query only the SLO.
  const parsingStarted = performance.now();
  const parseProblem = resolved.ok ? await queryProblem(deps, spec, resolved.client) : undefined;
  let waitedMs = performance.now() - parsingStarted;
  if (parseProblem) return { ...base, spec, problem: parseProblem };
  const slo: SloProfile = { namespace, name, spec };
  const mode = resolved.ok ? await readMode(deps, slo, spec.prometheus?.mode, warned, log) : "Direct";
  const observed: Snapshot = {
    ...base,
    spec,
    recordingRules: mode === "RecordingRules" && resolved.ok,
    ...(resolved.ok ? { prometheusUrl: resolved.client.url } : {}),
    override: overrideFromAnnotations(profile.metadata?.annotations, now),
  };
  // The budget's reading and the canary's are independent: read at once, so a slow Prometheus delays
  // a freeze by one round of queries, not two.
  const readingStarted = performance.now();
  const [reading, canaryMeasurement] = await Promise.all([
    measure(deps, resolved, slo, mode, interval, now, (raw) => warnRaw(raw, warned, `${namespace}/${name}`, log)),
    canaryCheckDue(observed, spec, now) ? measureCanary(deps, resolved, namespace, spec, now) : undefined,
  ]);
  waitedMs += performance.now() - readingStarted;
  // What a pass spends apart from this is the operator's own work (and the API server's).
  deps.metrics.prometheusWait.observe(waitedMs / 1000);
  return {
    ...observed,
    measurements: reading.measurements,
    ...(reading.problem ? { problem: reading.problem } : {}),
    ...(deps.tile !== undefined ? { tiles: { tile: deps.tile, ...(reading.tileCoverageMs ? { coverageMs: reading.tileCoverageMs } : {}) } } : {}),
    // A spec problem the reading found stops the canary too: its reading is not used.
    ...(canaryMeasurement && !reading.problem ? { canaryMeasurement } : {}),
  };
}

/** The Deployments a pass may touch: the target, the former target, and their primaries. */
function deployments(deps: ObserveDeps, profile: PerformanceProfile): Map<string, Deployment> {
  const ns = profile.metadata?.namespace ?? "default";
  const targets = [profile.spec?.targetRef?.name, profile.status?.target].filter((n): n is string => typeof n === "string" && n !== "");
  const map = new Map<string, Deployment>();
  for (const name of targets.flatMap((t) => [t, primaryName(t)])) {
    const d = deps.deployments.get(`${ns}/${name}`);
    if (d) map.set(name, d);
  }
  return map;
}

/** The ReplicaSets of the pass's Deployments, by their owner uid: the revisions and templates it may use. */
function replicaSetsOf(deps: ObserveDeps, namespace: string, governed: ReadonlyMap<string, Deployment>): ReplicaSet[] {
  const found = new Map<string, ReplicaSet>();
  for (const d of governed.values()) {
    const uid = d.metadata?.uid;
    if (!uid) continue;
    for (const rs of deps.replicaSets.byIndex("owner", uid)) if (rs.metadata?.namespace === namespace) found.set(rs.metadata?.name ?? "", rs);
  }
  return [...found.values()];
}

async function measureCanary(deps: ObserveDeps, resolved: Resolved, namespace: string, spec: ProfileSpec, now: Date): Promise<CanaryMeasurement> {
  const plan = canaryPlan(namespace, spec);
  if (!resolved.ok || !plan) return { error: resolved.ok ? "the profile has no SLO a canary can be judged on" : resolved.message, slos: [] };
  return readCanary(countingQuerier(resolved.client, () => deps.metrics.queries.inc({ mode: "Canary" })), plan, now);
}

/**
 * The mode this profile is read in: its own, else the operator's. RecordingRules needs somewhere for
 * the rules to go (a rules directory or the PrometheusRule CRD); without either the profile is read
 * Direct, with one warning: a correct, costlier reading beats no reading (no reading means no freeze).
 */
async function readMode(deps: ObserveDeps, profile: SloProfile, own: ReadMode | undefined, warned: Set<string>, log: Logger): Promise<ReadMode> {
  const wanted = own ?? deps.readMode ?? "Direct";
  if (wanted === "Direct" || !deps.recorded) {
    deps.recorded?.forget(profile.namespace, profile.name);
    return "Direct";
  }
  if (deps.rulesDir) return "RecordingRules";
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

interface Reading {
  measurements: Measurements;
  problem?: SpecProblem;
  tileCoverageMs?: Record<string, number>;
}

/** Tells once per profile and set of windows that Direct mode reads long windows raw, as no tiles cover them. */
function warnRaw(raw: NonNullable<ProfileReading["rawLongWindows"]>, warned: Set<string>, key: string, log: Logger): void {
  const said = `raw:${key}:${JSON.stringify(raw)}`;
  if (warned.has(said)) return;
  for (const k of warned) if (k.startsWith(`raw:${key}:`)) warned.delete(k);
  warned.add(said);
  log.warn(
    { windows: Object.fromEntries(raw.map((r) => [r.slo, r.windows])) },
    "reading long windows from raw samples, which costs Prometheus every sample of each window on every read: no recorded tiles cover them (RecordingRules mode records them)",
  );
}

async function measure(
  deps: ObserveDeps,
  resolved: Resolved,
  profile: SloProfile,
  mode: ReadMode,
  intervalMs: number,
  at: Date,
  onRaw: (raw: NonNullable<ProfileReading["rawLongWindows"]>) => void,
): Promise<Reading> {
  if (!resolved.ok) return { measurements: { error: resolved.message, slos: [], at } };
  let reading: ProfileReading | undefined;
  if (mode === "RecordingRules" && deps.recorded) {
    // Duration, errors and query counts are the batch's: the cache reports them once per batch.
    reading = await deps.recorded.get(resolved.client, profile, intervalMs);
  } else {
    const started = performance.now();
    [reading] = await readDirect(countingQuerier(resolved.client, () => deps.metrics.queries.inc({ mode: "Direct" })), [profile], at, deps.tile !== undefined ? { tile: deps.tile } : {});
    if (reading?.rawLongWindows) onRaw(reading.rawLongWindows);
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
  return { measurements: reading.measurements, ...(problem ? { problem } : {}), ...(reading.tileCoverageMs ? { tileCoverageMs: reading.tileCoverageMs } : {}) };
}

/** The kind of a Prometheus failure, from the wording PrometheusClient and the readers give each kind. */
export function errorKind(message: string): "unreachable" | "timeout" | "server" | "bad_response" {
  if (message.includes("is unreachable")) return "unreachable";
  if (message.includes("sent a malformed answer") || /^Prometheus answered \d+ /.test(message)) return "bad_response";
  if (message.includes("did not answer within") || message.includes("timeout")) return "timeout";
  return "server";
}

/** The PromQL a user wrote, through Prometheus's own parser: a parse error names the field. */
async function queryProblem(deps: ObserveDeps, spec: ProfileSpec, client: PrometheusClient): Promise<SpecProblem | undefined> {
  for (const q of userQueries(spec)) {
    const verdict = await deps.syntax.check(client, q.expr);
    if (verdict.ok === false) return { field: q.field, message: `PromQL does not parse: ${verdict.message}` };
  }
  return undefined;
}
