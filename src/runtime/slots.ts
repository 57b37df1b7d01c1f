/**
 * At most `size` holders at a time, served in the order they asked. The manager runs one controller
 * per held shard, and --workers is the replica's concurrent reconciles whatever it holds: the shards'
 * controllers share one set of slots.
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  /** The function that gives a slot back if one is free now, else undefined: no wait, not even a tick. */
  tryTake(): (() => void) | undefined {
    if (this.free === 0 || this.waiting.length > 0) return undefined;
    this.free--;
    return this.giver();
  }

  /**
   * Resolves with the function that gives the slot back, once one is free; with undefined if `signal`
   * aborts first (the waiter no longer wants one).
   */
  take(signal?: AbortSignal): Promise<(() => void) | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(this.giver());
    }
    return new Promise((resolve) => {
      const grant = () => {
        signal?.removeEventListener("abort", cancel);
        resolve(this.giver());
      };
      const cancel = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(undefined);
      };
      signal?.addEventListener("abort", cancel, { once: true });
      this.waiting.push(grant);
    });
  }

  private giver(): () => void {
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
