import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../log.ts";
import { ApiError } from "../kube/errors.ts";
import type { ResourceType } from "../kube/resources.ts";
import type { KubeList, KubeObject } from "../kube/types.ts";
import { memberLeaseName, shardLeaseName } from "../sharding/lease-names.ts";
import { LeaderElector } from "./leader-election.ts";
import type { Lease, LeaderElectionConfig } from "./lease-lock.ts";
import type { ShardCallbacks } from "./manager.ts";
import { ShardElector, type ShardLeaseClient } from "./shard-election.ts";

// Leases count whole seconds, so the shortest usable lease is 1 s.
const fast: LeaderElectionConfig = { leaseDurationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 100 };
const SHARDS = 6;

/** Many Leases in memory, with the API server's optimistic concurrency and label selectors of k=v terms. */
class MemoryLeases {
  readonly leases = new Map<string, Lease>();
  private rv = 0;

  client(): ShardLeaseClient & { cut: boolean } {
    const store = this;
    const gate = <T>(c: { cut: boolean }, answer: () => T): Promise<T> =>
      c.cut ? Promise.reject(new ApiError("GET", "/leases", 0, "TransportError", "ECONNREFUSED")) : Promise.resolve().then(answer);
    const c = {
      cut: false,
      find: <T extends KubeObject>(_t: ResourceType, _ns: string | undefined, name: string) => gate(c, () => store.copy(name) as T | undefined),
      list: <T extends KubeObject>(_t: ResourceType, _ns?: string, query: { labelSelector?: string } = {}) =>
        gate(c, (): KubeList<T> => ({ metadata: { resourceVersion: String(store.rv) }, items: store.select(query.labelSelector) as T[] })),
      create: <T extends KubeObject>(_t: ResourceType, obj: T) =>
        gate(c, () => {
          const name = obj.metadata?.name ?? "";
          if (store.leases.has(name)) throw new ApiError("POST", "/leases", 409, "AlreadyExists", "exists");
          return store.store(obj as Lease) as T;
        }),
      replace: <T extends KubeObject>(_t: ResourceType, obj: T) =>
        gate(c, () => {
          const current = store.leases.get(obj.metadata?.name ?? "");
          if (!current) throw new ApiError("PUT", "/leases", 404, "NotFound", "not found");
          if (obj.metadata?.resourceVersion !== current.metadata?.resourceVersion) throw new ApiError("PUT", "/leases", 409, "Conflict", "the object has been modified");
          return store.store(obj as Lease) as T;
        }),
    };
    return c as unknown as ShardLeaseClient & { cut: boolean };
  }

  holder(name: string): string | undefined {
    return this.leases.get(name)?.spec?.holderIdentity;
  }

  private copy(name: string): Lease | undefined {
    const l = this.leases.get(name);
    return l ? structuredClone(l) : undefined;
  }

  private select(selector = ""): Lease[] {
    const terms = selector.split(",").filter((t) => t !== "").map((t) => t.split("=") as [string, string]);
    return [...this.leases.values()].filter((l) => terms.every(([k, v]) => l.metadata?.labels?.[k] === v)).map((l) => structuredClone(l));
  }

  private store(l: Lease): Lease {
    const stored = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    this.leases.set(l.metadata?.name ?? "", stored);
    return structuredClone(stored);
  }
}

/** What the manager would do with the callbacks: the shards it runs, and a drain that takes `drainMs`. */
class Terms implements ShardCallbacks {
  readonly running = new Set<number>();
  readonly handedOver: number[] = [];
  private readonly drainMs: number;
  constructor(drainMs = 20) {
    this.drainMs = drainMs;
  }
  onStarted(shard: number): void {
    this.running.add(shard);
  }
  onStopped(shard: number): void {
    this.running.delete(shard);
  }
  async onHandingOver(shard: number): Promise<void> {
    this.handedOver.push(shard);
    this.running.delete(shard);
    await sleep(this.drainMs);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const started: ShardElector[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.stop()));
});

function elector(store: MemoryLeases, identity: string, opts: { shards?: number; terms?: Terms } = {}) {
  const client = store.client();
  const e = new ShardElector({
    client,
    namespace: "ops",
    id: "tollgate",
    shards: opts.shards ?? SHARDS,
    identity,
    config: fast,
    owner: { apiVersion: "v1", kind: "Pod", name: identity, uid: `uid-${identity}` },
    logger: silentLogger(),
  });
  const terms = opts.terms ?? new Terms();
  e.start(terms);
  started.push(e);
  return { elector: e, terms, client };
}

/** Watches a set of electors every few ms and remembers whether any shard ever had two holders at once. */
function overlapWatch(electors: () => ShardElector[]) {
  let overlap = "";
  const timer = setInterval(() => {
    for (let s = 0; s < SHARDS; s++) {
      const holders = electors().filter((e) => e.holds(s)).map((e) => e.identity);
      if (holders.length > 1) overlap ||= `shard ${s} held by ${holders.join(" and ")}`;
    }
  }, 2);
  return { stop: () => (clearInterval(timer), overlap) };
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<number> {
  const t = Date.now();
  while (!check()) {
    if (Date.now() - t > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
  return Date.now() - t;
}

const heldBy = (e: ShardElector) => Array.from({ length: SHARDS }, (_, s) => s).filter((s) => e.holds(s));

describe("ShardElector", () => {
  it("three replicas share six shards two each, never two holders of one shard", async () => {
    const store = new MemoryLeases();
    const all = ["a", "b", "c"].map((id) => elector(store, id));
    const watch = overlapWatch(() => all.map((x) => x.elector));
    await until("two shards each", () => all.every((x) => heldBy(x.elector).length === 2));
    expect(watch.stop()).toBe("");
    // The manager was told exactly what each holds.
    for (const x of all) expect([...x.terms.running].sort()).toEqual(heldBy(x.elector));
    // Replicas started together wait to be counted: nobody took more than its share and handed it on.
    expect(all.flatMap((x) => x.terms.handedOver)).toEqual([]);
    expect(store.holder(shardLeaseName("tollgate", 0, SHARDS))).toMatch(/^[abc]$/);
  });

  it("moves a crashed replica's shards to the others within lease duration + retry period, after its deadline", async () => {
    const store = new MemoryLeases();
    const all = ["a", "b", "c"].map((id) => elector(store, id));
    await until("two shards each", () => all.every((x) => heldBy(x.elector).length === 2));
    const watch = overlapWatch(() => all.map((x) => x.elector));
    const [dead, ...survivors] = all as [ReturnType<typeof elector>, ...Array<ReturnType<typeof elector>>];
    const orphaned = heldBy(dead.elector);
    // The API server goes away for it: it cannot renew, as if killed.
    dead.client.cut = true;
    const cutAt = Date.now();
    await until("the dead replica's deadline", () => heldBy(dead.elector).length === 0);
    expect(Date.now() - cutAt).toBeLessThanOrEqual(fast.renewDeadlineMs + 50);
    expect(dead.terms.running.size).toBe(0);
    const movedAfter = await until("its shards held by the others", () => orphaned.every((s) => survivors.some((x) => x.elector.holds(s))));
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(fast.leaseDurationMs - fast.retryPeriodMs);
    expect(Date.now() - cutAt).toBeLessThanOrEqual(fast.leaseDurationMs + fast.retryPeriodMs + 100);
    expect(movedAfter).toBeGreaterThan(0);
    await until("three each", () => survivors.every((x) => heldBy(x.elector).length === 3));
    expect(watch.stop()).toBe("");
  });

  it("releases its shards and its member Lease on stop, so the others take over without waiting", async () => {
    const store = new MemoryLeases();
    const a = elector(store, "a");
    const b = elector(store, "b");
    await until("three each", () => heldBy(a.elector).length === 3 && heldBy(b.elector).length === 3);
    const t = Date.now();
    await a.elector.stop();
    expect(store.holder(memberLeaseName("tollgate", "a"))).toBe("");
    await until("b holds every shard", () => heldBy(b.elector).length === SHARDS);
    expect(Date.now() - t).toBeLessThan(fast.leaseDurationMs);
  });

  it("hands shards over one at a time, drained first, when a replica joins one that holds them all", async () => {
    const store = new MemoryLeases();
    const a = elector(store, "a");
    await until("a holds every shard", () => heldBy(a.elector).length === SHARDS);
    const watch = overlapWatch(() => [a.elector, b.elector]);
    const b = elector(store, "b");
    await until("three each", () => heldBy(a.elector).length === 3 && heldBy(b.elector).length === 3);
    expect(a.terms.handedOver).toHaveLength(3);
    expect(new Set(a.terms.handedOver).size).toBe(3);
    for (const s of a.terms.handedOver) expect(b.elector.holds(s)).toBe(true);
    expect(watch.stop()).toBe("");
  });

  it("labels its Leases, and ties its member Lease to its Pod", async () => {
    const store = new MemoryLeases();
    const a = elector(store, "a");
    await until("a holds every shard", () => heldBy(a.elector).length === SHARDS);
    const member = store.leases.get(memberLeaseName("tollgate", "a"))!;
    expect(member.metadata?.labels).toEqual({ "tollgate.dev/election": "tollgate", "tollgate.dev/lease-role": "member", "tollgate.dev/shards": "6" });
    expect(member.metadata?.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Pod", name: "a", uid: "uid-a" }]);
    const shard = store.leases.get(shardLeaseName("tollgate", 3, SHARDS))!;
    expect(shard.metadata?.labels).toMatchObject({ "tollgate.dev/lease-role": "shard", "tollgate.dev/shard": "3" });
    expect(shard.metadata?.ownerReferences).toBeUndefined();
  });

  it("takes no shard while replicas of another shard count hold theirs, and takes them all once those are released", async () => {
    const store = new MemoryLeases();
    const old = elector(store, "old", { shards: 4 });
    await until("the old map held", () => [0, 1, 2, 3].every((s) => old.elector.holds(s)));
    const next = elector(store, "new");
    await sleep(5 * fast.retryPeriodMs);
    expect(heldBy(next.elector)).toEqual([]);
    await old.elector.stop();
    await until("the new map held", () => heldBy(next.elector).length === SHARDS);
  });

  it("gives every shard up at once when a replica of --shards 1 holds the leader Lease, and takes nothing meanwhile", async () => {
    const store = new MemoryLeases();
    const sharded = elector(store, "sharded");
    await until("every shard held", () => heldBy(sharded.elector).length === SHARDS);
    const leader = new LeaderElector({ client: store.client(), namespace: "ops", name: "tollgate", identity: "single", config: fast, logger: silentLogger() });
    leader.start({ onStartedLeading: () => {}, onStoppedLeading: () => {} });
    try {
      await until("the leader Lease held", () => leader.isLeader);
      await until("every shard given up", () => heldBy(sharded.elector).length === 0, fast.retryPeriodMs * 5);
      expect(sharded.terms.running.size).toBe(0);
      expect(sharded.terms.handedOver).toEqual([]);
      await sleep(3 * fast.retryPeriodMs);
      expect(heldBy(sharded.elector)).toEqual([]);
    } finally {
      await leader.stop();
    }
  });
});
