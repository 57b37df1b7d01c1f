import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "pino";
import type { Fence, FenceState } from "../kube/client.ts";
import { keyOf, type KubeObject } from "../kube/types.ts";
import { shardOf } from "../sharding/shard-of.ts";
import { Controller, type ControllerHooks, type Result } from "./controller.ts";
import type { Informer } from "./informer.ts";
import type { LeaderElector } from "./leader-election.ts";
import type { RuntimeMetrics } from "./metrics.ts";
import { Slots } from "./slots.ts";

/** An informer whose events enqueue keys of a controller; `map` turns an object into the keys to reconcile. */
export interface Source {
  informer: Informer<KubeObject>;
  map?: (obj: KubeObject) => string[];
  /** When set, an update enqueues only if this says the object changed in a way the controller acts on. */
  changed?: (old: KubeObject, obj: KubeObject) => boolean;
}

/** A reconcile that may watch `signal`: it aborts when the term it runs in ends. */
export type TermReconcile = (key: string, signal: AbortSignal) => Promise<Result | void>;

export interface ControllerSpec {
  name: string;
  reconcile: TermReconcile;
  /** Concurrent reconciles of this controller on this replica, however many shards it holds. */
  workers: number;
  sources: Source[];
  /**
   * Drops what the controller keeps of a key (metrics series, memories of its writes) once this replica
   * no longer reconciles it: called, with more than one shard, for the keys of a shard whose term ran
   * out, unless the shard was taken again meanwhile. Otherwise the replica that gave a shard up would
   * go on exporting its profiles' gauges beside the replica that took it. With one shard it is never
   * called: a replica that lost the leader lease keeps its last gauges, as before, and the dashboards
   * and alerts join them on tollgate_leader.
   */
  forget?: (key: string) => void;
}

/** What the manager is told of a shard's Lease. */
export interface ShardCallbacks {
  /** The shard's Lease was taken: reconcile the shard's keys. */
  onStarted(shard: number): void;
  /** The shard's Lease is lost or taken over: its reconciles and their writes must stop at once. */
  onStopped(shard: number): void;
  /**
   * The shard is being given up while its Lease is still held: let the reconciles in flight finish
   * (DRAIN_MS at most), then resolve; the Lease is released after.
   */
  onHandingOver(shard: number): Promise<void>;
}

/** What the manager needs of leader election: the one leader Lease (leaderLeases), or one per shard (ShardElector). */
export interface ShardLeases {
  /** How many shards the keys are spread over (shardOf); 1 with the leader Lease. */
  readonly shards: number;
  start(callbacks: ShardCallbacks): void;
  /** Stops campaigning and releases every Lease held; called once every term has run out. */
  stop(): Promise<void>;
  /** Whether this replica holds the shard's Lease now, by the clock: it turns at the renew deadline even before its timer runs. */
  holds(shard: number): boolean;
}

/** What the manager needs of leader election with one Lease. */
export type Elector = Pick<LeaderElector, "start" | "stop" | "isLeader">;

/** The leader Lease as the only shard of one: leading is holding shard 0. */
export function leaderLeases(elector: Elector): ShardLeases {
  return {
    shards: 1,
    start: (cb) => elector.start({ onStartedLeading: () => cb.onStarted(0), onStoppedLeading: () => cb.onStopped(0) }),
    stop: () => elector.stop(),
    holds: () => elector.isLeader,
  };
}

const NOT_LEADING = "this replica does not hold the leader lease";

/** On a graceful stop or a handover, how long reconciles in flight may run on before the term is aborted. */
export const DRAIN_MS = 10_000;

/**
 * The write fence of a client whose writes are a manager's controllers': open, with the term's signal,
 * while this replica holds the shard whose reconcile is writing (so writes in flight when the term ends
 * are aborted); closed otherwise.
 */
export function leadershipFence(manager: () => Manager | undefined): Fence {
  return () => manager()?.fence() ?? { open: false, reason: NOT_LEADING };
}

interface Term {
  shard: number;
  controllers: Map<string, Controller>;
  abort: AbortController;
  /**
   * Aborts when the term starts to stop, before its signal does on a drain: no reconcile starts any more
   * (one waiting for a slot gives up), while those running run out.
   */
  stopping: AbortController;
}

type StopCause = "leadership lost" | "shutting down" | "handing over";

/**
 * Runs informers all the time (a standby replica keeps warm caches) and controllers only for the shards
 * this replica holds: one term per held shard, with fresh controllers that start by reconciling every
 * cached key of the shard, so a new holder resumes from the state in the cluster, not from anything in
 * memory. Keys are profile keys (namespace/name; other objects map to profiles), and a key's shard is
 * shardOf(key). With the one leader Lease everything is shard 0 of 1: a term is a leadership term.
 *
 * A term has an AbortSignal, given to its reconciles and to the fenced client's writes. When the shard
 * is lost it aborts at once; on a graceful stop or a handover the Lease is still held, so the
 * reconciles in flight run out with the fence open (DRAIN_MS at most), and the signal aborts after them.
 *
 * Each reconcile runs inside its term (AsyncLocalStorage), and the fence asks for the term of the
 * reconcile that writes: a write for a profile goes out only while its own shard is held, on that
 * term's signal, however deep in the actuators it is made and without passing the signal down. A
 * reconcile of an ended term still running cannot borrow a later term's signal either.
 */
export class Manager {
  readonly shards: number;
  private readonly specs: ControllerSpec[];
  private readonly informers: Informer<KubeObject>[];
  private readonly leases: ShardLeases | undefined;
  private readonly metrics: RuntimeMetrics;
  private readonly logger: Logger;
  private readonly terms = new Map<number, Term>();
  /** Terms whose signal has not aborted yet: the held ones and any still running out. */
  private readonly unaborted = new Set<Term>();
  private readonly slots = new Map<string, Slots>();
  /** The term of the reconcile running, through its awaits, for the fence. */
  private readonly running = new AsyncLocalStorage<Term>();
  private readonly stopping = new Set<Promise<void>>();
  private synced = false;
  private shuttingDown = false;

  constructor(opts: {
    specs: ControllerSpec[];
    /** Informers the controllers read from but whose events enqueue nothing. */
    extraInformers?: Informer<KubeObject>[];
    /** None: one shard, held from the start (no leader election). */
    leases?: ShardLeases;
    metrics: RuntimeMetrics;
    logger: Logger;
  }) {
    this.specs = opts.specs;
    this.leases = opts.leases;
    this.shards = opts.leases?.shards ?? 1;
    this.metrics = opts.metrics;
    this.logger = opts.logger;
    this.informers = [...new Set([...opts.specs.flatMap((s) => s.sources.map((src) => src.informer)), ...(opts.extraInformers ?? [])])];
    for (const spec of this.specs) {
      this.slots.set(spec.name, new Slots(spec.workers));
      for (const src of spec.sources) {
        // Only the shards held see their keys; the caches themselves stay whole (README, Sharding).
        const route = (obj: KubeObject, resynced = false) => {
          for (const key of keysOf(src, obj)) {
            const controller = this.terms.get(this.shardOf(key))?.controllers.get(spec.name);
            if (resynced) controller?.enqueueResynced(key);
            else controller?.enqueue(key);
          }
        };
        const changed = src.changed;
        src.informer.on({
          add: (obj) => route(obj),
          // The informer's resync delivers each cached object as its own update (old === obj).
          update: (old, obj) => (changed === undefined || changed(old, obj) ? route(obj, old === obj) : undefined),
          delete: (obj) => route(obj),
        });
      }
    }
    this.noteShards();
  }

  shardOf(key: string): number {
    return shardOf(key, this.shards);
  }

  /**
   * The fence's answer for a write made now. Within a reconcile: open with its term's signal while the
   * term has not aborted and its shard's Lease is held (asked of the Lease, so it closes at the renew
   * deadline even before the Lease's timer has run). Outside any reconcile the write is for no profile
   * in particular: open only while this replica holds every shard (the leader, with one), on the
   * signals of all their terms.
   */
  fence(): FenceState {
    const term = this.running.getStore();
    if (term) return this.open(term) ? { open: true, signal: term.abort.signal } : { open: false, reason: this.notHolding(term.shard) };
    const signals: AbortSignal[] = [];
    for (let shard = 0; shard < this.shards; shard++) {
      const open = this.openTermOf(shard);
      if (!open) return { open: false, reason: this.notHolding(shard) };
      signals.push(open.abort.signal);
    }
    return { open: true, signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) };
  }

  /** Starts the informers, waits for their caches, then campaigns for the shards (or holds the one at once). */
  async start(): Promise<void> {
    for (const inf of this.informers) inf.start();
    await Promise.all(this.informers.map((i) => i.synced));
    this.synced = true;
    this.logger.info({ informers: this.informers.map((i) => `${i.type.plural}=${i.size}`) }, "caches synced");
    if (!this.leases) {
      this.startTerm(0);
      return;
    }
    this.leases.start({
      onStarted: (shard) => this.startTerm(shard),
      onStopped: (shard) => void this.stopTerm(shard, "leadership lost"),
      onHandingOver: (shard) => this.stopTerm(shard, "handing over"),
    });
  }

  /** Ready when caches are synced and every held shard's controllers have finished their first pass. */
  ready(): { ok: boolean; reason: string } {
    if (this.shuttingDown) return { ok: false, reason: "shutting down" };
    if (!this.synced) return { ok: false, reason: "caches not synced" };
    if (this.terms.size === 0) return { ok: true, reason: this.leases ? "standby; caches synced" : "caches synced" };
    const pending = [...this.terms.values()].flatMap((t) =>
      [...t.controllers.values()].filter((c) => !c.firstCycleDone).map((c) => (this.shards > 1 ? `${c.name} (shard ${t.shard})` : c.name)),
    );
    if (pending.length) return { ok: false, reason: `first reconcile pass running: ${pending.join(", ")}` };
    return { ok: true, reason: this.shards > 1 ? `holding shards ${this.heldShards().join(", ")} of ${this.shards}` : "leading" };
  }

  /** Graceful stop: no new work, in-flight reconciles finish, the Leases are released, watches close. */
  async stop(): Promise<void> {
    this.shuttingDown = true;
    for (const shard of this.heldShards()) void this.stopTerm(shard, "shutting down");
    await Promise.all(this.stopping);
    await this.leases?.stop();
    for (const inf of this.informers) inf.stop();
  }

  private startTerm(shard: number): void {
    if (this.shuttingDown || this.terms.has(shard)) return;
    const term: Term = { shard, controllers: new Map(), abort: new AbortController(), stopping: new AbortController() };
    this.terms.set(shard, term);
    this.unaborted.add(term);
    this.noteShards();
    for (const spec of this.specs) {
      const controller = new Controller(spec.name, (key) => this.reconcile(term, spec, key), {
        workers: spec.workers,
        logger: this.logger,
        hooks: this.hooks(spec.name),
      });
      term.controllers.set(spec.name, controller);
      for (const src of spec.sources) {
        for (const obj of src.informer.list()) for (const key of keysOf(src, obj)) if (this.shardOf(key) === shard) controller.enqueue(key);
      }
      controller.start();
    }
    this.logger.info({ controllers: this.specs.map((s) => s.name), ...this.shardField(shard) }, "reconciling");
  }

  /**
   * One reconcile, inside its term: it waits for one of the controller's slots (shared by every held
   * shard), and its writes pass the fence only while the term's shard is held. The debug lines say who
   * reconciled what when, for an audit that no key is reconciled by two replicas at once.
   */
  private async reconcile(term: Term, spec: ControllerSpec, key: string): Promise<Result | void> {
    const { signal } = term.abort;
    const slots = this.slots.get(spec.name);
    // A free slot is taken without awaiting, so with one shard a reconcile starts as it always did. One
    // that waits gives up when its term starts to stop: nothing ran, the shard's next term reconciles
    // the key, and a drain waits for what runs, not for what has yet to start.
    const give = slots?.tryTake() ?? (await slots?.take(term.stopping.signal));
    if (!give) return;
    // Checked first: at thousands of reconciles a cycle, not even the lines' objects are built at info.
    const audit = this.logger.isLevelEnabled("debug");
    if (audit) this.logger.debug({ controller: spec.name, key, shard: term.shard }, "reconcile started");
    try {
      return await this.running.run(term, () => spec.reconcile(key, signal));
    } finally {
      give();
      if (audit) this.logger.debug({ controller: spec.name, key, shard: term.shard }, "reconcile ended");
    }
  }

  /**
   * Stops handing out the shard's work. When the shard is lost every term of it aborts now and the fence
   * closes: reconciles in flight are cancelled and their writes in flight aborted, since another replica
   * may hold the shard 5 s from now. On a graceful stop or a handover the Lease is still held (it is
   * released after this), so the reconciles in flight run out with the fence open, for at most
   * DRAIN_MS: a pass that has sent a notification records it, rather than leave the next holder to send
   * it again. Then the signal aborts. Resolves once the term has run out.
   */
  private stopTerm(shard: number, cause: StopCause): Promise<void> {
    const term = this.terms.get(shard);
    let ran: Promise<void> = Promise.resolve();
    if (term) {
      this.terms.delete(shard);
      term.stopping.abort();
      this.noteShards();
      let deadline: NodeJS.Timeout | undefined;
      const drained = Promise.all([...term.controllers.values()].map((c) => c.stop()));
      const limit = new Promise<void>((resolve) => {
        deadline = setTimeout(resolve, DRAIN_MS);
        deadline.unref();
      });
      ran = Promise.race([drained, limit]).then(() => {
        clearTimeout(deadline);
        this.abortTerm(term, cause);
        this.forget(shard);
      });
      this.stopping.add(ran);
      void ran.then(() => this.stopping.delete(ran));
      this.logger.info({ cause, ...this.shardField(shard) }, "stopped reconciling");
    }
    if (cause === "leadership lost") {
      for (const t of [...this.unaborted]) if (t.shard === shard) this.abortTerm(t, cause);
      // At once too: a scrape from now on sees the shard's gauges only at its next holder.
      this.forget(shard);
    }
    return ran;
  }

  private abortTerm(term: Term, cause: string): void {
    this.unaborted.delete(term);
    term.abort.abort(new Error(`leadership term ended: ${cause}`));
  }

  /** With more than one shard, drops what the controllers keep of the keys of a shard no longer held. */
  private forget(shard: number): void {
    if (this.shards === 1 || this.terms.has(shard)) return;
    for (const spec of this.specs) {
      if (!spec.forget) continue;
      for (const src of spec.sources) {
        if (src.map) continue;
        for (const obj of src.informer.list()) {
          const key = keyOf(obj);
          if (this.shardOf(key) === shard) spec.forget(key);
        }
      }
    }
  }

  private open(term: Term): boolean {
    return !term.abort.signal.aborted && (this.leases?.holds(term.shard) ?? true);
  }

  /** The shard's term whose writes may go out: the held one, else one running out after a graceful stop. */
  private openTermOf(shard: number): Term | undefined {
    const held = this.terms.get(shard);
    if (held && this.open(held)) return held;
    for (const t of this.unaborted) if (t.shard === shard && this.open(t)) return t;
    return undefined;
  }

  private notHolding(shard: number): string {
    return this.shards === 1 ? NOT_LEADING : `this replica does not hold shard ${shard} of ${this.shards}`;
  }

  private heldShards(): number[] {
    return [...this.terms.keys()].sort((a, b) => a - b);
  }

  private shardField(shard: number): { shard?: number } {
    return this.shards > 1 ? { shard } : {};
  }

  private noteShards(): void {
    this.metrics.leader.set(this.terms.size > 0 ? 1 : 0);
    this.metrics.shardsHeld.set(this.terms.size);
    for (let shard = 0; shard < this.shards; shard++) this.metrics.shardLeader.set({ shard: String(shard) }, this.terms.has(shard) ? 1 : 0);
  }

  /** The controller's metrics hooks, its queue depth summed over the terms of every held shard. */
  private hooks(name: string): ControllerHooks {
    return {
      ...this.metrics.controllerHooks(name),
      onDepth: () => {
        let depth = 0;
        for (const t of this.terms.values()) depth += t.controllers.get(name)?.queue.length ?? 0;
        this.metrics.queueDepth.set({ controller: name }, depth);
      },
    };
  }
}

function keysOf(src: Source, obj: KubeObject): string[] {
  return src.map ? src.map(obj) : [keyOf(obj)];
}
