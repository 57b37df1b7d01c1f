import { describe, expect, it } from "vitest";
import { burnRate, consumedPercent, Counters, increase, roleWindowMs, valueAt } from "./budget.ts";
import { counter, NS, requests, T0 } from "./test-builders.ts";

const s = (t: number) => T0 + t * 1000;
const availability = { name: "availability", objective: 99.5, windowMs: 60_000, indicator: { kind: "availability" as const } };

describe("the checker's budget arithmetic", () => {
  it("reads a counter's last fresh sample, never a stale one", () => {
    const c = counter({}, 0, 10, () => 1);
    expect(valueAt(c, s(5.5))).toBe(5);
    expect(valueAt(c, s(-1))).toBeUndefined();
    expect(valueAt(c, s(16))).toBeUndefined();
  });

  it("counts a series born inside the window from zero, bridges a gap at the window's start, and survives a reset", () => {
    const born = counter({}, 30, 60, () => 2, 2);
    expect(increase(born, s(10), s(60))).toBe(62);
    const gap = { metric: {}, samples: [...counter({}, 0, 10, () => 1).samples, ...counter({}, 40, 60, () => 1, 40).samples] };
    // No fresh sample at 20 s: the first sample inside (20, 60] stands in.
    expect(increase(gap, s(20), s(60))).toBe(20);
    const reset = { metric: {}, samples: [[s(0), 100], [s(1), 5]] as Array<[number, number]> };
    expect(increase(reset, s(0), s(1))).toBe(5);
    expect(increase(gap, s(0), s(30))).toBeUndefined();
  });

  it("computes consumption as error ratio over the allowed ratio, across workloads, with no verdict under minEvents", () => {
    // 100 req/s, 1 % errors: 2× the 0.5 % budget rate → 200 % consumed.
    const c = new Counters([requests("a", "200", 0, 120, () => 49.5), requests("a", "500", 0, 120, () => 0.5), requests("a-primary", "200", 0, 120, () => 49.5), requests("a-primary", "500", 0, 120, () => 0.5)], []);
    expect(consumedPercent(c, NS, ["a", "a-primary"], availability, 100, s(100))).toBeCloseTo(200, 6);
    expect(burnRate(c, NS, ["a"], availability, 10_000, s(100))).toBeCloseTo(2, 6);
    expect(consumedPercent(c, NS, ["a"], availability, 10_000, s(100))).toBeUndefined();
    expect(consumedPercent(c, NS, ["nobody"], availability, 1, s(100))).toBeUndefined();
  });

  it("reads a latency SLO from the histogram: bad = all − those within the threshold", () => {
    const le = (v: string, perS: number) => counter({ destination_workload_namespace: NS, destination_workload: "a", response_code: "200", le: v }, 0, 100, () => perS);
    const c = new Counters([], [le("500", 90), le("+Inf", 100), le("250", 50)]);
    const latency = { name: "p", objective: 95, windowMs: 60_000, indicator: { kind: "latency" as const, thresholdMs: 500 } };
    expect(consumedPercent(c, NS, ["a"], latency, 100, s(90))).toBeCloseTo(200, 6);
  });

  it("scales burn-rate roles to the SLO window, at least 10 s and at most the window", () => {
    expect(roleWindowMs(300_000, 60_000)).toBe(10_000);
    expect(roleWindowMs(3_600_000, 30 * 86_400_000)).toBe(3_600_000);
    expect(roleWindowMs(3_600_000, 7 * 86_400_000)).toBe(840_000);
    expect(roleWindowMs(3_600_000, 5_000)).toBe(5_000);
  });
});
