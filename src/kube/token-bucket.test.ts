import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket.ts";

function clock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe("TokenBucket", () => {
  it("lets a full burst through at once, then one token per 1/qps seconds", () => {
    const c = clock();
    const bucket = new TokenBucket({ qps: 20, burst: 30 }, c.now);
    const waits = Array.from({ length: 33 }, () => bucket.reserve());
    expect(waits.slice(0, 30)).toEqual(Array(30).fill(0));
    expect(waits.slice(30)).toEqual([50, 100, 150]);
  });

  it("refills at qps while idle, never past the burst", () => {
    const c = clock();
    const bucket = new TokenBucket({ qps: 10, burst: 5 }, c.now);
    for (let i = 0; i < 5; i++) bucket.reserve();
    expect(bucket.available()).toBe(0);
    c.advance(250);
    expect(bucket.available()).toBeCloseTo(2.5);
    c.advance(60_000);
    expect(bucket.available()).toBe(5);
  });

  it("serves callers in the order they asked, each waiting for its own token", () => {
    const c = clock();
    const bucket = new TokenBucket({ qps: 2, burst: 1 }, c.now);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(500);
    expect(bucket.reserve()).toBe(1_000);
    // Half a second on, the second caller's token has come; the next waits behind the third.
    c.advance(500);
    expect(bucket.reserve()).toBe(1_000);
  });

  it("holds a long run of requests to qps on average, however they arrive", () => {
    const c = clock();
    const bucket = new TokenBucket({ qps: 20, burst: 30 }, c.now);
    // 10,000 requests asked for at once (every profile's pass after a restart): the last leaves after
    // (10,000 - burst) / qps seconds.
    let last = 0;
    for (let i = 0; i < 10_000; i++) last = bucket.reserve();
    expect(last / 1000).toBeCloseTo((10_000 - 30) / 20, 6);
  });

  it("takes nothing when the clock steps back", () => {
    const c = clock();
    const bucket = new TokenBucket({ qps: 1, burst: 2 }, c.now);
    bucket.reserve();
    c.advance(-10_000);
    expect(bucket.available()).toBe(1);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(1_000);
  });

  it("takes fractional rates", () => {
    const bucket = new TokenBucket({ qps: 0.5, burst: 1 }, clock().now);
    bucket.reserve();
    expect(bucket.reserve()).toBe(2_000);
  });

  it.each([
    [{ qps: 0, burst: 1 }, /qps/],
    [{ qps: -1, burst: 1 }, /qps/],
    [{ qps: Number.NaN, burst: 1 }, /qps/],
    [{ qps: Number.POSITIVE_INFINITY, burst: 1 }, /qps/],
    [{ qps: 1, burst: 0 }, /burst/],
    [{ qps: 1, burst: 1.5 }, /burst/],
  ])("refuses %o", (limit, message) => {
    expect(() => new TokenBucket(limit)).toThrow(message);
  });
});
