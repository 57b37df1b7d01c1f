// The soak's whole schedule, drawn from the seed before anything runs: the profiles, each workload's
// traffic states, the image pushes and the faults. Timing is the only thing a run adds.

export interface Rng {
  next(): number;
  between(lo: number, hi: number): number;
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T;
  shuffle<T>(items: readonly T[]): T[];
}

/** mulberry32: small, fast and the same everywhere for a given seed. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r: Rng = {
    next,
    between: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor((hi - lo + 1) * next()),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    weighted: (items) => {
      const total = items.reduce((s, [, w]) => s + w, 0);
      let x = next() * total;
      for (const [item, w] of items) {
        x -= w;
        if (x < 0) return item;
      }
      return items.at(-1)![0];
    },
    shuffle: (items) => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
  return r;
}

export type Mode = "budget" | "canary" | "guard";
export type TrafficState = "healthy" | "slow-burn" | "fast-burn" | "zero";

export interface Latency {
  ms: number;
  weight: number;
}

export interface TrafficParams {
  rate: number;
  errorRatio: number;
  latencies: Latency[];
}

export interface PlannedProfile {
  name: string;
  mode: Mode;
  /** Requests per second while traffic flows. */
  rate: number;
  /** The PerformanceProfile spec, as its team would write it. */
  spec: Record<string, unknown>;
}

export interface TrafficChange {
  offsetMs: number;
  profile: string;
  state: TrafficState;
  params: TrafficParams;
}

export interface Push {
  offsetMs: number;
  profile: string;
  image: string;
}

export const FAULT_KINDS = [
  "prometheus-stop",
  "prometheus-slow",
  "prometheus-drop",
  "prometheus-hang",
  "apiserver-stop",
  "leader-kill",
  "leader-term",
  "receiver-fail",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export const LEADER_FAULT_KINDS: readonly FaultKind[] = ["leader-kill", "leader-term"];
/**
 * Faults after which the lease may change hands: the leader's own, and an API server stop, which ends
 * every term at once (the standby, retrying all along, often takes the lease first).
 */
export const LEASE_FAULT_KINDS: readonly FaultKind[] = [...LEADER_FAULT_KINDS, "apiserver-stop"];

export interface Fault {
  id: number;
  offsetMs: number;
  kind: FaultKind;
  durationMs: number;
  /** prometheus-slow: how long each answer is held back (under the operators' query timeout). */
  delayMs?: number;
}

export interface SoakPlan {
  seed: number;
  minutes: number;
  profiles: PlannedProfile[];
  traffic: TrafficChange[];
  pushes: Push[];
  faults: Fault[];
}

/** Faults start this long after the run's active part begins, and stop this long before it ends. */
export const FAULTS_FROM_MS = 20_000;
export const QUIET_TAIL_MS = 30_000;
/**
 * From this run length on, faults that may move the lease (LEASE_FAULT_KINDS) come only in the first
 * half of the run: the checker fits memory over the second half, per process and role, and needs a
 * role held for minutes. Shorter runs (the CI smoke) keep every kind throughout, or they would not see
 * each kind once.
 */
export const LEASE_FAULTS_FIRST_HALF_FROM_MINUTES = 20;
/** The longest a leader fault keeps its replica down (faultDuration). */
const LEADER_DOWN_MAX_MS = 5_000;
/** The longest an API server stop lasts (faultDuration). */
const APISERVER_DOWN_MAX_MS = 15_000;
const LEASE_FAULT_MAX_MS = Math.max(LEADER_DOWN_MAX_MS, APISERVER_DOWN_MAX_MS);
/** Every workload is healthy this long first, so each profile starts from a verdict. */
export const HEALTHY_START_MS = 20_000;

export const OBJECTIVE = 99.5;
const ALLOWED = 1 - OBJECTIVE / 100;
const FAST: Latency[] = [
  { ms: 80, weight: 97 },
  { ms: 700, weight: 3 },
];

/**
 * What a state sends: healthy burns about 0.2× the budget rate, a slow burn 1.2–1.8× (a freeze, and a
 * rollback only near its top), a fast burn 4–10× (a rollback), zero sends nothing (no verdict). For
 * guard profiles the burns slow requests down too, so their latency SLO (95 % under 500 ms) burns.
 */
export function trafficFor(state: TrafficState, rate: number, mode: Mode, r: Rng): TrafficParams {
  switch (state) {
    case "healthy":
      return { rate, errorRatio: round(r.between(0, 0.4) * ALLOWED), latencies: FAST };
    case "slow-burn":
      return { rate, errorRatio: round(r.between(1.2, 1.8) * ALLOWED), latencies: mode === "guard" ? [{ ms: 80, weight: 94 }, { ms: 700, weight: 6 }] : FAST };
    case "fast-burn":
      return { rate, errorRatio: round(r.between(4, 10) * ALLOWED), latencies: mode === "guard" ? [{ ms: 80, weight: 85 }, { ms: 700, weight: 15 }] : FAST };
    case "zero":
      return { rate: 0, errorRatio: 0, latencies: FAST };
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function profileSpec(name: string, mode: Mode, receiverUrl: string): Record<string, unknown> {
  const slos: unknown[] = [{ name: "availability", objective: OBJECTIVE, window: "1m", indicator: { istio: { kind: "availability" } } }];
  if (mode === "guard") slos.push({ name: "latency", objective: 95, window: "1m", indicator: { istio: { kind: "latency", threshold: "500ms" } } });
  const spec: Record<string, unknown> = {
    targetRef: { name },
    slos,
    policy: {
      evaluationInterval: "5s",
      minEvents: 100,
      stableAfter: "20s",
      onNoData: "Hold",
      notifications: [{ name: "hook", type: "webhook", url: `${receiverUrl}/hooks/${name}`, events: ["Warning", "Recovered", "Frozen", "Unfrozen", "RolledBack", "RollbackSkipped", "CanaryPromoted", "CanaryFailed"] }],
    },
  };
  if (mode === "canary") {
    spec.canary = { service: { name, port: 8080, hosts: [name], gateways: ["mesh"] }, stepWeight: 10, maxWeight: 50, interval: "10s", maxBurnRate: 2, failureLimit: 2 };
  }
  if (mode === "guard") {
    spec.trafficPolicy = {
      circuitBreaker: { consecutiveErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
      connectionPool: { maxConnections: 100, http1MaxPendingRequests: 64, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3 },
    };
    spec.autoscaling = { minReplicas: 1, maxReplicas: 4, cpuUtilization: 70, sloBoost: { minCpuUtilization: 40, step: 10, coolDown: "20s" } };
  }
  return spec;
}

export function makePlan(opts: { seed: number; minutes: number; profiles: number; receiverUrl: string }): SoakPlan {
  const r = rng(opts.seed);
  const activeMs = opts.minutes * 60_000;
  const modes: Mode[] = ["budget", "canary", "guard"];
  const profiles: PlannedProfile[] = Array.from({ length: opts.profiles }, (_, i) => {
    const mode = modes[i % modes.length]!;
    const name = `${mode}-${String(Math.floor(i / modes.length) + 1).padStart(2, "0")}`;
    // A canary gets 10 % first: at 120 req/s and more its 10 s checks see the 100 events they need.
    return { name, mode, rate: mode === "canary" ? r.int(120, 200) : r.int(20, 60), spec: profileSpec(name, mode, opts.receiverUrl) };
  });

  const traffic: TrafficChange[] = [];
  const pushes: Push[] = [];
  for (const p of profiles) {
    traffic.push({ offsetMs: 0, profile: p.name, state: "healthy", params: trafficFor("healthy", p.rate, p.mode, r) });
    for (let t = HEALTHY_START_MS + r.between(0, 20_000); t < activeMs; t += r.between(20_000, 70_000)) {
      const state = r.weighted<TrafficState>([
        ["healthy", 35],
        ["slow-burn", 25],
        ["fast-burn", 20],
        ["zero", 20],
      ]);
      traffic.push({ offsetMs: Math.round(t), profile: p.name, state, params: trafficFor(state, p.rate, p.mode, r) });
    }
    let version = 1;
    for (let t = r.between(30_000, 180_000); t < activeMs - QUIET_TAIL_MS; t += r.between(60_000, 240_000)) {
      pushes.push({ offsetMs: Math.round(t), profile: p.name, image: `registry.example/${p.name}:1.${version++}` });
    }
  }
  traffic.sort((a, b) => a.offsetMs - b.offsetMs);
  pushes.sort((a, b) => a.offsetMs - b.offsetMs);

  // Faults one after another, every kind once before any repeats, in an order the seed draws. Once no
  // lease fault would be over by leaseFaultsUntil, the bags hold the other kinds only.
  const leaseFaultsUntil = opts.minutes >= LEASE_FAULTS_FIRST_HALF_FROM_MINUTES ? activeMs / 2 : Infinity;
  const faults: Fault[] = [];
  let bag: FaultKind[] = [];
  let t = FAULTS_FROM_MS;
  for (let id = 1; ; id++) {
    const leaseOk = t + LEASE_FAULT_MAX_MS <= leaseFaultsUntil;
    if (!leaseOk) bag = bag.filter((k) => !LEASE_FAULT_KINDS.includes(k));
    if (bag.length === 0) bag = r.shuffle(leaseOk ? FAULT_KINDS : FAULT_KINDS.filter((k) => !LEASE_FAULT_KINDS.includes(k)));
    const kind = bag.shift()!;
    const durationMs = Math.round(faultDuration(kind, r));
    if (t + durationMs > activeMs - QUIET_TAIL_MS) break;
    faults.push({ id, offsetMs: Math.round(t), kind, durationMs, ...(kind === "prometheus-slow" ? { delayMs: Math.round(r.between(500, 2_500)) } : {}) });
    t += durationMs + r.between(5_000, 15_000);
  }
  return { seed: opts.seed, minutes: opts.minutes, profiles, traffic, pushes, faults };
}

function faultDuration(kind: FaultKind, r: Rng): number {
  switch (kind) {
    case "prometheus-stop":
      return r.between(10_000, 25_000);
    case "prometheus-slow":
      return r.between(15_000, 30_000);
    case "prometheus-drop":
    case "prometheus-hang":
      return r.between(8_000, 20_000);
    case "apiserver-stop":
      return r.between(5_000, APISERVER_DOWN_MAX_MS);
    case "leader-kill":
    case "leader-term":
      // How long the killed replica stays down before it is started again.
      return r.between(2_000, LEADER_DOWN_MAX_MS);
    case "receiver-fail":
      return r.between(5_000, 15_000);
  }
}
