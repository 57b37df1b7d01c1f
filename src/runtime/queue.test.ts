import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffDelay, WorkQueue } from "./queue.ts";

describe("WorkQueue", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("queues a key once however often it is added", async () => {
    const q = new WorkQueue();
    q.add("ns/a");
    q.add("ns/a");
    q.add("ns/b");
    q.add("ns/a");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("ns/a");
    expect(await q.get()).toBe("ns/b");
    expect(q.length).toBe(0);
  });

  it("never hands a key being processed to a second worker, and re-queues it after done", async () => {
    const q = new WorkQueue();
    q.add("ns/a");
    const first = await q.get();
    expect(first).toBe("ns/a");
    q.add("ns/a"); // an update arrives while the first worker is busy with the key
    expect(q.length).toBe(0);
    let second: string | undefined = "pending";
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBe("pending");
    q.done("ns/a");
    await Promise.resolve();
    expect(second).toBe("ns/a");
  });

  it("does not re-queue a key on done when nothing was added meanwhile", async () => {
    const q = new WorkQueue();
    q.add("ns/a");
    await q.get();
    q.done("ns/a");
    expect(q.length).toBe(0);
  });

  it("adds a key after requeueAfter, keeping the earliest of several delays", async () => {
    const q = new WorkQueue();
    q.addAfter("ns/a", 5_000);
    q.addAfter("ns/a", 1_000);
    q.addAfter("ns/a", 3_000);
    vi.advanceTimersByTime(999);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("ns/a");
    q.done("ns/a");
    vi.advanceTimersByTime(10_000);
    expect(q.length).toBe(0);
  });

  it("takes a resync's re-delivery only for a key that is not queued, in process or due later", async () => {
    const q = new WorkQueue();
    q.addAfter("ns/due", 30_000);
    q.addUnlessScheduled("ns/due");
    q.addUnlessScheduled("ns/idle");
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("ns/idle");
    // In process: marked dirty as by add, so it is processed again after done.
    q.addUnlessScheduled("ns/idle");
    q.done("ns/idle");
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("ns/idle");
    q.done("ns/idle");
    // The key due later still comes at its time, once.
    vi.advanceTimersByTime(30_000);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("ns/due");
  });

  it("backs off exponentially per key and forgets on success", async () => {
    const q = new WorkQueue({ backoff: { baseMs: 100, maxMs: 1_000 } });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      q.addRateLimited("ns/a");
      const start = Date.now();
      while (q.length === 0) vi.advanceTimersByTime(1);
      delays.push(Date.now() - start);
      q.done((await q.get())!);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(q.numRequeues("ns/a")).toBe(6);
    q.addRateLimited("ns/b");
    expect(q.numRequeues("ns/b")).toBe(1);
    q.forget("ns/a");
    expect(q.numRequeues("ns/a")).toBe(0);
    expect(q.numRequeues("ns/b")).toBe(1);
  });

  it("computes backoff delays with a cap", () => {
    const b = { baseMs: 500, maxMs: 60_000 };
    expect([0, 1, 2, 3].map((n) => backoffDelay(b, n))).toEqual([500, 1_000, 2_000, 4_000]);
    expect(backoffDelay(b, 100)).toBe(60_000);
  });

  it("releases waiting workers with undefined on shutdown and drops pending delays", async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.addAfter("ns/a", 1_000);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    vi.advanceTimersByTime(2_000);
    expect(q.length).toBe(0);
    q.add("ns/b");
    expect(q.length).toBe(0);
  });

  it("bounds concurrency to the number of workers pulling from it", async () => {
    const q = new WorkQueue();
    for (const k of ["a", "b", "c", "d", "e"]) q.add(k);
    let inFlight = 0;
    let peak = 0;
    const processed: string[] = [];
    const worker = async () => {
      for (;;) {
        const key = await q.get();
        if (key === undefined) return;
        inFlight++;
        peak = Math.max(peak, inFlight);
        await Promise.resolve();
        processed.push(key);
        inFlight--;
        q.done(key);
        if (q.length === 0) q.shutDown();
      }
    };
    await Promise.all([worker(), worker()]);
    expect(peak).toBe(2);
    expect(processed.sort()).toEqual(["a", "b", "c", "d", "e"]);
  });
});
