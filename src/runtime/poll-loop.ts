import type { Logger } from "pino";

/**
 * A Lease campaign's loop, leader election's and sharded election's: one attempt at a time, each with
 * its own timeout (so one hung connection costs one attempt, not the lease), then a pause the attempt
 * chose, which stop() and wake() cut short.
 */
export class PollLoop {
  private readonly poll: (signal: AbortSignal) => Promise<number>;
  private readonly retryPeriodMs: number;
  private readonly requestTimeoutMs: number;
  private readonly logger: Logger;
  private attempt: AbortController | undefined;
  private stopping = false;
  private waking: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(opts: {
    /** One attempt; resolves with how long to pause before the next. */
    poll: (signal: AbortSignal) => Promise<number>;
    retryPeriodMs: number;
    requestTimeoutMs: number;
    logger: Logger;
  }) {
    this.poll = opts.poll;
    this.retryPeriodMs = opts.retryPeriodMs;
    this.requestTimeoutMs = opts.requestTimeoutMs;
    this.logger = opts.logger;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the loop: the attempt in flight is aborted, the pause cut short; resolves once it has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.attempt?.abort(new Error("leader election stopping"));
    this.waking?.();
    await this.loop;
  }

  /** Aborts the attempt in flight, if any, with `reason`. */
  abortAttempt(reason: Error): void {
    this.attempt?.abort(reason);
  }

  /** Ends the pause now: the next attempt starts at once. */
  wake(): void {
    this.waking?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let delay = this.retryPeriodMs;
      const attempt = new AbortController();
      this.attempt = attempt;
      const timeout = setTimeout(() => attempt.abort(new Error(`lease request timed out after ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
      try {
        delay = await this.poll(attempt.signal);
      } catch (err) {
        const reason: unknown = attempt.signal.reason;
        const message = attempt.signal.aborted && reason instanceof Error ? reason.message : err instanceof Error ? err.message : String(err);
        if (!this.stopping) this.logger.warn({ err: message }, "lease read or write failed");
      } finally {
        clearTimeout(timeout);
        this.attempt = undefined;
      }
      if (!this.stopping) await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waking = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
