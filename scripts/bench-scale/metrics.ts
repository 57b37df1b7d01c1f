// Figures read from the operator's /metrics between two scrapes. Pure: the scrapes are the caller's.

import { metricSamples } from "../bench-prometheus/stats.ts";

/** Labels a sample must carry, e.g. {controller: "profile"}. */
export type Match = Readonly<Record<string, string>>;

const matches = (labels: Record<string, string>, match: Match) => Object.entries(match).every(([k, v]) => labels[k] === v);

/** Σ of a metric's samples that carry `match` (every series of a counter, say, summed over its other labels). */
export function total(text: string, name: string, match: Match = {}): number {
  return metricSamples(text, name)
    .filter((s) => matches(s.labels, match))
    .reduce((acc, s) => acc + s.value, 0);
}

/** How much a counter (or a histogram's _count or _sum) grew between two scrapes. */
export function delta(before: string, after: string, name: string, match: Match = {}): number {
  return total(after, name, match) - total(before, name, match);
}

/** One bucket of a histogram's observations between two scrapes: how many were ≤ le. */
export interface Bucket {
  le: number;
  count: number;
}

/** A histogram's cumulative buckets over the observations between two scrapes, ascending by bound, summed over series that carry `match`. */
export function bucketDeltas(before: string, after: string, name: string, match: Match = {}): Bucket[] {
  const read = (text: string) => {
    const m = new Map<number, number>();
    for (const s of metricSamples(text, `${name}_bucket`)) {
      if (!matches(s.labels, match) || s.labels.le === undefined) continue;
      const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
      m.set(le, (m.get(le) ?? 0) + s.value);
    }
    return m;
  };
  const b = read(before);
  const a = read(after);
  return [...a.keys()].sort((x, y) => x - y).map((le) => ({ le, count: (a.get(le) ?? 0) - (b.get(le) ?? 0) }));
}

/**
 * The q-quantile of a histogram's observations, interpolated linearly inside its bucket as
 * histogram_quantile does; in the +Inf bucket, the highest finite bound. `dropTop` leaves the largest
 * observations out first (those known to have waited on something else). NaN without observations.
 */
export function histogramQuantile(buckets: readonly Bucket[], q: number, dropTop = 0): number {
  const observed = (buckets.at(-1)?.count ?? 0) - Math.max(0, dropTop);
  if (observed <= 0) return NaN;
  const rank = q * observed;
  let prevLe = 0;
  let prevCount = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** What the operator counts as not having waited on Prometheus: tollgate_reconcile_prometheus_wait_seconds' first bound. */
export const NO_WAIT_S = 0.001;

/**
 * How many profile passes between two scrapes waited on Prometheus (a recording-rule batch in flight,
 * or their own queries), as the operator measured them: tollgate_reconcile_prometheus_wait_seconds
 * observations above its first bound. The p99 excluding Prometheus leaves that many of the slowest out.
 */
export function waitedOnPrometheus(before: string, after: string): number {
  const buckets = bucketDeltas(before, after, "tollgate_reconcile_prometheus_wait_seconds");
  const quick = buckets.find((b) => b.le === NO_WAIT_S)?.count ?? 0;
  return Math.max(0, (buckets.at(-1)?.count ?? 0) - quick);
}

/**
 * The operator's memory as Node reports it on /metrics (prom-client's default metrics, prefixed
 * tollgate_), in MiB: process.memoryUsage()'s rss, heapUsed, heapTotal and external. Node counts
 * arrayBuffers (Buffers included) inside external; prom-client does not export them apart.
 */
export interface MemoryFigures {
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
}

const MiB = 1024 * 1024;

export function memoryFigures(text: string): MemoryFigures {
  const one = (name: string) => {
    const s = metricSamples(text, name);
    return s.length === 1 ? s[0]!.value / MiB : NaN;
  };
  return {
    rssMiB: one("tollgate_process_resident_memory_bytes"),
    heapUsedMiB: one("tollgate_nodejs_heap_size_used_bytes"),
    heapTotalMiB: one("tollgate_nodejs_heap_size_total_bytes"),
    externalMiB: one("tollgate_nodejs_external_memory_bytes"),
  };
}

/** Verbs of the requests that write (WATCH, GET: reads). */
export const WRITE_VERBS: readonly string[] = ["POST", "PUT", "PATCH", "DELETE"];

/**
 * Requests one of the operator's API clients sent between two scrapes, all or only its writes: the
 * count of tollgate_kube_api_rate_limit_wait_seconds, which every request passes through.
 */
export function apiRequests(before: string, after: string, client: "controllers" | "leader-election", only: "all" | "writes" = "all"): number {
  const name = "tollgate_kube_api_rate_limit_wait_seconds_count";
  if (only === "all") return delta(before, after, name, { client });
  return WRITE_VERBS.reduce((n, verb) => n + delta(before, after, name, { client, verb }), 0);
}
