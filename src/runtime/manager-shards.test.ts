import { describe, expect, it, vi } from "vitest";
import { silentLogger } from "../log.ts";
import { KubeClient } from "../kube/client.ts";
import { loopbackAccess } from "../kube/test-builders.ts";
import { Resources } from "../kube/resources.ts";
import type { KubeObject } from "../kube/types.ts";
import { shardOf } from "../sharding/shard-of.ts";
import type { Informer, InformerHandlers } from "./informer.ts";
import { DRAIN_MS, leadershipFence, Manager, type ShardCallbacks, type ShardLeases, type TermReconcile } from "./manager.ts";
import { RuntimeMetrics } from "./metrics.ts";

const SHARDS = 6;

/** Shard Leases by hand: the test says which shards this replica holds, loses and hands over. */
class HandLeases implements ShardLeases {
  readonly shards = SHARDS;
  private readonly held = new Set<number>();
  /** Shards whose Lease the clock says has run out, before the callback says so. */
  readonly pastDeadline = new Set<number>();
  private cb: ShardCallbacks | undefined;
  start(cb: ShardCallbacks): void {
    this.cb = cb;
  }
  async stop(): Promise<void> {}
  holds(shard: number): boolean {
    return this.held.has(shard) && !this.pastDeadline.has(shard);
  }
  take(shard: number): void {
    this.held.add(shard);
    this.cb?.onStarted(shard);
  }
  lose(shard: number): void {
    this.held.delete(shard);
    this.cb?.onStopped(shard);
  }
  /** A handover as the elector does it: drain, then release. */
  async handOver(shard: number): Promise<void> {
    await this.cb?.onHandingOver(shard);
    this.held.delete(shard);
  }
}

/** A key of each shard, and a second one of shard 0: profiles in namespace "ns". */
function keysByShard(): string[][] {
  const out: string[][] = Array.from({ length: SHARDS }, () => []);
  for (let i = 0; out.some((k) => k.length < 2); i++) {
    const key = `ns/p-${i}`;
    const shard = shardOf(key, SHARDS);
    if (out[shard]!.length < 2) out[shard]!.push(key);
  }
  return out;
}

const KEYS = keysByShard();

/** A synced informer of profiles whose events the test sends. */
class FakeProfiles {
  readonly objects = new Map<string, KubeObject>();
  private readonly handlers: Array<InformerHandlers<KubeObject>> = [];
  constructor(keys: string[]) {
    for (const k of keys) this.objects.set(k, object(k));
  }
  asInformer(): Informer<KubeObject> {
    const fake = {
      type: Resources.PerformanceProfile,
      synced: Promise.resolve(),
      size: this.objects.size,
      on: (h: InformerHandlers<KubeObject>) => this.handlers.push(h),
      start: () => {},
      stop: () => {},
      list: () => [...this.objects.values()],
    };
    return fake as unknown as Informer<KubeObject>;
  }
  update(key: string): void {
    for (const h of this.handlers) h.update?.(object(key), object(key));
  }
}

function object(key: string): KubeObject {
  const [namespace, name] = key.split("/");
  return { metadata: { namespace, name } };
}

/** Reconciles the test ends one by one, with the signal each was given. */
function heldReconciles() {
  const running = new Map<string, { signal: AbortSignal; finish: () => void }>();
  const started: string[] = [];
  const reconcile: TermReconcile = (key, signal) => {
    started.push(key);
    return new Promise<void>((resolve) => running.set(key, { signal, finish: () => (running.delete(key), resolve()) }));
  };
  return { reconcile, running, started };
}

const tick = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0));
};

async function shardedManager(opts: { reconcile: TermReconcile; workers?: number; forget?: (key: string) => void; keys?: string[] }) {
  const leases = new HandLeases();
  const profiles = new FakeProfiles(opts.keys ?? KEYS.flat());
  const metrics = new RuntimeMetrics();
  const manager = new Manager({
    specs: [{ name: "profile", reconcile: opts.reconcile, workers: opts.workers ?? 16, sources: [{ informer: profiles.asInformer() }], forget: opts.forget }],
    leases,
    metrics,
    logger: silentLogger(),
  });
  await manager.start();
  return { leases, profiles, metrics, manager };
}

/** A client that never reaches a server: a closed fence refuses before anything is sent. */
function fencedClient(manager: Manager): KubeClient {
  return new KubeClient(loopbackAccess("http://127.0.0.1:9"), { fence: leadershipFence(() => manager) });
}

describe("Manager with shard terms", () => {
  it("reconciles only the keys of the shards it holds, and routes events only to them", async () => {
    const held = heldReconciles();
    const { leases, profiles, manager } = await shardedManager({ reconcile: held.reconcile });
    leases.take(0);
    leases.take(3);
    await tick();
    expect(held.started.sort()).toEqual([...KEYS[0]!, ...KEYS[3]!].sort());
    for (const r of [...held.running.values()]) r.finish();
    await tick();

    held.started.length = 0;
    for (const keys of KEYS) for (const k of keys) profiles.update(k);
    await tick();
    expect(held.started.sort()).toEqual([...KEYS[0]!, ...KEYS[3]!].sort());
    for (const r of [...held.running.values()]) r.finish();
    await manager.stop();
  });

  it("starts a taken shard by reconciling every cached key of it", async () => {
    const held = heldReconciles();
    const { leases, manager } = await shardedManager({ reconcile: held.reconcile });
    leases.take(5);
    await tick();
    expect(held.started.sort()).toEqual([...KEYS[5]!].sort());
    for (const r of [...held.running.values()]) r.finish();
    await manager.stop();
  });

  it("aborts a lost shard's reconciles and refuses their writes as Fenced, while other shards write on", async () => {
    const writes: Array<{ key: string; outcome: string }> = [];
    let client: KubeClient | undefined;
    const gates = new Map<string, () => void>();
    const signals = new Map<string, AbortSignal>();
    // Each reconcile waits for the test, then writes its profile through the fenced client.
    const reconcile: TermReconcile = async (key, signal) => {
      signals.set(key, signal);
      await new Promise<void>((resolve) => gates.set(key, resolve));
      try {
        await client!.replace(Resources.PerformanceProfile, { metadata: { ...object(key).metadata, resourceVersion: "1" } });
        writes.push({ key, outcome: "passed the fence" });
      } catch (err) {
        const fenced = (err as { reason?: string }).reason === "Fenced";
        writes.push({ key, outcome: fenced ? `Fenced: ${(err as Error).message}` : "passed the fence" });
      }
    };
    const { leases, manager } = await shardedManager({ reconcile, keys: [KEYS[1]![0]!, KEYS[2]![0]!] });
    client = fencedClient(manager);
    leases.take(1);
    leases.take(2);
    await tick();
    const lost = KEYS[1]![0]!;
    const kept = KEYS[2]![0]!;

    leases.lose(1);
    // At once, while the reconcile is still running: nothing waits for it.
    expect(signals.get(lost)?.aborted).toBe(true);
    expect(signals.get(kept)?.aborted).toBe(false);
    gates.get(lost)?.();
    await tick();
    expect(writes).toEqual([{ key: lost, outcome: expect.stringMatching(/^Fenced: .*this replica does not hold shard 1 of 6/) as unknown as string }]);

    // The kept shard's write passes the fence (and fails only at the address nobody listens on).
    gates.get(kept)?.();
    await tick(20);
    await new Promise((r) => setTimeout(r, 200));
    expect(writes.find((w) => w.key === kept)?.outcome).toBe("passed the fence");
    await manager.stop();
  });

  it("closes a shard's fence at its renew deadline, before the loss is reported", async () => {
    let fenceInside: (() => unknown) | undefined;
    const gates: Array<() => void> = [];
    const reconcile: TermReconcile = async () => {
      await new Promise<void>((resolve) => gates.push(resolve));
      fenceInside?.();
    };
    const { leases, manager } = await shardedManager({ reconcile, keys: [KEYS[4]![0]!] });
    leases.take(4);
    await tick();
    const states: unknown[] = [];
    fenceInside = () => states.push(manager.fence());
    leases.pastDeadline.add(4);
    gates.shift()?.();
    await tick();
    expect(states).toEqual([{ open: false, reason: "this replica does not hold shard 4 of 6" }]);
    leases.lose(4);
    await manager.stop();
  });

  it("opens the fence outside any reconcile only while it holds every shard", async () => {
    const { leases, manager } = await shardedManager({ reconcile: async () => {} });
    for (let s = 0; s < SHARDS - 1; s++) leases.take(s);
    expect(manager.fence()).toEqual({ open: false, reason: "this replica does not hold shard 5 of 6" });
    leases.take(5);
    const state = manager.fence();
    expect(state.open).toBe(true);
    leases.lose(2);
    expect(state.open && state.signal?.aborted).toBe(true);
    await manager.stop();
  });

  it("hands a shard over gracefully: reconciles in flight finish with the fence open, then its term ends", async () => {
    const held = heldReconciles();
    const { leases, manager } = await shardedManager({ reconcile: held.reconcile, keys: [KEYS[0]![0]!] });
    leases.take(0);
    await tick();
    const key = KEYS[0]![0]!;
    const inFlight = held.running.get(key)!;
    let handedOver = false;
    const handover = leases.handOver(0).then(() => (handedOver = true));
    await tick();
    expect(handedOver).toBe(false);
    expect(inFlight.signal.aborted).toBe(false);
    expect(manager.ready()).toEqual({ ok: true, reason: "standby; caches synced" });
    inFlight.finish();
    await handover;
    expect(inFlight.signal.aborted).toBe(true);
    await manager.stop();
  });

  it("on a handover aborts reconciles still running after DRAIN_MS", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const held = heldReconciles();
      const { leases, manager } = await shardedManager({ reconcile: held.reconcile, keys: [KEYS[0]![0]!] });
      leases.take(0);
      await vi.advanceTimersByTimeAsync(0);
      const inFlight = held.running.get(KEYS[0]![0]!)!;
      const handover = leases.handOver(0);
      await vi.advanceTimersByTimeAsync(DRAIN_MS - 1);
      expect(inFlight.signal.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(inFlight.signal.aborted).toBe(true);
      await handover;
      inFlight.finish();
      await manager.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("shares --workers between the shards it holds", async () => {
    const held = heldReconciles();
    const { leases, manager } = await shardedManager({ reconcile: held.reconcile, workers: 1 });
    leases.take(0);
    leases.take(1);
    await tick();
    expect(held.running.size).toBe(1);
    for (let i = 0; i < 3; i++) {
      [...held.running.values()][0]!.finish();
      await tick();
      expect(held.running.size).toBe(1);
    }
    leases.lose(0);
    leases.lose(1);
    for (const r of [...held.running.values()]) r.finish();
    await manager.stop();
  });

  it("drains a handed-over shard without starting what waits for a slot, and without waiting for other shards", async () => {
    const held = heldReconciles();
    const a = KEYS[0]![0]!;
    const b = KEYS[1]![0]!;
    const { leases, manager } = await shardedManager({ reconcile: held.reconcile, workers: 1, keys: [a, b] });
    leases.take(0);
    await tick();
    leases.take(1);
    await tick();
    // Shard 0's reconcile holds the only slot; shard 1's waits for it.
    expect(held.started).toEqual([a]);
    // The handover does not wait for shard 0's reconcile, and shard 1's never starts.
    await leases.handOver(1);
    held.running.get(a)!.finish();
    await tick();
    expect(held.started).toEqual([a]);
    leases.lose(0);
    for (const r of [...held.running.values()]) r.finish();
    await manager.stop();
  });

  it("forgets the keys of a shard it no longer holds, and only those", async () => {
    const forgotten: string[] = [];
    const { leases, manager } = await shardedManager({ reconcile: async () => {}, forget: (k) => forgotten.push(k) });
    leases.take(0);
    leases.take(1);
    await tick();
    leases.lose(1);
    await tick();
    expect([...new Set(forgotten)].sort()).toEqual([...KEYS[1]!].sort());
    forgotten.length = 0;
    await leases.handOver(0);
    expect([...new Set(forgotten)].sort()).toEqual([...KEYS[0]!].sort());
    await manager.stop();
  });

  it("says which shards it holds in readiness and metrics", async () => {
    const held = heldReconciles();
    const { leases, metrics, manager } = await shardedManager({ reconcile: held.reconcile });
    expect(manager.ready()).toEqual({ ok: true, reason: "standby; caches synced" });
    leases.take(2);
    leases.take(4);
    await tick();
    expect(manager.ready()).toMatchObject({ ok: false, reason: expect.stringMatching(/^first reconcile pass running: profile \(shard 2\), profile \(shard 4\)$/) as unknown as string });
    for (const r of [...held.running.values()]) r.finish();
    await tick();
    for (const r of [...held.running.values()]) r.finish();
    await tick();
    expect(manager.ready()).toEqual({ ok: true, reason: "holding shards 2, 4 of 6" });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^tollgate_shards_held 2$/m);
    expect(text).toMatch(/^tollgate_shard_leader\{shard="2"\} 1$/m);
    expect(text).toMatch(/^tollgate_shard_leader\{shard="3"\} 0$/m);
    expect(text).toMatch(/^tollgate_leader 1$/m);
    leases.lose(2);
    leases.lose(4);
    expect(await metrics.registry.metrics()).toMatch(/^tollgate_leader 0$/m);
    await manager.stop();
  });
});
