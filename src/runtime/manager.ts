import type { Logger } from "pino";
import { keyOf, type KubeObject } from "../kube/types.ts";
import { Controller, type Reconcile } from "./controller.ts";
import type { Informer } from "./informer.ts";
import type { LeaderElector } from "./leader-election.ts";
import type { RuntimeMetrics } from "./metrics.ts";

/** An informer whose events enqueue keys of a controller; `map` turns an object into the keys to reconcile. */
export interface Source {
  informer: Informer<KubeObject>;
  map?: (obj: KubeObject) => string[];
}

export interface ControllerSpec {
  name: string;
  reconcile: Reconcile;
  workers: number;
  sources: Source[];
}

/**
 * Runs informers all the time (a standby replica keeps warm caches) and controllers only while this
 * replica leads. Each leadership term gets fresh controllers that start by reconciling every cached
 * object, so a new leader resumes from the state in the cluster, not from anything in memory.
 */
export class Manager {
  private readonly specs: ControllerSpec[];
  private readonly informers: Informer<KubeObject>[];
  private readonly elector: LeaderElector | undefined;
  private readonly metrics: RuntimeMetrics;
  private readonly logger: Logger;
  private readonly current = new Map<string, Controller>();
  private stopping: Promise<void>[] = [];
  private synced = false;
  private shuttingDown = false;

  constructor(opts: {
    specs: ControllerSpec[];
    /** Informers the controllers read from but whose events enqueue nothing. */
    extraInformers?: Informer<KubeObject>[];
    elector?: LeaderElector;
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
    return this.current.size > 0;
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
      onStoppedLeading: () => this.stopTerm(),
    });
  }

  /** Ready when caches are synced and, while leading, every controller has finished its first pass. */
  ready(): { ok: boolean; reason: string } {
    if (this.shuttingDown) return { ok: false, reason: "shutting down" };
    if (!this.synced) return { ok: false, reason: "caches not synced" };
    if (!this.leading) return { ok: true, reason: this.elector ? "standby; caches synced" : "caches synced" };
    const pending = [...this.current.values()].filter((c) => !c.firstCycleDone).map((c) => c.name);
    return pending.length ? { ok: false, reason: `first reconcile pass running: ${pending.join(", ")}` } : { ok: true, reason: "leading" };
  }

  /** Graceful stop: no new work, in-flight reconciles finish, the lease is released, watches close. */
  async stop(): Promise<void> {
    this.shuttingDown = true;
    this.stopTerm();
    await Promise.all(this.stopping);
    await this.elector?.stop();
    for (const inf of this.informers) inf.stop();
  }

  private startTerm(): void {
    if (this.shuttingDown || this.leading) return;
    this.metrics.leader.set(1);
    for (const spec of this.specs) {
      const controller = new Controller(spec.name, spec.reconcile, {
        workers: spec.workers,
        logger: this.logger,
        hooks: this.metrics.controllerHooks(spec.name),
      });
      for (const src of spec.sources) {
        for (const obj of src.informer.list()) for (const key of src.map ? src.map(obj) : [keyOf(obj)]) controller.enqueue(key);
      }
      this.current.set(spec.name, controller);
      controller.start();
    }
    this.logger.info({ controllers: this.specs.map((s) => s.name) }, "reconciling");
  }

  /** Stops handing out work at once; in-flight reconciles run out, their writes refused by the fence. */
  private stopTerm(): void {
    if (!this.leading) return;
    this.metrics.leader.set(0);
    for (const controller of this.current.values()) this.stopping.push(controller.stop());
    this.current.clear();
    this.logger.info("stopped reconciling");
  }
}
