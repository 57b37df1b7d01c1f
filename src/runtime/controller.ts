import type { Logger } from "pino";
import { WorkQueue, type Backoff, type QueueHooks } from "./queue.ts";

/** What a reconcile asks of the queue: nothing (done), or to come back after a while. */
export interface Result {
  requeueAfterMs?: number;
}

/** An error retrying cannot fix (bad input the operator already reported): logged, never requeued. */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TerminalError";
  }
}

export type Reconcile = (key: string) => Promise<Result | void>;

export interface ControllerHooks extends QueueHooks {
  onReconcile?: (durationSeconds: number, outcome: "success" | "error" | "requeue") => void;
}

export interface ControllerOptions {
  workers?: number;
  backoff?: Backoff;
  logger: Logger;
  hooks?: ControllerHooks;
}

/**
 * Informer events in, keys through a work queue, `workers` reconciles at a time, never two for the
 * same key. A reconcile that throws is retried with per-key exponential backoff.
 */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconcile: Reconcile;
  private readonly workers: number;
  private readonly logger: Logger;
  private readonly hooks: ControllerHooks;
  private running: Promise<void>[] = [];
  private resolveFirstCycle!: () => void;
  /** Resolves once, after start, every queued key has been processed and the queue went idle. */
  readonly firstCycle: Promise<void>;
  firstCycleDone = false;

  constructor(name: string, reconcile: Reconcile, opts: ControllerOptions) {
    this.name = name;
    this.reconcile = reconcile;
    this.workers = Math.max(1, opts.workers ?? 2);
    this.logger = opts.logger.child({ controller: name });
    this.hooks = opts.hooks ?? {};
    this.queue = new WorkQueue({ backoff: opts.backoff, hooks: this.hooks });
    this.firstCycle = new Promise((resolve) => (this.resolveFirstCycle = resolve));
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** A resync's re-delivery: enqueued unless the key is queued, in process or due later already. */
  enqueueResynced(key: string): void {
    this.queue.addUnlessScheduled(key);
  }

  start(): void {
    if (this.running.length) return;
    for (let i = 0; i < this.workers; i++) this.running.push(this.work());
    this.checkFirstCycle();
  }

  /** Stops taking work and resolves once every in-flight reconcile has finished. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.running);
    this.running = [];
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.processItem(key);
    }
  }

  private async processItem(key: string): Promise<void> {
    const started = performance.now();
    try {
      const result = (await this.reconcile(key)) ?? {};
      this.queue.forget(key);
      if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      this.hooks.onReconcile?.((performance.now() - started) / 1000, result.requeueAfterMs ? "requeue" : "success");
    } catch (err) {
      this.hooks.onReconcile?.((performance.now() - started) / 1000, "error");
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof TerminalError) {
        this.queue.forget(key);
        this.logger.error({ key, err: message }, "reconcile failed; not retrying");
      } else {
        this.logger.warn({ key, err: message, retries: this.queue.numRequeues(key) }, "reconcile failed; retrying");
        this.queue.addRateLimited(key);
      }
    } finally {
      this.queue.done(key);
      this.checkFirstCycle();
    }
  }

  private checkFirstCycle(): void {
    if (this.firstCycleDone || !this.queue.idle) return;
    this.firstCycleDone = true;
    this.resolveFirstCycle();
  }
}
