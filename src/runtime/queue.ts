/** Exponential per-key backoff: base × 2^failures, capped. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 500, maxMs: 5 * 60_000 };

export function backoffDelay(backoff: Backoff, failures: number): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(failures, 30));
}

export interface QueueHooks {
  /** Called on every add that was not already queued. */
  onAdd?: (key: string) => void;
  onDepth?: (depth: number) => void;
  onRetry?: (key: string) => void;
}

/**
 * A work queue keyed by namespace/name with client-go's guarantees: a key is queued at most once, and a
 * key being processed is never handed to a second worker; an add during processing is remembered and
 * the key comes back once `done` is called.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private readonly backoff: Backoff;
  private readonly hooks: QueueHooks;
  private shuttingDown = false;

  constructor(opts: { backoff?: Backoff; hooks?: QueueHooks } = {}) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.hooks = opts.hooks ?? {};
  }

  get length(): number {
    return this.queue.length;
  }

  /** Nothing queued and nothing being processed. */
  get idle(): boolean {
    return this.queue.length === 0 && this.processing.size === 0;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /**
   * Adds the key unless it is already queued, in process, or due later: an informer's resync re-delivers
   * every object as a safety net for missed events, and a key that comes back on its own timer anyway
   * needs no extra pass (at 10,000 profiles, a pass each per resync).
   */
  addUnlessScheduled(key: string): void {
    if (this.delayed.has(key)) return;
    this.add(key);
  }

  /** Adds the key after `delayMs`; of several pending delays for one key, the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Re-adds a key that failed, after its own exponentially growing delay. */
  addRateLimited(key: string): void {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.hooks.onRetry?.(key);
    this.addAfter(key, backoffDelay(this.backoff, failures));
  }

  /** Clears a key's failure count, after it was processed successfully or dropped for good. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once the queue is shut down and drained of waiters. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
  }

  /** Stops handing out work; workers waiting in `get` receive undefined. Pending delays are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
  }

  private push(key: string): void {
    this.hooks.onAdd?.(key);
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.take(key));
      return;
    }
    this.queue.push(key);
    this.hooks.onDepth?.(this.queue.length);
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    this.hooks.onDepth?.(this.queue.length);
    return key;
  }
}
