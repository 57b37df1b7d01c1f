// The scale bench's sizes, its figures against issue 13's targets, the slopes between sizes and the
// closing JSON line. Pure: the measuring is scripts/bench-scale.ts's.

import type { MemoryFigures } from "./metrics.ts";

export const DEFAULT_SIZES: readonly number[] = [0, 2_000, 5_000, 10_000];

/** BENCH_SIZES ("0,200"): profile counts, ascending, each once; the defaults when unset. */
export function parseSizes(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === "") return [...DEFAULT_SIZES];
  const sizes = raw.split(",").map((s) => {
    const n = Number(s.trim());
    if (s.trim() === "" || !Number.isInteger(n) || n < 0) throw new Error(`BENCH_SIZES must be profile counts separated by commas, such as 0,200, not ${JSON.stringify(raw)}`);
    return n;
  });
  return [...new Set(sizes)].sort((a, b) => a - b);
}

/** What one size measured. NaN where a figure could not be had (no reconciles in the window, say). */
export interface SizeFigures {
  profiles: number;
  /** Median resident memory over the steady cycles. */
  rssSteadyMiB: number;
  /** The measured process's high-water mark, first pass included (VmHWM). */
  rssPeakMiB: number;
  /** Reconcile p99 with the reconciles that waited on a recording-rule read left out (metrics.ts). */
  reconcileP99Ms: number;
  /** Reconcile p99 of every reconcile, Prometheus waits included: an upper bound of the figure above. */
  reconcileP99AllMs: number;
  /** How many reconciles of the window were left out as having waited on Prometheus. */
  waitedOnPrometheus: number;
  /** Reconciles in the steady window, and the cycles it spanned: each profile is due once a cycle. */
  reconciles: number;
  /** Of those, the ones that failed (and were retried after a backoff): each retry is a reconcile too. */
  failedReconciles: number;
  cycles: number;
  /** The operator's CPU time over the steady window, per second of it: cores in use. */
  cpuCores: number;
  /** A restarted operator's first pass: from its start until every profile was reconciled once. */
  firstPassS: number;
  /** Profiles added at this size, and how long the operator took to write their first status. */
  added: number;
  adoptionS: number;
  queriesPerCycle: number;
  /** The controllers' API writes in one quiet cycle (every kind), and the profiles whose status moved in it. */
  quietWrites: number;
  quietStatusWrites: number;
  /** The controllers' API requests per second: adding profiles, in the restarted first pass, in steady cycles. */
  apiPerS: { adoption: number; firstPass: number; steady: number };
  /** process.memoryUsage() as /metrics serves it, at the end of the steady cycles. */
  memory: MemoryFigures;
}

/** Issue 13's resident memory targets: 80 MiB idle, 150 MiB at 2,000 profiles, 256 MiB at 10,000. */
export const RSS_TARGETS: ReadonlyArray<readonly [profiles: number, mib: number]> = [
  [0, 80],
  [2_000, 150],
  [10_000, 256],
];
export const P99_TARGET_MS = 50;
/** Set at 10,000 profiles; a pass over fewer is held to it too. */
export const FIRST_PASS_TARGET_S = 60;

/**
 * The resident memory target at a size: the issue's own, or a straight line between the two around it
 * (`interpolated`); none past the largest.
 */
export function rssTarget(profiles: number): { mib: number; interpolated: boolean } | undefined {
  for (let i = 0; i < RSS_TARGETS.length; i++) {
    const [n, mib] = RSS_TARGETS[i]!;
    if (n === profiles) return { mib, interpolated: false };
    const next = RSS_TARGETS[i + 1];
    if (next && profiles > n && profiles < next[0]) return { mib: mib + ((next[1] - mib) * (profiles - n)) / (next[0] - n), interpolated: true };
  }
  return undefined;
}

/** Change per 1,000 profiles between two sizes. */
export function slope(from: { profiles: number; value: number }, to: { profiles: number; value: number }): number {
  if (to.profiles === from.profiles) return NaN;
  return ((to.value - from.value) * 1000) / (to.profiles - from.profiles);
}

/** A value against its target: "0.62x" and whether it meets it (at most the target). */
export function ratio(value: number, target: number): { text: string; ok: boolean } {
  if (!Number.isFinite(value)) return { text: "n/a", ok: false };
  if (target === 0) return { text: value === 0 ? "met" : `${value} over`, ok: value === 0 };
  return { text: `${(value / target).toFixed(2)}x`, ok: value <= target };
}

/** A figure to `digits` decimals, or "n/a" when it was not measured. */
export const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : "n/a");
const mark = (ok: boolean) => (ok ? "ok" : "OVER");
const against = (value: number, target: number, unit: string, note = "") => {
  if (!Number.isFinite(value)) return "not measured";
  const r = ratio(value, target);
  return `${r.text} of ${target}${unit}${note} ${mark(r.ok)}`;
};

/** The figures of one size, one per line, each with its ratio to its target. */
export function sizeLines(f: SizeFigures, opts: { intervalS: number; cycles: number; qps: number; adoptQps?: number; baselineQueries?: number }): string[] {
  const rss = rssTarget(f.profiles);
  const rssAgainst = (v: number) => (rss ? against(v, Math.round(rss.mib), " MiB", rss.interpolated ? " (interpolated)" : "") : "no target");
  const m = f.memory;
  const outside = m.rssMiB - m.heapTotalMiB - m.externalMiB;
  const lines = [
    `${f.profiles} profiles (2 SLOs each, every ${opts.intervalS}s):`,
    `  RSS steady        ${fixed(f.rssSteadyMiB, 0)} MiB (median over ${opts.cycles} cycles)  ${rssAgainst(f.rssSteadyMiB)}`,
    `  RSS peak          ${fixed(f.rssPeakMiB, 0)} MiB (high-water mark, first pass included)  ${rssAgainst(f.rssPeakMiB)}`,
    `  memory            heap used ${fixed(m.heapUsedMiB, 0)} MiB of ${fixed(m.heapTotalMiB, 0)} MiB, external ${fixed(m.externalMiB, 0)} MiB (array buffers within), rest of RSS ${fixed(outside, 0)} MiB (code, stacks, allocator)`,
    `  reconcile p99     ${fixed(f.reconcileP99Ms, 1)} ms excluding Prometheus (${f.waitedOnPrometheus} of ${f.reconciles} reconciles left out: they waited on Prometheus), ${fixed(f.reconcileP99AllMs, 1)} ms all  ${against(f.reconcileP99Ms, P99_TARGET_MS, " ms")}`,
    `  first full pass   ${fixed(f.firstPassS, 1)} s after a restart  ${against(f.firstPassS, FIRST_PASS_TARGET_S, " s")}`,
    `  throughput        ${fixed(f.reconciles / f.cycles, 0)} reconciles per ${opts.intervalS}s cycle, ${f.profiles > 0 ? `${fixed((100 * f.reconciles) / f.cycles / f.profiles, 0)} % of the profiles due` : "none due"}${f.failedReconciles > 0 ? ` (${f.failedReconciles} failed)` : ""}; CPU ${fixed(f.cpuCores, 2)} cores`,
  ];
  if (f.added > 0) {
    const adoptQps = opts.adoptQps ?? opts.qps;
    lines.push(`  adding profiles   ${f.added} new ones had their first status in ${fixed(f.adoptionS, 1)} s (${fixed(f.apiPerS.adoption, 1)} API requests/s)  ${against(f.apiPerS.adoption, adoptQps, "/s (its --kube-api-qps)")}`);
  }
  const q = opts.baselineQueries;
  lines.push(
    `  queries/cycle     ${fixed(f.queriesPerCycle, 1)}${q !== undefined && q > 0 ? `  ${ratio(f.queriesPerCycle, q).text} of ${fixed(q, 1)} at the smallest size ${mark(f.queriesPerCycle <= q)}` : ""}`,
    `  quiet cycle       ${f.quietWrites} API writes, ${f.quietStatusWrites} status writes  ${against(f.quietWrites, 0, "")}`,
    `  API requests/s    ${fixed(f.apiPerS.firstPass, 1)} in the first pass, ${fixed(f.apiPerS.steady, 1)} steady  ${against(Math.max(f.apiPerS.firstPass, f.apiPerS.steady), opts.qps, "/s (--kube-api-qps)")}`,
  );
  return lines;
}

/** The slopes between consecutive sizes: MiB, ms and s per 1,000 profiles. */
export function slopeLines(results: readonly SizeFigures[]): string[] {
  const lines: string[] = [];
  for (let i = 1; i < results.length; i++) {
    const a = results[i - 1]!;
    const b = results[i]!;
    const per = (pick: (f: SizeFigures) => number) => slope({ profiles: a.profiles, value: pick(a) }, { profiles: b.profiles, value: pick(b) });
    lines.push(
      `  ${a.profiles} -> ${b.profiles}: RSS steady ${fixed(per((f) => f.rssSteadyMiB), 1)} MiB, peak ${fixed(per((f) => f.rssPeakMiB), 1)} MiB, heap used ${fixed(per((f) => f.memory.heapUsedMiB), 1)} MiB, CPU ${fixed(per((f) => f.cpuCores), 3)} cores, reconcile p99 ${fixed(per((f) => f.reconcileP99Ms), 2)} ms, first pass ${fixed(per((f) => f.firstPassS), 2)} s per 1,000 profiles`,
    );
  }
  return lines;
}

const round = (v: number, digits: number) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);

/** The closing JSON line: the largest size's figures, and the idle RSS if size 0 was measured. */
export function summaryJson(results: readonly SizeFigures[]): string {
  const largest = results.at(-1);
  if (!largest) throw new Error("no size was measured");
  const idle = results.find((r) => r.profiles === 0);
  return JSON.stringify({
    profiles: largest.profiles,
    rssMiB: round(largest.rssPeakMiB, 1),
    idleRssMiB: idle ? round(idle.rssSteadyMiB, 1) : null,
    reconcileP99Ms: round(largest.reconcileP99Ms, 1),
    firstPassS: round(largest.firstPassS, 1),
    queriesPerCycle: round(largest.queriesPerCycle, 2),
    quietWrites: largest.quietWrites,
  });
}
