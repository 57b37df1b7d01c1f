import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../log.ts";
import { KubeClient } from "../kube/client.ts";
import { loopbackAccess } from "../kube/test-builders.ts";
import { ApiError } from "../kube/errors.ts";
import { Resources } from "../kube/resources.ts";
import type { KubeObject } from "../kube/types.ts";
import type { Informer } from "./informer.ts";
import type { LeaderCallbacks } from "./leader-election.ts";
import { DRAIN_MS, leaderLeases, leadershipFence, Manager, type Elector, type TermReconcile } from "./manager.ts";
import { RuntimeMetrics } from "./metrics.ts";

/** Leadership by hand: the test says when this replica leads and when it loses the lease. */
class HandElector implements Elector {
  isLeader = false;
  private callbacks: LeaderCallbacks | undefined;
  start(callbacks: LeaderCallbacks): void {
    this.callbacks = callbacks;
  }
  async stop(): Promise<void> {}
  lead(): void {
    this.isLeader = true;
    this.callbacks?.onStartedLeading();
  }
  lose(): void {
    this.isLeader = false;
    this.callbacks?.onStoppedLeading();
  }
}

/** An informer with a synced cache of one object and no events: enough to give the controller one key. */
function oneObjectInformer(): Informer<KubeObject> {
  const obj: KubeObject = { metadata: { name: "p", namespace: "ns" } };
  const fake = { type: Resources.PerformanceProfile, synced: Promise.resolve(), size: 1, on: () => {}, start: () => {}, stop: () => {}, list: () => [obj] };
  return fake as unknown as Informer<KubeObject>;
}

/** A reconcile that runs until the test ends it, and keeps the signal it was given. */
function heldReconcile() {
  const signals: AbortSignal[] = [];
  let finish: () => void = () => {};
  const reconcile: TermReconcile = (_key, signal) => {
    signals.push(signal);
    return new Promise<void>((resolve) => (finish = resolve));
  };
  return { reconcile, signals, finish: () => finish() };
}

async function leadingManager(reconcile: TermReconcile) {
  const elector = new HandElector();
  const manager = new Manager({
    specs: [{ name: "profile", reconcile, workers: 1, sources: [{ informer: oneObjectInformer() }] }],
    leases: leaderLeases(elector),
    metrics: new RuntimeMetrics(),
    logger: silentLogger(),
  });
  await manager.start();
  elector.lead();
  return { elector, manager };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("Manager leadership terms", () => {
  it("gives each reconcile the term's signal, aborted the moment leadership is lost", async () => {
    const held = heldReconcile();
    const { elector, manager } = await leadingManager(held.reconcile);
    await tick();
    expect(held.signals).toHaveLength(1);
    const [signal] = held.signals;
    expect(signal?.aborted).toBe(false);
    expect(manager.fence()).toEqual({ open: true, signal });

    elector.lose();
    // Synchronously, while the reconcile is still running: nothing waits for it.
    expect(signal?.aborted).toBe(true);
    expect(manager.fence()).toEqual({ open: false, reason: "this replica does not hold the leader lease" });
    held.finish();
    await manager.stop();
  });

  it("closes the fence when the elector is past its deadline, before its callback has run", async () => {
    const held = heldReconcile();
    const { elector, manager } = await leadingManager(held.reconcile);
    const fence = leadershipFence(() => manager);
    expect(fence()).toMatchObject({ open: true });
    elector.isLeader = false;
    expect(fence()).toEqual({ open: false, reason: "this replica does not hold the leader lease" });
    elector.lose();
    held.finish();
    await manager.stop();
  });

  it("on a graceful stop lets the reconciles in flight write on while the lease is held, then closes the fence", async () => {
    const held = heldReconcile();
    const { manager } = await leadingManager(held.reconcile);
    await tick();
    const [signal] = held.signals;
    const fence = leadershipFence(() => manager);
    const stopped = manager.stop();
    // A pass that has just sent a notification can still record it.
    expect(fence()).toEqual({ open: true, signal });
    expect(signal?.aborted).toBe(false);
    held.finish();
    await stopped;
    expect(signal?.aborted).toBe(true);
    expect(fence()).toEqual({ open: false, reason: "this replica does not hold the leader lease" });
  });

  it("on a graceful stop aborts reconciles still running after DRAIN_MS", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const held = heldReconcile();
      const { manager } = await leadingManager(held.reconcile);
      await vi.advanceTimersByTimeAsync(0);
      const [signal] = held.signals;
      const stopped = manager.stop();
      await vi.advanceTimersByTimeAsync(DRAIN_MS - 1);
      expect(signal?.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(signal?.aborted).toBe(true);
      expect(manager.fence()).toMatchObject({ open: false });
      held.finish();
      await stopped;
    } finally {
      vi.useRealTimers();
    }
  });

  it("a term running out after a graceful stop is aborted too if the lease is lost meanwhile", async () => {
    const held = heldReconcile();
    const { elector, manager } = await leadingManager(held.reconcile);
    await tick();
    const [signal] = held.signals;
    const stopped = manager.stop();
    expect(signal?.aborted).toBe(false);
    elector.lose();
    expect(signal?.aborted).toBe(true);
    held.finish();
    await stopped;
  });
});

describe("Manager sources", () => {
  type Handlers = { add: (obj: KubeObject) => void; update: (old: KubeObject, obj: KubeObject) => void };

  /** A leading manager of one controller whose one source's handlers the test calls by hand. */
  async function sourcedManager(reconcile: TermReconcile, changed?: (old: KubeObject, obj: KubeObject) => boolean) {
    let handlers: Handlers | undefined;
    const informer = { ...oneObjectInformer(), list: () => [], on: (h: Handlers) => (handlers = h) } as unknown as Informer<KubeObject>;
    const elector = new HandElector();
    const manager = new Manager({
      specs: [{ name: "profile", reconcile, workers: 1, sources: [{ informer, ...(changed ? { changed } : {}) }] }],
      leases: leaderLeases(elector),
      metrics: new RuntimeMetrics(),
      logger: silentLogger(),
    });
    await manager.start();
    elector.lead();
    await tick();
    return { handlers: handlers!, manager };
  }

  it("enqueues an update only when the source's changed says it is more than a status write", async () => {
    const seen: string[] = [];
    const { handlers, manager } = await sourcedManager(async (key) => void seen.push(key), (old, obj) => old.metadata?.generation !== obj.metadata?.generation);
    const at = (name: string, generation: number): KubeObject => ({ metadata: { name, namespace: "ns", generation } });
    handlers.update(at("status-only", 1), at("status-only", 1));
    handlers.update(at("edited", 1), at("edited", 2));
    await tick();
    expect(seen).toEqual(["ns/edited"]);
    await manager.stop();
  });

  it("takes a resync's re-delivery (the object as its own update) only for a key not already due later", async () => {
    const seen: string[] = [];
    // Every pass asks to come back in a minute, as a profile's periodic pass does.
    const { handlers, manager } = await sourcedManager(async (key) => (seen.push(key), { requeueAfterMs: 60_000 }));
    const obj = (name: string): KubeObject => ({ metadata: { name, namespace: "ns" } });
    const due = obj("due");
    handlers.add(due);
    await tick();
    expect(seen).toEqual(["ns/due"]);
    // Resynced while its next pass is due in a minute: nothing now. A key with no pass due is taken.
    handlers.update(due, due);
    const idle = obj("idle");
    handlers.update(idle, idle);
    await tick();
    expect(seen).toEqual(["ns/due", "ns/idle"]);
    // A real update is taken at once, due later or not.
    handlers.update(due, obj("due"));
    await tick();
    expect(seen).toEqual(["ns/due", "ns/idle", "ns/due"]);
    await manager.stop();
  });
});

describe("the fenced client", () => {
  const servers: Array<{ close: () => void }> = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  /** A loopback API server that never answers a write: each one is held until its client gives up. */
  async function hangingApiServer() {
    const held: Array<{ req: IncomingMessage; res: ServerResponse; closedMs?: number }> = [];
    const server = createServer((req, res) => {
      const entry: (typeof held)[number] = { req, res };
      held.push(entry);
      res.on("close", () => (entry.closedMs = Date.now()));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push({ close: () => server.close() });
    server.on("close", () => server.closeAllConnections());
        const { port } = server.address() as AddressInfo;
    return { held, access: loopbackAccess(`http://127.0.0.1:${port}`) };
  }

  it("aborts a write in flight when leadership is lost, and refuses the next one before it is sent", async () => {
    const { held, access } = await hangingApiServer();
    const { elector, manager } = await leadingManager(async () => {});
    const client = new KubeClient(access, { fence: leadershipFence(() => manager) });
    const profile = { metadata: { name: "p", namespace: "ns", resourceVersion: "1" } };

    const inFlight = client.replace(Resources.PerformanceProfile, profile).then(
      () => undefined,
      (err: unknown) => err,
    );
    while (held.length === 0) await tick();
    const lostMs = Date.now();
    elector.lose();
    const err = await inFlight;
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).reason).toBe("Fenced");
    expect((err as ApiError).message).toMatch(/aborted in flight: leadership term ended: leadership lost/);
    // The connection is gone at once, not after the client's 30 s timeout.
    while (held[0]?.closedMs === undefined) await tick();
    expect(held[0].closedMs - lostMs).toBeLessThan(1_000);

    await expect(client.replace(Resources.PerformanceProfile, profile)).rejects.toMatchObject({ reason: "Fenced" });
    expect(held).toHaveLength(1);
    await manager.stop();
  });
});
