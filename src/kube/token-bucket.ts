/** A client-side request rate: `qps` tokens a second on average, up to `burst` at once (client-go's QPS and Burst). */
export interface RateLimit {
  qps: number;
  burst: number;
}

/**
 * A token bucket that hands out reservations: each caller takes a token at once and is told how long
 * to wait before using it. The bucket may go into debt, so callers are served in the order they asked
 * and each waits only for its own token; nobody polls, and a burst of thousands of requests (every
 * profile's first pass after a restart) leaves at `qps` instead of all at once.
 *
 * Pure apart from the clock, which is injected so tests can step it.
 */
export class TokenBucket {
  private readonly qps: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private atMs: number;

  constructor(limit: RateLimit, now: () => number = () => performance.now()) {
    if (!(limit.qps > 0) || !Number.isFinite(limit.qps)) throw new Error(`qps must be a positive number, not ${limit.qps}`);
    if (!Number.isInteger(limit.burst) || limit.burst < 1) throw new Error(`burst must be a positive integer, not ${limit.burst}`);
    this.qps = limit.qps;
    this.burst = limit.burst;
    this.now = now;
    // Full at the start: a process's first requests (the informers' lists) need not wait.
    this.tokens = limit.burst;
    this.atMs = now();
  }

  /** Takes one token; returns the milliseconds to wait before spending it (0: at once). */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  /** Tokens available now; negative while callers wait for theirs. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const t = this.now();
    // A clock that steps back adds nothing rather than taking tokens away.
    if (t <= this.atMs) return;
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.atMs) * this.qps) / 1000);
    this.atMs = t;
  }
}
