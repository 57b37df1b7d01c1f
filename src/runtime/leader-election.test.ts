import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../log.ts";
import { ApiError } from "../kube/errors.ts";
import type { ResourceType } from "../kube/resources.ts";
import type { KubeObject } from "../kube/types.ts";
import {
  decideLease,
  defaultRequestTimeoutMs,
  microTime,
  LeaderElector,
  observe,
  type Lease,
  type LeaseClient,
  type LeaderElectionConfig,
} from "./leader-election.ts";

const cfg: LeaderElectionConfig = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const T0 = Date.parse("2026-01-01T00:00:00Z");

function lease(holder: string, rv: string, extra: Partial<Lease["spec"]> = {}): Lease {
  return {
    metadata: { name: "tollgate", namespace: "ops", resourceVersion: rv },
    spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: "r", acquireTime: "a", leaseTransitions: 0, ...extra },
  };
}

describe("decideLease", () => {
  it("creates the lease when there is none", () => {
    const d = decideLease(undefined, false, "a", T0, cfg);
    expect(d).toEqual({
      action: "create",
      spec: { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: "2026-01-01T00:00:00.000000Z", renewTime: "2026-01-01T00:00:00.000000Z", leaseTransitions: 0 },
    });
  });

  it("renews its own lease, keeping acquireTime and transitions", () => {
    const obs = observe(undefined, lease("a", "1", { leaseTransitions: 4 }), T0);
    const d = decideLease(obs, true, "a", T0 + 2_000, cfg);
    expect(d).toMatchObject({ action: "update", kind: "renew", spec: { holderIdentity: "a", acquireTime: "a", leaseTransitions: 4 } });
    expect(d.action === "update" && d.spec.renewTime).toBe(microTime(T0 + 2_000));
  });

  it("waits while another holder's lease has not expired on the local clock", () => {
    const obs = observe(undefined, lease("b", "1"), T0);
    expect(decideLease(obs, true, "a", T0 + 14_999, cfg)).toEqual({ action: "wait", holder: "b", expiresAtMs: T0 + 15_000 });
  });

  it("acquires an expired lease and counts the transition", () => {
    const obs = observe(undefined, lease("b", "1", { leaseTransitions: 2 }), T0);
    const d = decideLease(obs, true, "a", T0 + 15_000, cfg);
    expect(d).toMatchObject({ action: "update", kind: "acquire", spec: { holderIdentity: "a", leaseTransitions: 3 } });
  });

  it("acquires a released lease (empty holder) at once", () => {
    const obs = observe(undefined, lease("", "1", { leaseDurationSeconds: 1 }), T0);
    expect(decideLease(obs, true, "a", T0, cfg)).toMatchObject({ action: "update", kind: "acquire" });
  });

  it("judges expiry from when the record last changed, not from re-reading it", () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    let obs = observe(undefined, lease("b", "1", { renewTime: iso(T0) }), T0);
    // The holder renewed at T0+9s; this candidate polls at T0+10s and pins the change to the renewal.
    obs = observe(obs, lease("b", "2", { renewTime: iso(T0 + 9_000) }), T0 + 10_000);
    expect(obs.observedAtMs).toBe(T0 + 9_000);
    expect(decideLease(obs, true, "a", T0 + 20_000, cfg)).toMatchObject({ action: "wait", expiresAtMs: T0 + 24_000 });
    // The holder stops renewing: re-reading the same record does not restart the clock.
    obs = observe(obs, lease("b", "2", { renewTime: iso(T0 + 9_000) }), T0 + 23_000);
    expect(obs.observedAtMs).toBe(T0 + 9_000);
    expect(decideLease(obs, true, "a", T0 + 24_000, cfg)).toMatchObject({ action: "update", kind: "acquire" });
  });

  it("bounds a skewed holder clock by its own polls", () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    let obs = observe(undefined, lease("b", "1", { renewTime: iso(T0) }), T0);
    // A holder clock far behind cannot pull the change before this candidate's previous poll...
    obs = observe(obs, lease("b", "2", { renewTime: iso(T0 - 60_000) }), T0 + 2_000);
    expect(obs.observedAtMs).toBe(T0);
    // ...and one far ahead cannot push it past now.
    obs = observe(obs, lease("b", "3", { renewTime: iso(T0 + 60_000) }), T0 + 4_000);
    expect(obs.observedAtMs).toBe(T0 + 4_000);
    // A lease seen for the first time counts from now, whatever its renewTime says.
    expect(observe(undefined, lease("b", "9", { renewTime: iso(T0 - 60_000) }), T0).observedAtMs).toBe(T0);
  });
});

/** An in-memory Lease store with the API server's optimistic concurrency on resourceVersion. */
class MemoryLeases implements LeaseClient {
  lease: Lease | undefined;
  rv = 0;
  writesBy: string[] = [];
  async find<T extends KubeObject>(_t: ResourceType, _ns: string | undefined, _n: string): Promise<T | undefined> {
    return this.lease ? (structuredClone(this.lease) as T) : undefined;
  }
  async create<T extends KubeObject>(_t: ResourceType, obj: T): Promise<T> {
    if (this.lease) throw new ApiError("POST", "/leases", 409, "AlreadyExists", "exists");
    return this.store(obj as Lease) as T;
  }
  async replace<T extends KubeObject>(_t: ResourceType, obj: T): Promise<T> {
    if (obj.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
      throw new ApiError("PUT", "/leases", 409, "Conflict", "the object has been modified");
    }
    return this.store(obj as Lease) as T;
  }
  private store(l: Lease): Lease {
    this.lease = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    this.writesBy.push(l.spec?.holderIdentity ?? "");
    return structuredClone(this.lease);
  }
}

// Leases count whole seconds, so the shortest usable lease is 1 s.
const fast: LeaderElectionConfig = { leaseDurationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 100 };

describe("LeaderElector", () => {
  it("elects exactly one of two candidates, hands over on release, never two leaders at once", async () => {
    const store = new MemoryLeases();
    const leading = new Set<string>();
    let overlap = false;
    const mk = (id: string) => {
      const e = new LeaderElector({ client: store, namespace: "ops", name: "tollgate", identity: id, config: fast, logger: silentLogger() });
      e.start({
        onStartedLeading: () => {
          leading.add(id);
          if (leading.size > 1) overlap = true;
        },
        onStoppedLeading: () => leading.delete(id),
      });
      return e;
    };
    const a = mk("a");
    const b = mk("b");
    await new Promise((r) => setTimeout(r, 300));
    expect(leading.size).toBe(1);
    const [first] = [...leading];
    const [leader, other] = first === "a" ? [a, b] : [b, a];
    const handoverStart = Date.now();
    await leader.stop();
    expect(store.lease?.spec?.holderIdentity).not.toBe(first);
    while (!other.isLeader && Date.now() - handoverStart < 2_000) await new Promise((r) => setTimeout(r, 10));
    // A released lease is taken at the next attempt, not after the lease duration.
    expect(other.isLeader).toBe(true);
    expect(Date.now() - handoverStart).toBeLessThan(fast.leaseDurationMs);
    expect(overlap).toBe(false);
    await other.stop();
  });

  it("a holder that cannot renew within the deadline stops leading; a crashed holder's lease is taken after it expires", async () => {
    const store = new MemoryLeases();
    const stopped: string[] = [];
    const a = new LeaderElector({ client: store, namespace: "ops", name: "tollgate", identity: "a", config: fast, logger: silentLogger() });
    a.start({ onStartedLeading: () => {}, onStoppedLeading: () => stopped.push("a") });
    await new Promise((r) => setTimeout(r, 100));
    expect(a.isLeader).toBe(true);
    // The API server goes away for a: every call fails.
    const broken = new ApiError("GET", "/leases", 0, "TransportError", "ECONNREFUSED");
    const realFind = store.find.bind(store);
    store.find = async () => {
      throw broken;
    };
    await new Promise((r) => setTimeout(r, fast.renewDeadlineMs + 150));
    expect(a.isLeader).toBe(false);
    expect(stopped).toEqual(["a"]);
    await a.stop();

    // b finds a's last record (never released) and must wait out the lease duration from first sight.
    store.find = realFind;
    const b = new LeaderElector({ client: store, namespace: "ops", name: "tollgate", identity: "b", config: fast, logger: silentLogger() });
    const t = Date.now();
    let acquiredAfter = -1;
    b.start({ onStartedLeading: () => (acquiredAfter = Date.now() - t), onStoppedLeading: () => {} });
    while (acquiredAfter < 0 && Date.now() - t < 2_000) await new Promise((r) => setTimeout(r, 10));
    expect(acquiredAfter).toBeGreaterThanOrEqual(fast.leaseDurationMs);
    expect(acquiredAfter).toBeLessThan(fast.leaseDurationMs + 150);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    await b.stop();
  });
});


/**
 * A lease store behind an API server that can hang: while `hanging`, every call is accepted and never
 * answered; it ends only when the caller's signal aborts, as a stalled connection does. `writeDelayMs`
 * makes answered writes slow instead.
 */
class HangingLeases extends MemoryLeases {
  hanging = false;
  writeDelayMs = 0;
  /** Each call that hung: when it started and, once aborted, when and why. */
  hung: Array<{ startedMs: number; abortedMs?: number; reason?: unknown; signalled: boolean }> = [];
  private gate<T>(signal: AbortSignal | undefined, answer: () => Promise<T>, delayMs = 0): Promise<T> {
    if (!this.hanging) {
      if (delayMs === 0) return answer();
      return new Promise((resolve, reject) => setTimeout(() => answer().then(resolve, reject), delayMs));
    }
    const call: (typeof this.hung)[number] = { startedMs: Date.now(), signalled: signal !== undefined };
    this.hung.push(call);
    return new Promise((_resolve, reject) => {
      signal?.addEventListener(
        "abort",
        () => {
          call.abortedMs = Date.now();
          call.reason = signal.reason;
          reject(new ApiError("GET", "/leases", 0, "TransportError", "aborted"));
        },
        { once: true },
      );
    });
  }
  override find<T extends KubeObject>(t: ResourceType, ns: string | undefined, n: string, opts?: { signal?: AbortSignal }): Promise<T | undefined> {
    return this.gate(opts?.signal, () => super.find<T>(t, ns, n));
  }
  override create<T extends KubeObject>(t: ResourceType, obj: T, opts?: { signal?: AbortSignal }): Promise<T> {
    return this.gate(opts?.signal, () => super.create<T>(t, obj), this.writeDelayMs);
  }
  override replace<T extends KubeObject>(t: ResourceType, obj: T, opts?: { signal?: AbortSignal }): Promise<T> {
    return this.gate(opts?.signal, () => super.replace<T>(t, obj), this.writeDelayMs);
  }
}

describe("LeaderElector against a hanging API server (fake clock)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Starts `a` on a fake clock at T0 and lets it take the empty lease; records when it stops leading. */
  async function leaderAtT0(config: LeaderElectionConfig = cfg) {
    vi.useFakeTimers({ now: T0 });
    const store = new HangingLeases();
    const events: Array<{ event: "started" | "stopped"; atMs: number }> = [];
    const a = new LeaderElector({ client: store, namespace: "ops", name: "tollgate", identity: "a", config, logger: silentLogger() });
    a.start({
      onStartedLeading: () => events.push({ event: "started", atMs: Date.now() }),
      onStoppedLeading: () => events.push({ event: "stopped", atMs: Date.now() }),
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(a.isLeader).toBe(true);
    expect(store.lease?.spec?.renewTime).toBe(microTime(T0));
    const stop = async () => {
      const stopping = a.stop();
      await vi.advanceTimersByTimeAsync(cfg.leaseDurationMs);
      await stopping;
    };
    return { store, a, events, stop };
  }

  it("stops leading at the renew deadline while a lease request hangs, without waiting for it to return", async () => {
    const { store, a, events, stop } = await leaderAtT0();
    store.hanging = true;
    await vi.advanceTimersByTimeAsync(cfg.renewDeadlineMs - 1);
    expect(a.isLeader).toBe(true);
    expect(store.hung.length).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(1);
    // The last renewal was at T0: the deadline is T0 + renewDeadline, to the millisecond.
    expect(a.isLeader).toBe(false);
    expect(events).toEqual([
      { event: "started", atMs: T0 },
      { event: "stopped", atMs: T0 + cfg.renewDeadlineMs },
    ]);
    await stop();
  });

  it("gives every lease request its own timeout, well inside the renew deadline, and aborts the one in flight at the deadline", async () => {
    const { store, events, stop } = await leaderAtT0({ ...cfg, requestTimeoutMs: 5_000 });
    store.hanging = true;
    await vi.advanceTimersByTimeAsync(cfg.renewDeadlineMs + 500);
    // Attempt at T0+2s times out at T0+7s; the retry at T0+9s is cut off by the deadline at T0+10s.
    expect(store.hung.map((c) => [c.startedMs - T0, (c.abortedMs ?? NaN) - T0])).toEqual([
      [2_000, 7_000],
      [9_000, 10_000],
    ]);
    expect(events.at(-1)).toEqual({ event: "stopped", atMs: T0 + cfg.renewDeadlineMs });
    await stop();
  });

  it("times lease requests out by default so that two full attempts fit between a renewal and its deadline", async () => {
    expect(defaultRequestTimeoutMs(cfg)).toBe(3_000);
    const { store, stop } = await leaderAtT0();
    store.hanging = true;
    await vi.advanceTimersByTimeAsync(cfg.renewDeadlineMs);
    expect(store.hung.every((c) => c.signalled)).toBe(true);
    expect(store.hung.map((c) => [c.startedMs - T0, (c.abortedMs ?? NaN) - T0])).toEqual([
      [2_000, 5_000],
      [7_000, 10_000],
    ]);
    await stop();
  });

  it("counts the deadline from the renewal it wrote, not from when the slow answer arrived", async () => {
    const { store, a, events, stop } = await leaderAtT0();
    // The renewal at T0+2s is answered 1.5 s late; then the API server hangs.
    store.writeDelayMs = 1_500;
    await vi.advanceTimersByTimeAsync(2_000 + 1_500);
    expect(store.lease?.spec?.renewTime).toBe(microTime(T0 + 2_000));
    store.writeDelayMs = 0;
    store.hanging = true;
    await vi.advanceTimersByTimeAsync(2_000 + cfg.renewDeadlineMs - 3_500 - 1);
    expect(a.isLeader).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.isLeader).toBe(false);
    expect(events.at(-1)).toEqual({ event: "stopped", atMs: T0 + 2_000 + cfg.renewDeadlineMs });
    await stop();
  });

  it("is no leader past the deadline even before the deadline's timer has run (a blocked event loop)", async () => {
    vi.useFakeTimers({ now: T0 });
    const store = new HangingLeases();
    let clock = T0;
    const a = new LeaderElector({ client: store, namespace: "ops", name: "tollgate", identity: "a", config: cfg, logger: silentLogger(), now: () => clock });
    a.start({ onStartedLeading: () => {}, onStoppedLeading: () => {} });
    await vi.advanceTimersByTimeAsync(0);
    expect(a.isLeader).toBe(true);
    clock = T0 + cfg.renewDeadlineMs - 1;
    expect(a.isLeader).toBe(true);
    clock = T0 + cfg.renewDeadlineMs;
    expect(a.isLeader).toBe(false);
    clock = T0;
    await a.stop();
  });

  it("leads again when the API server answers and the lease is still its own", async () => {
    const { store, a, events, stop } = await leaderAtT0();
    store.hanging = true;
    await vi.advanceTimersByTimeAsync(cfg.renewDeadlineMs);
    expect(a.isLeader).toBe(false);
    store.hanging = false;
    await vi.advanceTimersByTimeAsync(cfg.retryPeriodMs + defaultRequestTimeoutMs(cfg));
    expect(a.isLeader).toBe(true);
    expect(events.map((e) => e.event)).toEqual(["started", "stopped", "started"]);
    expect(store.lease?.spec?.holderIdentity).toBe("a");
    await stop();
  });
});
