// The checker's own error-budget arithmetic, from the simulator's counters as Prometheus stored them
// (raw samples, no rate(), no extrapolation): budget consumed over a window is the error ratio over it
// divided by the allowed ratio (1 − objective), as README's policy defines it.

export interface RawSeries {
  metric: Record<string, string>;
  /** [epoch ms, value], oldest first. */
  samples: Array<[number, number]>;
}

/** A sample older than this is stale: Prometheus was not scraping (or not running) then. */
export const STALE_MS = 5_000;

/** The value of a counter at `t`: its last sample at or before t, when that sample is fresh. */
export function valueAt(s: RawSeries, t: number): number | undefined {
  const i = lastIndexAtOrBefore(s.samples, t);
  if (i < 0) return undefined;
  const [ts, v] = s.samples[i]!;
  return t - ts <= STALE_MS ? v : undefined;
}

function lastIndexAtOrBefore(samples: ReadonlyArray<[number, number]>, t: number): number {
  let lo = 0;
  let hi = samples.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]![0] <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * How much a counter grew over (a, b]: its value at b minus its value at a. A series first seen after
 * a started from 0 (counters are born at zero); when Prometheus has no fresh sample at a (a gap), the
 * first sample inside the window stands in. Undefined when there is no fresh sample at b.
 */
export function increase(s: RawSeries, a: number, b: number): number | undefined {
  const vb = valueAt(s, b);
  if (vb === undefined) return undefined;
  let va = valueAt(s, a);
  if (va === undefined) {
    const first = s.samples[0];
    if (first === undefined || first[0] > a) va = 0;
    else {
      const i = lastIndexAtOrBefore(s.samples, a) + 1;
      const inside = s.samples[i];
      va = inside !== undefined && inside[0] <= b ? inside[1] : vb;
    }
  }
  // A counter that went down was reset: everything it shows now is new.
  return vb >= va ? vb - va : vb;
}

export type Indicator = { kind: "availability" } | { kind: "latency"; thresholdMs: number };

export interface SloDef {
  name: string;
  objective: number;
  windowMs: number;
  indicator: Indicator;
}

/** The raw series of one Prometheus, indexed by workload. */
export class Counters {
  readonly #requests = new Map<string, RawSeries[]>();
  readonly #buckets = new Map<string, RawSeries[]>();

  /** `requests`: istio_requests_total; `buckets`: istio_request_duration_milliseconds_bucket. */
  constructor(requests: readonly RawSeries[], buckets: readonly RawSeries[]) {
    for (const s of requests) push(this.#requests, key(s), s);
    for (const s of buckets) push(this.#buckets, key(s), s);
  }

  /** Bad and total events of `indicator` for `workloads` of `namespace` over (a, b]; undefined without fresh data. */
  events(namespace: string, workloads: readonly string[], indicator: Indicator, a: number, b: number): { bad: number; total: number } | undefined {
    let bad = 0;
    let total = 0;
    let seen = false;
    for (const w of workloads) {
      if (indicator.kind === "availability") {
        for (const s of this.#requests.get(`${namespace}/${w}`) ?? []) {
          const inc = increase(s, a, b);
          if (inc === undefined) continue;
          seen = true;
          total += inc;
          if ((s.metric.response_code ?? "").startsWith("5")) bad += inc;
        }
      } else {
        for (const s of this.#buckets.get(`${namespace}/${w}`) ?? []) {
          const le = s.metric.le ?? "";
          const inf = le === "+Inf";
          const atThreshold = !inf && Number(le) === indicator.thresholdMs;
          if (!inf && !atThreshold) continue;
          const inc = increase(s, a, b);
          if (inc === undefined) continue;
          seen = true;
          if (inf) {
            total += inc;
            bad += inc;
          } else bad -= inc;
        }
      }
    }
    return seen ? { bad, total } : undefined;
  }
}

function key(s: RawSeries): string {
  return `${s.metric.destination_workload_namespace ?? ""}/${s.metric.destination_workload ?? ""}`;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** Burn rate over (t − windowMs, t]: error ratio ÷ allowed ratio. Undefined with no events. */
export function burnRate(c: Counters, namespace: string, workloads: readonly string[], slo: SloDef, windowMs: number, t: number): number | undefined {
  const e = c.events(namespace, workloads, slo.indicator, t - windowMs, t);
  if (!e || e.total <= 0) return undefined;
  return e.bad / e.total / (1 - slo.objective / 100);
}

/** Percent of the SLO's budget consumed over its window at t; undefined (no verdict) under minEvents. */
export function consumedPercent(c: Counters, namespace: string, workloads: readonly string[], slo: SloDef, minEvents: number, t: number): number | undefined {
  const e = c.events(namespace, workloads, slo.indicator, t - slo.windowMs, t);
  if (!e || e.total < minEvents || e.total <= 0) return undefined;
  return (100 * (e.bad / e.total)) / (1 - slo.objective / 100);
}

const THIRTY_DAYS_MS = 30 * 86_400_000;
/** The shortest burn window, for the short SLO windows a soak uses (README: "Reading modes"). */
export const MIN_BURN_WINDOW_MS = 10_000;

/** The window of a burn-rate role (5m, 1h of a 30-day SLO) scaled to an SLO window, at least 10 s, at most the window. */
export function roleWindowMs(roleMs: number, sloWindowMs: number): number {
  const scaled = Math.round((roleMs * sloWindowMs) / THIRTY_DAYS_MS / 1000) * 1000;
  return Math.min(Math.max(scaled, MIN_BURN_WINDOW_MS), sloWindowMs);
}
