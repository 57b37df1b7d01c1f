import { describe, expect, it } from "vitest";
import { fnv1a32, shardOf } from "./shard-of.ts";

/** How far a count may stray from the mean of a uniform random assignment: three binomial standard deviations. */
function tolerance(names: number, shards: number): number {
  const p = 1 / shards;
  return 3 * Math.sqrt(names * p * (1 - p));
}

function counts(keys: readonly string[], shards: number): number[] {
  const out = new Array<number>(shards).fill(0);
  for (const k of keys) out[shardOf(k, shards)]! += 1;
  return out;
}

const numbered = (count: number, key: (i: number) => string) => Array.from({ length: count }, (_, i) => key(i));

describe("fnv1a32", () => {
  it("is FNV-1a as published (the reference test vectors)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("hashes UTF-8 bytes, not UTF-16 code units", () => {
    // "é" is one code unit and two UTF-8 bytes; hashing the bytes by hand gives the same.
    let h = 0x811c9dc5;
    for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(fnv1a32("é")).toBe(h);
  });
});

describe("shardOf", () => {
  it("is stable: these keys keep these shards in every version (a change is a change of the shard map)", () => {
    expect([6, 3, 32].map((n) => shardOf("default/checkout", n))).toEqual([4, 1, 14]);
    expect([6, 3, 32].map((n) => shardOf("shop/cart", n))).toEqual([1, 1, 9]);
    expect([6, 3, 32].map((n) => shardOf("payments/api", n))).toEqual([1, 1, 7]);
    expect([6, 3, 32].map((n) => shardOf("team-a/game-service", n))).toEqual([4, 1, 4]);
  });

  it("puts everything in shard 0 of 1", () => {
    expect(shardOf("default/checkout", 1)).toBe(0);
    expect(shardOf("", 1)).toBe(0);
  });

  it("is within range for every count", () => {
    for (let n = 1; n <= 32; n++) {
      for (const k of ["a/b", "ns/p-1", "x/" + "y".repeat(250)]) {
        expect(shardOf(k, n)).toBeGreaterThanOrEqual(0);
        expect(shardOf(k, n)).toBeLessThan(n);
      }
    }
  });

  // Names that differ only in their last characters, as generated ones do: plain FNV-1a mod N would put
  // them in lockstep (its low bits see only the low bits of each byte).
  it.each([2, 3, 4, 6, 8])("spreads 300 profiles of one namespace over %i shards as a random assignment would (within 3 sd)", (n) => {
    const keys = numbered(300, (i) => `e2e-shard-k3x9q/p-${String(i).padStart(3, "0")}`);
    for (const c of counts(keys, n)) expect(Math.abs(c - 300 / n)).toBeLessThanOrEqual(tolerance(300, n));
  });

  it.each([2, 3, 4, 6, 8, 16, 32])("spreads 30,000 profiles over %i shards within 3 sd, and over 3 and 6 within 2 %% of the mean", (n) => {
    const keys = numbered(30_000, (i) => `team-${i % 40}/svc-${String(i).padStart(5, "0")}`);
    const got = counts(keys, n);
    for (const c of got) expect(Math.abs(c - 30_000 / n)).toBeLessThanOrEqual(tolerance(30_000, n));
    if (n === 3 || n === 6) for (const c of got) expect(Math.abs(c - 30_000 / n) / (30_000 / n)).toBeLessThan(0.02);
  });

  it("spreads the same name across namespaces", () => {
    const keys = numbered(3_000, (i) => `tenant-${i}/api`);
    for (const c of counts(keys, 6)) expect(Math.abs(c - 500)).toBeLessThanOrEqual(tolerance(3_000, 6));
  });
});
