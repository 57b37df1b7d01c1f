// Measuring one entry for one set of profiles on the bench's Prometheus.

import { readDirect, type InstantQuerier } from "../../src/prometheus/slo-reader.ts";
import type { SloProfile } from "../../src/slo/plan.ts";
import { sleep } from "../../e2e/support/wait.ts";
import { EVALUATION_INTERVAL_S, type BenchPrometheus } from "./prometheus.ts";
import type { QueriesEntry, RuleSetContext, RulesEntry } from "./rulesets.ts";
import { completedRounds, groupMetrics, metricSamples, quantile, rulesOf, setSamples, type Evaluated } from "./stats.ts";

export interface Result {
  entry: string;
  profiles: number;
  rules?: number;
  groups?: number;
  /** Rounds every group had finished when the figures were read. */
  rounds?: number;
  /** Σ over groups of prometheus_rule_group_last_duration_seconds, in ms (wall time, waits included). */
  evalMs?: number;
  /**
   * The engine's own time (evalTotalTime) for every rule's expression, run one per core at the end of
   * the backfill, in ms: the work of a cycle without the waiting that Σ last duration also counts once
   * the groups outnumber what the cores get through in an interval. Not for direct, whose queries run
   * as the operator sends them, many at once, each timed with the others'.
   */
  queryMs?: number;
  /**
   * queryMs scaled by the samples the rules read at steady state over those they read at the instant:
   * an estimate for rules that read their own recordings (see SetSamples), which the instant has none of.
   */
  queryMsSteadyEstimate?: number;
  /** Prometheus's CPU seconds per round of every rule, or per read of every profile for direct. */
  cpuSecondsPerCycle: number;
  missed?: number;
  failures?: number;
  /** Samples read per profile per cycle; for rule sets at steady state (measured + recordedPerProfile). */
  samplesPerProfile: number;
  recordedPerProfile?: number;
  queriesPerProfile?: number;
  readMsMean?: number;
  readMsP99?: number;
  /** Wall time of one read of every profile, four at a time as the operator's workers go. */
  cycleSeconds?: number;
  rssMiB: number;
  seconds: number;
  notes: string[];
}

const EMPTY_RULES = "groups: []\n";
const POLL_MS = 5_000;
/** Long enough for three rounds of a rule set that takes a few minutes a round on two cores. */
const ROUNDS_TIMEOUT_MS = 30 * 60_000;
/** One query per core: the engine times it takes are then its own, hardly any other query's. */
const STATS_CONCURRENCY = 2;
/** The operator's default --workers: profiles read at once in Direct mode. */
const DIRECT_WORKERS = 4;

function one(text: string, name: string): number {
  return metricSamples(text, name)[0]?.value ?? NaN;
}

async function pool<T>(items: readonly T[], concurrency: number, f: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i];
      if (item !== undefined) await f(item, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/**
 * Loads the entry's rules alone, waits until every group has finished three rounds, reads the rules
 * manager's figures and Prometheus's CPU between the first round and the third, unloads them, then
 * evaluates every rule's expression once at `at` (the end of the backfill) for the samples it reads.
 */
export async function measureRules(prom: BenchPrometheus, entry: RulesEntry, profiles: readonly SloProfile[], at: Date, ctx: RuleSetContext, log: (m: string) => void): Promise<Result> {
  const t0 = Date.now();
  const notes: string[] = [];
  const yaml = await entry.rules(profiles, ctx);
  const rules = rulesOf(yaml, EVALUATION_INTERVAL_S);
  const groups = new Set(rules.map((r) => r.group)).size;
  log(`${entry.name} × ${profiles.length}: loading ${rules.length} rules in ${groups} groups`);
  await prom.loadRules(yaml);

  let first: { cpu: number; evaluations: number } | undefined;
  let rounds = 0;
  let text = "";
  const deadline = Date.now() + ROUNDS_TIMEOUT_MS;
  for (;;) {
    text = await prom.metrics();
    const gm = groupMetrics(text);
    rounds = gm.size === groups ? completedRounds(gm) : 0;
    const evaluations = [...gm.values()].reduce((n, g) => n + g.evaluations, 0);
    if (!first && rounds >= 1) first = { cpu: one(text, "process_cpu_seconds_total"), evaluations };
    if (rounds >= 3) break;
    if (Date.now() > deadline) {
      notes.push(`only ${rounds} full round(s) in ${ROUNDS_TIMEOUT_MS / 60_000} min`);
      break;
    }
    await sleep(POLL_MS);
  }
  const gm = groupMetrics(text);
  const evaluations = [...gm.values()].reduce((n, g) => n + g.evaluations, 0);
  const cpu = one(text, "process_cpu_seconds_total");
  const roundsBetween = first ? (evaluations - first.evaluations) / rules.length : 0;
  const evalMs = [...gm.values()].reduce((n, g) => n + g.lastDurationS, 0) * 1000;
  const missed = [...gm.values()].reduce((n, g) => n + g.missed, 0);
  const failures = [...gm.values()].reduce((n, g) => n + g.failures, 0);
  const rssMiB = one(text, "process_resident_memory_bytes") / 2 ** 20;
  log(`${entry.name} × ${profiles.length}: ${rounds} rounds in ${((Date.now() - t0) / 1000).toFixed(0)} s, Σ last duration ${evalMs.toFixed(0)} ms`);

  await prom.loadRules(EMPTY_RULES);
  const evaluated: Evaluated[] = new Array<Evaluated>(rules.length);
  let failed = 0;
  await pool(rules, STATS_CONCURRENCY, async (rule, i) => {
    try {
      const r = await prom.query(rule.expr, at);
      evaluated[i] = { samples: r.queryable, series: r.samples.length, seconds: r.seconds };
    } catch (err) {
      failed++;
      if (failed === 1) notes.push(`a rule's expression failed as a query: ${err instanceof Error ? err.message : String(err)}`);
      evaluated[i] = { samples: 0, series: 0, seconds: 0 };
    }
  });
  const s = setSamples(rules, evaluated);
  const n = profiles.length;
  const queryMs = s.seconds * 1000;
  if (s.recorded > 0) {
    notes.push(
      "reads its own recordings over long ranges, which a fresh Prometheus has minutes of: samples are counted at steady state, " +
        "the engine's time is estimated in proportion, the rules manager's is as measured",
    );
  }
  if (failures > 0) notes.push(`${failures} rule evaluation failures`);
  return {
    entry: entry.name,
    profiles: n,
    rules: rules.length,
    groups,
    rounds,
    evalMs,
    queryMs,
    ...(s.recorded > 0 && s.measured > 0 ? { queryMsSteadyEstimate: queryMs * (s.total / s.measured) } : {}),
    cpuSecondsPerCycle: roundsBetween > 0 ? (cpu - (first?.cpu ?? cpu)) / roundsBetween : NaN,
    missed,
    failures,
    samplesPerProfile: s.total / n,
    recordedPerProfile: s.recorded / n,
    rssMiB,
    seconds: (Date.now() - t0) / 1000,
    notes,
  };
}

/**
 * One Direct-mode read of every profile at `at`, as the operator makes it (readDirect per profile,
 * DIRECT_WORKERS profiles at once), with each query's statistics.
 */
export async function measureDirect(prom: BenchPrometheus, entry: QueriesEntry, profiles: readonly SloProfile[], at: Date, log: (m: string) => void): Promise<Result> {
  const t0 = Date.now();
  const notes: string[] = [];
  await prom.loadRules(EMPTY_RULES);
  const before = await prom.metrics();
  const latencies: number[] = [];
  let samples = 0;
  let queries = 0;
  let errors = 0;
  let verdicts = 0;
  const consumed: number[] = [];
  const started = performance.now();
  await pool(profiles, DIRECT_WORKERS, async (profile) => {
    const querier: InstantQuerier = {
      async query(expr, time) {
        const r = await prom.query(expr, time ?? at);
        samples += r.queryable;
        queries++;
        return r.samples;
      },
    };
    const t = performance.now();
    const [reading] = await readDirect(querier, [profile], at);
    latencies.push(performance.now() - t);
    if (reading?.measurements.error !== undefined || (reading?.problems.length ?? 0) > 0) {
      errors++;
      if (errors === 1) notes.push(`${profile.name}: ${reading?.measurements.error ?? reading?.problems[0]?.message ?? ""}`);
    }
    for (const m of reading?.measurements.slos ?? []) {
      if (m.verdict === "Ok") verdicts++;
      if (m.name === "availability" && m.consumedPercent !== undefined) consumed.push(m.consumedPercent);
    }
  });
  const cycleSeconds = (performance.now() - started) / 1000;
  const after = await prom.metrics();
  const n = profiles.length;
  if (errors > 0) notes.push(`${errors} profiles read with an error or a problem`);
  const sorted = [...consumed].sort((a, b) => a - b);
  log(
    `direct × ${n}: ${queries} queries in ${cycleSeconds.toFixed(1)} s, ${verdicts} of ${2 * n} SLOs with a verdict; availability budget consumed ` +
      `min ${sorted[0]?.toFixed(0) ?? "-"} %, median ${quantile(sorted, 0.5).toFixed(0)} %, max ${sorted.at(-1)?.toFixed(0) ?? "-"} %`,
  );
  return {
    entry: entry.name,
    profiles: n,
    cpuSecondsPerCycle: one(after, "process_cpu_seconds_total") - one(before, "process_cpu_seconds_total"),
    samplesPerProfile: samples / n,
    queriesPerProfile: queries / n,
    readMsMean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    readMsP99: quantile(latencies, 0.99),
    cycleSeconds,
    rssMiB: one(after, "process_resident_memory_bytes") / 2 ** 20,
    seconds: (Date.now() - t0) / 1000,
    notes,
  };
}
