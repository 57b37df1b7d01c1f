import type { Logger } from "pino";
import type { Fence } from "../kube/client.ts";
import { keyOf, type KubeObject } from "../kube/types.ts";
import { Controller, type Result } from "./controller.ts";
import type { Informer } from "./informer.ts";
import type { LeaderElector } from "./leader-election.ts";
import type { RuntimeMetrics } from "./metrics.ts";

/** An informer whose events enqueue keys of a controller; `map` turns an object into the keys to reconcile. */
export interface Source {
  informer: Informer<KubeObject>;
  map?: (obj: KubeObject) => string[];
}

/** A reconcile that may watch `signal`: it aborts when the leadership term it runs in ends. */
export type TermReconcile = (key: string, signal: AbortSignal) => Promise<Result | void>;

export interface ControllerSpec {
  name: string;
  reconcile: TermReconcile;
  workers: number;
  sources: Source[];
}

/** What the manager needs of leader election. */
export type Elector = Pick<LeaderElector, "start" | "stop" | "isLeader">;

const NOT_LEADING = "this replica does not hold the leader lease";

/** On a graceful stop, how long reconciles in flight may run on before the term is aborted. */
export const DRAIN_MS = 10_000;

/**
 * The write fence of a client whose writes are a manager's controllers': open while it leads, with the
 * term's signal so writes in flight when the term ends are aborted; closed otherwise.
 */
export function leadershipFence(manager: () => Manager | undefined): Fence {
  return () => {
    const signal = manager()?.termSignal;
    return signal ? { open: true, signal } : { open: false, reason: NOT_LEADING };
  };
}

interface Term {
  controllers: Controller[];
  abort: AbortController;
}

/**
 * Runs informers all the time (a standby replica keeps warm caches) and controllers only while this
 * replica leads. Each leadership term gets fresh controllers that start by reconciling every cached
 * object, so a new leader resumes from the state in the cluster, not from anything in memory.
 *
 * A term has an AbortSignal, given to its reconciles and to the fenced client's writes. When leadership
 * is lost it aborts at once; on a graceful stop the lease is still held, so the reconciles in flight
 * run out with the fence open (DRAIN_MS at most), and the signal aborts after them.
 */
export class Manager {
  private readonly specs: ControllerSpec[];
  private readonly informers: Informer<KubeObject>[];
  private readonly elector: Elector | undefined;
  private readonly metrics: RuntimeMetrics;
  private readonly logger: Logger;
  private readonly current = new Map<string, Controller>();
  private term: Term | undefined;
  /** A term running out after a graceful stop: its reconciles in flight may still write. */
  private draining: Term | undefined;
  /** Terms whose signal has not aborted yet: the current one and any still running out. */
  private readonly unaborted = new Set<AbortController>();
  private stopping: Promise<void>[] = [];
  private synced = false;
  private shuttingDown = false;

  constructor(opts: {
    specs: ControllerSpec[];
    /** Informers the controllers read from but whose events enqueue nothing. */
    extraInformers?: Informer<KubeObject>[];
    elector?: Elector;
    metrics: RuntimeMetrics;
    logger: Logger;
  }) {
    this.specs = opts.specs;
    this.elector = opts.elector;
    this.metrics = opts.metrics;
    this.logger = opts.logger;
    this.informers = [...new Set([...opts.specs.flatMap((s) => s.sources.map((src) => src.informer)), ...(opts.extraInformers ?? [])])];
    for (const spec of this.specs) {
      for (const src of spec.sources) {
        const route = (obj: KubeObject) => {
          const controller = this.current.get(spec.name);
          if (!controller) return;
          for (const key of src.map ? src.map(obj) : [keyOf(obj)]) controller.enqueue(key);
        };
        src.informer.on({ add: route, update: (_old, obj) => route(obj), delete: route });
      }
    }
  }

  get leading(): boolean {
    return this.termSignal !== undefined;
  }

  /**
   * The current term's signal while this replica leads, else undefined. It asks the elector too, so the
   * answer turns at the renew deadline even if the elector's timer has not run yet.
   */
  get termSignal(): AbortSignal | undefined {
    const term = this.term ?? this.draining;
    if (!term || term.abort.signal.aborted || (this.elector && !this.elector.isLeader)) return undefined;
    return term.abort.signal;
  }

  /** Starts the informers, waits for their caches, then campaigns for leadership (or leads at once). */
  async start(): Promise<void> {
    for (const inf of this.informers) inf.start();
    await Promise.all(this.informers.map((i) => i.synced));
    this.synced = true;
    this.logger.info({ informers: this.informers.map((i) => `${i.type.plural}=${i.size}`) }, "caches synced");
    if (!this.elector) {
      this.startTerm();
      return;
    }
    this.elector.start({
      onStartedLeading: () => this.startTerm(),
      onStoppedLeading: () => this.stopTerm("leadership lost"),
    });
  }

  /** Ready when caches are synced and, while leading, every controller has finished its first pass. */
  ready(): { ok: boolean; reason: string } {
    if (this.shuttingDown) return { ok: false, reason: "shutting down" };
    if (!this.synced) return { ok: false, reason: "caches not synced" };
    if (!this.term) return { ok: true, reason: this.elector ? "standby; caches synced" : "caches synced" };
    const pending = [...this.current.values()].filter((c) => !c.firstCycleDone).map((c) => c.name);
    return pending.length ? { ok: false, reason: `first reconcile pass running: ${pending.join(", ")}` } : { ok: true, reason: "leading" };
  }

  /** Graceful stop: no new work, in-flight reconciles finish, the lease is released, watches close. */
  async stop(): Promise<void> {
    this.shuttingDown = true;
    this.stopTerm("shutting down");
    await Promise.all(this.stopping);
    await this.elector?.stop();
    for (const inf of this.informers) inf.stop();
  }

  private startTerm(): void {
    if (this.shuttingDown || this.term) return;
    this.metrics.leader.set(1);
    const term: Term = { controllers: [], abort: new AbortController() };
    this.term = term;
    this.unaborted.add(term.abort);
    const { signal } = term.abort;
    for (const spec of this.specs) {
      const controller = new Controller(spec.name, (key) => spec.reconcile(key, signal), {
        workers: spec.workers,
        logger: this.logger,
        hooks: this.metrics.controllerHooks(spec.name),
      });
      for (const src of spec.sources) {
        for (const obj of src.informer.list()) for (const key of src.map ? src.map(obj) : [keyOf(obj)]) controller.enqueue(key);
      }
      this.current.set(spec.name, controller);
      term.controllers.push(controller);
      controller.start();
    }
    this.logger.info({ controllers: this.specs.map((s) => s.name) }, "reconciling");
  }

  /**
   * Stops handing out work. On leadership loss every term's signal aborts now and the fence closes:
   * reconciles in flight are cancelled and their writes in flight aborted, since another replica may
   * lead 5 s from now. On a graceful stop the lease is still held (it is released after this), so the
   * reconciles in flight run out with the fence open, for at most DRAIN_MS: a pass that has sent a
   * notification records it, rather than leave the next leader to send it again. Then the signal aborts.
   */
  private stopTerm(cause: "leadership lost" | "shutting down"): void {
    const term = this.term;
    if (term) {
      this.term = undefined;
      this.metrics.leader.set(0);
      this.current.clear();
      if (cause === "shutting down") this.draining = term;
      let deadline: NodeJS.Timeout | undefined;
      const drained = Promise.all(term.controllers.map((c) => c.stop()));
      const limit = new Promise<void>((resolve) => {
        deadline = setTimeout(resolve, DRAIN_MS);
        deadline.unref();
      });
      const ran = Promise.race([drained, limit]).then(() => {
        clearTimeout(deadline);
        if (this.draining === term) this.draining = undefined;
        this.abortTerm(term.abort, cause);
      });
      this.stopping.push(ran);
      this.logger.info({ cause }, "stopped reconciling");
    }
    if (cause === "leadership lost") {
      this.draining = undefined;
      for (const abort of [...this.unaborted]) this.abortTerm(abort, cause);
    }
  }

  private abortTerm(abort: AbortController, cause: string): void {
    this.unaborted.delete(abort);
    abort.abort(new Error(`leadership term ended: ${cause}`));
  }
}
