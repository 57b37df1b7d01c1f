import { describe, expect, it } from "vitest";
import { untilSlot } from "./cadence.ts";

const PERIOD = 30_000;
const keys = Array.from({ length: 3000 }, (_, i) => `ns-${i % 7}/svc-${String(i).padStart(5, "0")}`);

describe("untilSlot", () => {
  it("brings a profile back one period after a pass on its slot, however long the pass took", () => {
    const key = "shop/checkout";
    const first = 1_000_000 + untilSlot(key, PERIOD, 1_000_000);
    for (const took of [0, 5, 700, 2_900]) expect(first + took + untilSlot(key, PERIOD, first + took)).toBe(first + PERIOD);
  });

  it("stays between a tenth of the period and 1.1 periods, at any instant", () => {
    for (const key of keys.slice(0, 200)) {
      for (let now = 0; now < 2 * PERIOD; now += 997) {
        const d = untilSlot(key, PERIOD, now);
        expect(d).toBeGreaterThanOrEqual(PERIOD / 10);
        expect(d).toBeLessThanOrEqual(1.1 * PERIOD);
      }
    }
  });

  it("does not come back at once when the timer fired just before the slot and the pass was quick", () => {
    const key = "shop/checkout";
    const slot = 5 * PERIOD + untilSlot(key, PERIOD, 5 * PERIOD);
    expect(untilSlot(key, PERIOD, slot - 1)).toBe(PERIOD + 1);
  });

  it("spreads a round that ran all at once evenly over the period", () => {
    // Every profile passed within the same 100 ms, as in the first round after a restart.
    const due = keys.map((k, i) => 100 + (i % 100) + untilSlot(k, PERIOD, 100 + (i % 100)));
    const perTenth = Array.from({ length: 10 }, () => 0);
    for (const at of due) perTenth[Math.min(9, Math.floor(((at - 100) % PERIOD) / (PERIOD / 10)))]! += 1;
    // A uniform spread puts 300 in each tenth; 3,000 draws stay within ±20 % of it.
    for (const n of perTenth) expect(Math.abs(n - keys.length / 10)).toBeLessThan(keys.length / 50);
  });

  it("is the same for a key in any process, and different between keys", () => {
    expect(untilSlot("a/b", PERIOD, 0)).toBe(untilSlot("a/b", PERIOD, 0));
    expect(new Set(keys.slice(0, 50).map((k) => untilSlot(k, PERIOD, 0))).size).toBeGreaterThan(45);
  });

  it("passes a period it cannot place through", () => {
    expect(untilSlot("a/b", 0, 123)).toBe(0);
    expect(untilSlot("a/b", Number.POSITIVE_INFINITY, 123)).toBe(Number.POSITIVE_INFINITY);
  });
});
