// Measuring one entry for one set of profiles on the bench's Prometheus.

import { DEFAULT_WORKERS } from "../../src/operator.ts";
import { readDirect, type InstantQuerier } from "../../src/prometheus/slo-reader.ts";
import type { SloProfile } from "../../src/slo/plan.ts";
import { sleep } from "../../e2e/support/wait.ts";
import { EVALUATION_INTERVAL_S, type BenchPrometheus } from "./prometheus.ts";
import type { QueriesEntry, RuleSetContext, RulesEntry } from "./rulesets.ts";
import {
  completedRounds,
  cycleLastDurationS,
  evaluationsAt,
  groupMetrics,
  metricSamples,
  quantile,
  recordedNames,
  recordedReads,
  recordedReadsQuery,
  rulesOf,
  setSamples,
  type Evaluated,
  type GroupMetrics,
} from "./stats.ts";

export interface Result {
  entry: string;
  profiles: number;
  rules?: number;
  groups?: number;
  /** Rounds every group evaluated each cycle had finished when the figures were read. */
  rounds?: number;
  /**
   * Σ over groups of prometheus_rule_group_last_duration_seconds, each weighted by its share of a cycle
   * (a 5-minute group's a tenth), in ms: wall time, waits for the CPU and query slots included.
   */
  evalMs?: number;
  /**
   * The engine's own time (evalTotalTime) for every rule's expression, run one per core at the end of
   * the backfill, weighted like evalMs, in ms: the work of a cycle without the waiting that Σ last
   * duration also counts once the groups outnumber what the cores get through in an interval. Not for
   * direct, whose queries run as the operator sends them, many at once, each timed with the others'.
   */
  queryMs?: number;
  /**
   * queryMs scaled by the samples the rules read at steady state over those they read at the instant:
   * an estimate for rules that read their own recordings (see SetSamples), which the instant has none of.
   */
  queryMsSteadyEstimate?: number;
  /**
   * Prometheus's CPU seconds per round of the groups evaluated every cycle (with whatever the slower
   * groups did meanwhile), or per read of every profile for direct.
   */
  cpuSecondsPerCycle: number;
  missed?: number;
  failures?: number;
  /** Samples read per profile per cycle; for rule sets at steady state (measured + recordedPerProfile). */
  samplesPerProfile: number;
  recordedPerProfile?: number;
  /** Of recordedPerProfile, the share the instant read, from recordings backfilled before it. */
  recordedPresentShare?: number;
  queriesPerProfile?: number;
  readMsMean?: number;
  readMsP99?: number;
  /** Wall time of one read of every profile, as many at a time as the operator's default workers. */
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

function one(text: string, name: string): number {
  return metricSamples(text, name)[0]?.value ?? NaN;
}

export async function pool<T>(items: readonly T[], concurrency: number, f: (item: T, i: number) => Promise<void>): Promise<void> {
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

/** Whether every group evaluated less often than each cycle has run once, so its last duration is known. */
function slowerGroupsRan(gm: ReadonlyMap<string, GroupMetrics>, cycleS: number): boolean {
  return [...gm.values()].every((g) => g.intervalS === cycleS || g.evaluations >= g.rules);
}

/**
 * Loads the entry's rules alone, waits until the groups evaluated every cycle (the global 30 s) have
 * finished three rounds and every group evaluated less often has run once, reads the rules manager's
 * figures and Prometheus's CPU between the first of those rounds and the last, unloads them, then
 * evaluates every rule's expression once at `at` (the end of the backfill) for the samples it reads.
 *
 * Rounds are counted on the cycle's groups only: three rounds of Tollgate's 5-minute tiles groups would
 * take a quarter of an hour, for rules that run a tenth as often as the rest. One run of each slower
 * group is waited for, so its last duration is measured, and when there are slower groups the CPU is
 * read over at least the longest interval, so that each of them runs in it about as often as its share
 * of the rounds (once per tile for the tiles groups), and divided by the cycle's rounds in it.
 */
export async function measureRules(prom: BenchPrometheus, entry: RulesEntry, profiles: readonly SloProfile[], at: Date, ctx: RuleSetContext, log: (m: string) => void): Promise<Result> {
  const t0 = Date.now();
  const notes: string[] = [];
  const cycleS = EVALUATION_INTERVAL_S;
  const yaml = await entry.rules(profiles, ctx);
  const rules = rulesOf(yaml, cycleS);
  const groups = new Set(rules.map((r) => r.group)).size;
  log(`${entry.name} × ${profiles.length}: loading ${rules.length} rules in ${groups} groups`);
  await prom.loadRules(yaml);

  const longestMs = Math.max(...rules.map((r) => r.intervalS)) * 1000;
  const windowMs = longestMs > cycleS * 1000 ? longestMs : 0;
  let first: { cpu: number; evaluations: number; t: number } | undefined;
  let rounds = 0;
  let text = "";
  let gm = new Map<string, GroupMetrics>();
  const deadline = Date.now() + ROUNDS_TIMEOUT_MS;
  for (;;) {
    text = await prom.metrics();
    gm = groupMetrics(text);
    const all = gm.size === groups;
    rounds = all ? completedRounds(gm, cycleS) : 0;
    if (!first && rounds >= 1) first = { cpu: one(text, "process_cpu_seconds_total"), evaluations: evaluationsAt(gm, cycleS).evaluations, t: Date.now() };
    const left = first ? first.t + windowMs - Date.now() : Infinity;
    if (rounds >= 3 && slowerGroupsRan(gm, cycleS) && left <= 0) break;
    if (Date.now() > deadline) {
      notes.push(`only ${rounds} full round(s) in ${ROUNDS_TIMEOUT_MS / 60_000} min${slowerGroupsRan(gm, cycleS) ? "" : ", and not every slower group ran"}`);
      break;
    }
    // The window's end read within a second of it, not a poll late.
    await sleep(left > 0 ? Math.min(POLL_MS, left + 1_000) : POLL_MS);
  }
  const cycle = evaluationsAt(gm, cycleS);
  const cpu = one(text, "process_cpu_seconds_total");
  const roundsBetween = first && cycle.rules > 0 ? (cycle.evaluations - first.evaluations) / cycle.rules : 0;
  const evalMs = cycleLastDurationS(gm, cycleS) * 1000;
  const missed = [...gm.values()].reduce((n, g) => n + g.missed, 0);
  const failures = [...gm.values()].reduce((n, g) => n + g.failures, 0);
  const rssMiB = one(text, "process_resident_memory_bytes") / 2 ** 20;
  log(`${entry.name} × ${profiles.length}: ${rounds} rounds in ${((Date.now() - t0) / 1000).toFixed(0)} s, Σ last duration ${evalMs.toFixed(0)} ms a cycle`);

  await prom.loadRules(EMPTY_RULES);
  const evaluated: Evaluated[] = new Array<Evaluated>(rules.length);
  let failed = 0;
  const failedOnce = (err: unknown) => {
    failed++;
    if (failed === 1) notes.push(`a query failed: ${err instanceof Error ? err.message : String(err)}`);
  };
  await pool(rules, STATS_CONCURRENCY, async (rule, i) => {
    try {
      const r = await prom.query(rule.expr, at);
      evaluated[i] = { samples: r.queryable, series: r.samples.length, seconds: r.seconds };
    } catch (err) {
      failedOnce(err);
      evaluated[i] = { samples: 0, series: 0, seconds: 0 };
    }
  });

  // What the rules read of their own recordings at the instant, where some were backfilled (Tollgate's
  // tiles): replaced by the steady-state count, like the recordings no backfill wrote. Only names with
  // samples at all are asked about, rule by rule.
  const names = recordedNames(rules);
  const longest = new Map<string, number>();
  for (const rule of rules) for (const read of recordedReads(rule.expr, names)) longest.set(read.metric, Math.max(longest.get(read.metric) ?? 0, read.rangeS ?? 0));
  const present = new Set<string>();
  for (const [name, rangeS] of longest) {
    const r = await prom.query(`count(count_over_time(${name}[${Math.max(300_000, Math.round(rangeS * 1000))}ms]))`, at).catch((err: unknown) => {
      failedOnce(err);
      return undefined;
    });
    if ((r?.samples[0]?.value ?? 0) > 0) present.add(name);
  }
  const recordedAtInstant = new Array<number>(rules.length).fill(0);
  if (present.size > 0) {
    await pool(rules, STATS_CONCURRENCY, async (rule, i) => {
      const q = recordedReadsQuery(rule, present);
      if (q === undefined) return;
      try {
        recordedAtInstant[i] = (await prom.query(q, at)).queryable;
      } catch (err) {
        failedOnce(err);
      }
    });
  }
  if (failed > 0) notes.push(`${failed} queries failed`);

  const s = setSamples(rules, evaluated, cycleS, recordedAtInstant);
  const n = profiles.length;
  const queryMs = s.seconds * 1000;
  const presentShare = s.recorded > 0 ? s.recordedAtInstant / s.recorded : 0;
  if (s.recorded > 0) {
    notes.push(
      presentShare > 0.99
        ? `reads its own recordings over long ranges, backfilled (${(presentShare * 100).toFixed(1)} % of the steady-state reads were there): samples counted at steady state, the engine's time measured on them`
        : `reads its own recordings over long ranges, of which ${(presentShare * 100).toFixed(1)} % were there at the instant (a fresh Prometheus has minutes of its recordings): ` +
            "samples are counted at steady state, the engine's time is estimated in proportion, the rules manager's is as measured",
    );
  }
  if (groups > 0 && rules.some((r) => r.intervalS !== cycleS)) {
    notes.push(`groups evaluated every ${[...new Set(rules.filter((r) => r.intervalS !== cycleS).map((r) => `${r.intervalS} s`))].join(", ")} count by their share of a ${cycleS} s cycle`);
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
    ...(s.recorded > 0 ? { recordedPresentShare: presentShare } : {}),
    rssMiB,
    seconds: (Date.now() - t0) / 1000,
    notes,
  };
}

/**
 * One Direct-mode read of every profile at `at`, as the operator makes it (readDirect per profile,
 * as many profiles at once as the operator's default workers), with each query's statistics.
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
  await pool(profiles, DEFAULT_WORKERS, async (profile) => {
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
