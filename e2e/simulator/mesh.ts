// The simulated workloads and their request counters. Counters advance with the clock, lazily:
// whenever something reads them, every workload first catches up on the requests it would have
// served since it was last looked at.

import { cumulativeBuckets, istioLabels, type Observation } from "./istio.ts";
import type { RequestSeries } from "./exposition.ts";
import * as Q from "./rational.ts";
import type { Rational } from "./rational.ts";
import {
  applyPatch,
  defaultParams,
  parseWorkloadPatch,
  validateWorkloadKey,
  type WorkloadInput,
  type WorkloadParams,
} from "./workload.ts";

/** Milliseconds on a clock that only moves forward; tests pass their own. */
export type Clock = () => number;

// Not Date.now(): a wall clock stepped back by NTP would stall the counters, and stepped forward
// would burst them.
export const monotonicClock: Clock = () => performance.now();

export interface WorkloadCounters {
  total: number;
  /** Every request not answered with 200. */
  errors: number;
  byCode: Record<string, number>;
  byLatencyMs: Record<string, number>;
  /** Cumulative histogram buckets keyed by `le` as exposed, e.g. buckets["500"], buckets["+Inf"]. */
  buckets: Record<string, number>;
  sumMs: number;
}

export interface WorkloadView {
  namespace: string;
  name: string;
  params: WorkloadParams;
  counters: WorkloadCounters;
}

/** Requests of one response code that took one latency. */
interface RequestClass {
  readonly ms: number;
  count: bigint;
  /** The fraction of a request owed but not yet counted, so integer counts never drift from rate × time. */
  carry: Rational;
}

/** One label set, i.e. one istio_requests_total series and one histogram. */
interface Series {
  readonly service: string;
  readonly version: string;
  readonly responseCode: string;
  readonly classes: Map<number, RequestClass>;
}

interface Flow {
  readonly into: RequestClass;
  readonly perMs: Rational;
}

interface Workload {
  readonly namespace: string;
  readonly name: string;
  params: WorkloadParams;
  // Keyed by label set rather than by class alone: when the service or version changes, the old
  // series keep their counts (as stale series of old pods would) instead of a new label set
  // inheriting them, so every exposed counter stays monotonic.
  readonly series: Map<string, Series>;
  flows: Flow[];
  /** Clock reading up to which the counters are settled. */
  since: number;
}

const PER_SECOND_TO_PER_MS = Q.rational(1n, 1000n);

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class Mesh {
  readonly #clock: Clock;
  readonly #workloads = new Map<string, Workload>();

  constructor(clock: Clock = monotonicClock) {
    this.#clock = clock;
  }

  /** Creates the workload or updates the fields the input sets. Throws ValidationError on bad input. */
  put(namespace: string, name: string, input: WorkloadInput): { view: WorkloadView; created: boolean } {
    validateWorkloadKey(namespace, name);
    const patch = parseWorkloadPatch(input);
    const now = this.#clock();
    let w = this.#workloads.get(key(namespace, name));
    const created = w === undefined;
    if (w === undefined) {
      w = { namespace, name, params: defaultParams(name), series: new Map(), flows: [], since: now };
      this.#workloads.set(key(namespace, name), w);
    } else {
      // The old parameters hold until now; the new ones only from now on.
      advance(w, now);
    }
    w.params = applyPatch(w.params, patch);
    w.flows = flowsFor(w);
    return { view: view(w), created };
  }

  get(namespace: string, name: string): WorkloadView | undefined {
    const w = this.#workloads.get(key(namespace, name));
    if (w === undefined) return undefined;
    advance(w, this.#clock());
    return view(w);
  }

  list(): WorkloadView[] {
    const now = this.#clock();
    return this.#sorted().map((w) => {
      advance(w, now);
      return view(w);
    });
  }

  delete(namespace: string, name: string): boolean {
    return this.#workloads.delete(key(namespace, name));
  }

  /** Counters drop to zero, as when the pod restarts; parameters stay. */
  reset(namespace: string, name: string): WorkloadView | undefined {
    const w = this.#workloads.get(key(namespace, name));
    if (w === undefined) return undefined;
    w.series.clear();
    w.flows = flowsFor(w);
    w.since = this.#clock();
    return view(w);
  }

  /** Every series as of now, in a stable order. */
  series(): RequestSeries[] {
    const now = this.#clock();
    const out: RequestSeries[] = [];
    for (const w of this.#sorted()) {
      advance(w, now);
      const series = [...w.series.values()].sort(
        (a, b) => cmp(a.service, b.service) || cmp(a.version, b.version) || cmp(a.responseCode, b.responseCode),
      );
      for (const s of series) {
        out.push({
          labels: istioLabels({ namespace: w.namespace, workload: w.name, service: s.service, version: s.version, responseCode: s.responseCode }),
          observations: observations(s.classes.values()),
        });
      }
    }
    return out;
  }

  #sorted(): Workload[] {
    return [...this.#workloads.values()].sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function advance(w: Workload, now: number): void {
  const elapsed = Q.sub(Q.fromNumber(now), Q.fromNumber(w.since));
  if (Q.compare(elapsed, Q.ZERO) <= 0) return;
  for (const f of w.flows) {
    const owed = Q.add(f.into.carry, Q.mul(f.perMs, elapsed));
    const whole = Q.floor(owed);
    f.into.count += whole;
    f.into.carry = Q.sub(owed, Q.rational(whole));
  }
  w.since = now;
}

/**
 * Where the workload's requests go under its current parameters. A class with a zero share gets
 * no series (a service that never fails has no 500 series, as in a real mesh), but one with a
 * share and a zero rate does: an idle workload still shows up, at zero.
 */
function flowsFor(w: Workload): Flow[] {
  const p = w.params;
  const perMs = Q.mul(Q.fromNumber(p.rate), PER_SECOND_TO_PER_MS);
  const errorShare = Q.fromNumber(p.errorRatio);
  const codes: Array<[string, Rational]> = [
    ["200", Q.sub(Q.ONE, errorShare)],
    [p.errorCode, errorShare],
  ];
  const weights = p.latencies.map((l) => Q.fromNumber(l.weight));
  const totalWeight = weights.reduce(Q.add, Q.ZERO);
  const flows: Flow[] = [];
  for (const [code, codeShare] of codes) {
    if (Q.compare(codeShare, Q.ZERO) <= 0) continue;
    p.latencies.forEach((l, i) => {
      const weight = weights[i] ?? Q.ZERO;
      const share = Q.mul(codeShare, Q.div(weight, totalWeight));
      flows.push({ into: requestClass(w, code, l.ms), perMs: Q.mul(perMs, share) });
    });
  }
  return flows;
}

function requestClass(w: Workload, responseCode: string, ms: number): RequestClass {
  const { service, version } = w.params;
  const seriesKey = JSON.stringify([service, version, responseCode]);
  let s = w.series.get(seriesKey);
  if (s === undefined) {
    s = { service, version, responseCode, classes: new Map() };
    w.series.set(seriesKey, s);
  }
  let c = s.classes.get(ms);
  if (c === undefined) {
    c = { ms, count: 0n, carry: Q.ZERO };
    s.classes.set(ms, c);
  }
  return c;
}

function observations(classes: Iterable<RequestClass>): Observation[] {
  return [...classes].sort((a, b) => a.ms - b.ms).map((c) => ({ ms: c.ms, count: Number(c.count) }));
}

function view(w: Workload): WorkloadView {
  const byCode: Record<string, number> = {};
  const byMs = new Map<number, number>();
  for (const s of w.series.values()) {
    for (const c of s.classes.values()) {
      const n = Number(c.count);
      byCode[s.responseCode] = (byCode[s.responseCode] ?? 0) + n;
      byMs.set(c.ms, (byMs.get(c.ms) ?? 0) + n);
    }
  }
  const all = [...byMs].sort(([a], [b]) => a - b).map(([ms, count]) => ({ ms, count }));
  const total = all.reduce((n, o) => n + o.count, 0);
  return {
    namespace: w.namespace,
    name: w.name,
    params: structuredClone(w.params),
    counters: {
      total,
      errors: total - (byCode["200"] ?? 0),
      byCode,
      byLatencyMs: Object.fromEntries(all.map((o) => [String(o.ms), o.count])),
      buckets: Object.fromEntries(cumulativeBuckets(all).map((b) => [b.le, b.count])),
      sumMs: all.reduce((acc, o) => acc + o.ms * o.count, 0),
    },
  };
}
