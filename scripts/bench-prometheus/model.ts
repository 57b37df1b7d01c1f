// The traffic model behind the backfill: per workload, a seeded state machine advanced one scrape
// (15 s) at a time, whose counters are what Istio's destination proxies would have reported. Healthy
// traffic with a daily swing, error and latency bursts at random (so every window of every workload
// reads differently), and pod restarts that reset the counters.

export const SCRAPE_SECONDS = 15;
export const STEPS_PER_DAY = 86_400 / SCRAPE_SECONDS;

/**
 * What series a workload has. Only the bucket at the SLO's threshold (500 ms) and the counts are ever
 * read; the other buckets are there so the histogram looks like one, kept few because every series
 * costs 172,800 samples a month to generate and convert.
 */
export interface Layout {
  sources: readonly string[];
  /** The first is the success code; the others share the errors. */
  codes: readonly string[];
  /** Finite bucket bounds in milliseconds, ascending; +Inf is implied. */
  bucketsMs: readonly number[];
}

export const LAYOUT: Layout = {
  sources: ["istio-ingressgateway", "frontend"],
  codes: ["200", "500"],
  bucketsMs: [100, 250, 500, 1000, 2500],
};

/** Bumped whenever the model or the layout changes what is generated, so cached blocks are not reused. */
export const MODEL_VERSION = 1;

export interface WorkloadIdentity {
  index: number;
  name: string;
  namespace: string;
}

export function workloadIdentity(index: number): WorkloadIdentity {
  return { index, name: `svc-${String(index).padStart(3, "0")}`, namespace: `team-${index % 10}` };
}

// ---------------------------------------------------------------------------------------------------
// Randomness: mulberry32, whose whole state is one 32-bit integer, so a workload's state is plain JSON
// and a cell of the backfill can be generated again from where the previous one stopped.

export interface Rng {
  rng: number;
}

export function random(s: Rng): number {
  const a = (s.rng + 0x6d2b79f5) | 0;
  s.rng = a;
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** A 32-bit seed from several integers (FNV-1a over their bytes), so workloads never share a stream. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    for (let i = 0; i < 4; i++) {
      h ^= (p >>> (8 * i)) & 0xff;
      h = Math.imul(h, 0x01000193);
    }
  }
  return h | 0;
}

function uniform(s: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * random(s);
}

function logUniform(s: Rng, lo: number, hi: number): number {
  return Math.exp(uniform(s, Math.log(lo), Math.log(hi)));
}

/** An integer with expectation x: floor(x + u). Keeps counts unbiased without Poisson sampling. */
function dither(s: Rng, x: number): number {
  return Math.floor(x + random(s));
}

/** Steps until the next event of a Poisson process with the given mean gap (in seconds). */
function exponentialSteps(s: Rng, meanSeconds: number): number {
  return Math.max(1, Math.round((-Math.log(1 - random(s)) * meanSeconds) / SCRAPE_SECONDS));
}

// ---------------------------------------------------------------------------------------------------
// Latency: log-normal, its median moved up during a latency burst.

/** erfc with fractional error below 1.2e-7 (Numerical Recipes' erfcc). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(latency ≤ boundMs) for a log-normal latency with the given median and sigma. */
export function latencyCdf(boundMs: number, medianMs: number, sigma: number): number {
  return 0.5 * erfc(-(Math.log(boundMs / medianMs) / sigma) / Math.SQRT2);
}

/** Share of requests in each bucket interval (≤ b0, (b0, b1], ..., > last), summing to 1. */
export function intervalShares(bucketsMs: readonly number[], medianMs: number, sigma: number): number[] {
  const cdf = bucketsMs.map((b) => latencyCdf(b, medianMs, sigma));
  return [...cdf, 1].map((c, i) => c - (i === 0 ? 0 : (cdf[i - 1] ?? 0)));
}

/** A request's latency as the _sum counts it: the interval's geometric middle, twice the last bound above it. */
function intervalMs(bucketsMs: readonly number[]): number[] {
  return [...bucketsMs, Infinity].map((b, i) => {
    const lo = i === 0 ? b / 4 : (bucketsMs[i - 1] ?? 0);
    return Number.isFinite(b) ? Math.sqrt(lo * b) : 2 * lo;
  });
}

// ---------------------------------------------------------------------------------------------------
// One workload.

/** Fixed for the whole run: drawn from the seed and the workload's index, never stored. */
export interface WorkloadParams {
  baseRate: number;
  diurnalAmplitude: number;
  diurnalPhase: number;
  /** Share of requests from each source, summing to 1. */
  sourceShares: number[];
  baseErrorRatio: number;
  errorBurstGapS: number;
  latencyMedianMs: number;
  latencySigma: number;
  latencyBurstGapS: number;
  restartGapS: number;
}

export function workloadParams(seed: number, index: number, layout: Layout = LAYOUT): WorkloadParams {
  const s: Rng = { rng: mixSeed(seed, index, 0x9a7a) };
  const first = uniform(s, 0.55, 0.9);
  const rest = layout.sources.length - 1;
  return {
    baseRate: logUniform(s, 2, 80),
    diurnalAmplitude: uniform(s, 0.2, 0.6),
    diurnalPhase: random(s),
    sourceShares: layout.sources.map((_, i) => (i === 0 ? (rest === 0 ? 1 : first) : (1 - first) / rest)),
    // Healthy traffic stays well inside a 99.9 % objective; the bursts are what spend the budget.
    baseErrorRatio: logUniform(s, 1e-5, 4e-4),
    errorBurstGapS: logUniform(s, 0.5 * 86_400, 7 * 86_400),
    latencyMedianMs: uniform(s, 30, 90),
    latencySigma: uniform(s, 0.5, 0.9),
    latencyBurstGapS: logUniform(s, 86_400, 10 * 86_400),
    restartGapS: logUniform(s, 2 * 86_400, 14 * 86_400),
  };
}

/** Everything that carries over from one step to the next: plain JSON, cached with the blocks. */
export interface WorkloadState extends Rng {
  /** Counter values, in counterIndex order. */
  counters: number[];
  errorBurstSteps: number;
  errorBurstRatio: number;
  latencyBurstSteps: number;
  latencyBurstFactor: number;
}

/**
 * Counters of one workload: requests per (source, code), then the finite buckets per (source, code,
 * bound), then the latency sums per (source, code). The +Inf bucket and _count are the request count.
 */
export function counterCount(layout: Layout = LAYOUT): number {
  const pairs = layout.sources.length * layout.codes.length;
  return pairs * (layout.bucketsMs.length + 2);
}

export const counterIndex = {
  requests: (layout: Layout, source: number, code: number) => source * layout.codes.length + code,
  bucket: (layout: Layout, source: number, code: number, bound: number) =>
    layout.sources.length * layout.codes.length + (source * layout.codes.length + code) * layout.bucketsMs.length + bound,
  sum: (layout: Layout, source: number, code: number) =>
    layout.sources.length * layout.codes.length * (1 + layout.bucketsMs.length) + source * layout.codes.length + code,
};

export function initialState(seed: number, index: number, layout: Layout = LAYOUT): WorkloadState {
  return {
    rng: mixSeed(seed, index, 0x57a7e),
    counters: new Array<number>(counterCount(layout)).fill(0),
    errorBurstSteps: 0,
    errorBurstRatio: 0,
    latencyBurstSteps: 0,
    latencyBurstFactor: 1,
  };
}

export function cloneState(s: WorkloadState): WorkloadState {
  return { ...s, counters: [...s.counters] };
}

/**
 * Advances `state` over `steps` scrapes starting at absolute step `fromStep` (unix seconds / 15),
 * writing counter j after step i to out[j * steps + i]. Deterministic: the same state and steps give
 * the same numbers, which is what lets each metric family be written in its own pass.
 */
export function simulate(params: WorkloadParams, state: WorkloadState, fromStep: number, steps: number, out: Float64Array, layout: Layout = LAYOUT): void {
  const S = layout.sources.length;
  const C = layout.codes.length;
  const B = layout.bucketsMs.length;
  const K = counterCount(layout);
  if (out.length < K * steps) throw new Error(`output buffer holds ${out.length} values, ${K * steps} needed`);
  const mids = intervalMs(layout.bucketsMs);
  const counters = Float64Array.from(state.counters);
  const restartP = SCRAPE_SECONDS / params.restartGapS;
  const errorBurstP = SCRAPE_SECONDS / params.errorBurstGapS;
  const latencyBurstP = SCRAPE_SECONDS / params.latencyBurstGapS;
  let shares = intervalShares(layout.bucketsMs, params.latencyMedianMs * state.latencyBurstFactor, params.latencySigma);
  const intervals = new Array<number>(B + 1).fill(0);

  for (let i = 0; i < steps; i++) {
    const t = (fromStep + i) * SCRAPE_SECONDS;
    // A pod restart: every counter of the workload starts again from zero.
    if (random(state) < restartP) counters.fill(0);

    if (state.errorBurstSteps > 0) state.errorBurstSteps--;
    else if (random(state) < errorBurstP) {
      state.errorBurstSteps = Math.min(exponentialSteps(state, 40 * 60), (6 * 3600) / SCRAPE_SECONDS);
      state.errorBurstRatio = logUniform(state, 0.003, 0.2);
    }
    if (state.latencyBurstSteps > 0) {
      if (--state.latencyBurstSteps === 0) {
        state.latencyBurstFactor = 1;
        shares = intervalShares(layout.bucketsMs, params.latencyMedianMs, params.latencySigma);
      }
    } else if (random(state) < latencyBurstP) {
      state.latencyBurstSteps = Math.min(exponentialSteps(state, 30 * 60), (4 * 3600) / SCRAPE_SECONDS);
      state.latencyBurstFactor = uniform(state, 2, 6);
      shares = intervalShares(layout.bucketsMs, params.latencyMedianMs * state.latencyBurstFactor, params.latencySigma);
    }
    const errorRatio = state.errorBurstSteps > 0 ? state.errorBurstRatio : params.baseErrorRatio;
    const diurnal = 1 + params.diurnalAmplitude * Math.sin(2 * Math.PI * (t / 86_400 + params.diurnalPhase));
    const expected = params.baseRate * diurnal * SCRAPE_SECONDS * uniform(state, 0.95, 1.05);

    for (let s = 0; s < S; s++) {
      const n = dither(state, expected * (params.sourceShares[s] ?? 0));
      const errors = C === 1 ? 0 : Math.min(n, dither(state, n * errorRatio));
      addRequests(counters, layout, s, 0, n - errors, shares, intervals, mids, state);
      // Errors are spread evenly over the error codes, the last taking what the others left.
      let left = errors;
      for (let c = 1; c < C; c++) {
        const x = c === C - 1 ? left : Math.min(left, dither(state, errors / (C - 1)));
        left -= x;
        addRequests(counters, layout, s, c, x, shares, intervals, mids, state);
      }
    }
    for (let j = 0; j < K; j++) out[j * steps + i] = counters[j] ?? 0;
  }
  state.counters = Array.from(counters);
}

function addRequests(
  counters: Float64Array,
  layout: Layout,
  s: number,
  c: number,
  count: number,
  shares: readonly number[],
  intervals: number[],
  mids: readonly number[],
  rng: Rng,
): void {
  if (count <= 0) return;
  const B = layout.bucketsMs.length;
  let left = count;
  for (let b = 0; b < B; b++) {
    const x = Math.min(left, dither(rng, count * (shares[b] ?? 0)));
    intervals[b] = x;
    left -= x;
  }
  intervals[B] = left;
  const ri = counterIndex.requests(layout, s, c);
  counters[ri] = (counters[ri] ?? 0) + count;
  let cumulative = 0;
  let sum = 0;
  for (let b = 0; b <= B; b++) {
    const x = intervals[b] ?? 0;
    cumulative += x;
    sum += x * (mids[b] ?? 0);
    if (b < B) {
      const bi = counterIndex.bucket(layout, s, c, b);
      counters[bi] = (counters[bi] ?? 0) + cumulative;
    }
  }
  const si = counterIndex.sum(layout, s, c);
  counters[si] = (counters[si] ?? 0) + sum;
}
