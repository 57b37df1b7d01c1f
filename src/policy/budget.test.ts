import { describe, expect, it } from "vitest";
import type { ProfileStatus } from "../api/status.ts";
import type { Measurements } from "../slo/types.ts";
import { budgetStatus, burningNow, readBudget, sloStatuses, type SloView } from "./budget.ts";
import { at, gameSpec, measure, prometheusDown } from "./test-builders.ts";

const spec = gameSpec();

describe("burningNow", () => {
  const view = (burn: SloView["burn"], verdict: SloView["verdict"] = "Ok"): SloView => ({ name: "a", window: "30d", verdict, consumed: 160, burn });
  it.each([
    ["both short windows above 1", { "5m": 12, "1h": 3 }, true],
    ["just above 1 on both", { "5m": 1.01, "1h": 1.01 }, true],
    ["exactly 1 (spending the budget exactly as allowed)", { "5m": 1, "1h": 3 }, false],
    ["a 5m blip the hour does not confirm", { "5m": 20, "1h": 0.8 }, false],
    ["an hour-old burn that has stopped", { "5m": 0.4, "1h": 6 }, false],
    ["no 5m rate (no events in the window)", { "1h": 6 }, false],
    ["no 1h rate", { "5m": 6 }, false],
    ["long windows only", { "6h": 9, "1d": 9 }, false],
  ])("%s → %s", (_name, burn, expected) => {
    expect(burningNow(view(burn as SloView["burn"]))).toBe(expected);
  });

  it("is never true without a verdict", () => {
    expect(burningNow(view({ "5m": 12, "1h": 3 }, "NoData"))).toBe(false);
  });
});

describe("readBudget", () => {
  it("picks the worst Ok SLO, ties to the first in spec order", () => {
    const v = readBudget(spec, {}, measure(at(0), { consumed: 50 }, { consumed: 50 }));
    expect(v.noData).toBe(false);
    expect(v.worst).toMatchObject({ name: "availability", consumed: 50 });
  });

  it.each<[string, Measurements]>([
    ["Prometheus is down", prometheusDown(at(0))],
    ["no SLO has data", measure(at(0), "NoData", "NoData")],
    ["every SLO has too few events", measure(at(0), "InsufficientData", "InsufficientData")],
    ["an SLO is missing from the answer and the other has none", { slos: [], at: at(0) }],
  ])("has no data when %s", (_name, m) => {
    const v = readBudget(spec, {}, m);
    expect(v.noData).toBe(true);
    expect(v.worst).toBeUndefined();
  });

  it("treats an Ok verdict without a finite number as no data", () => {
    const m = measure(at(0), { consumed: 10 });
    m.slos[0] = { ...m.slos[0]!, consumedPercent: Number.NaN };
    m.slos[1] = { ...m.slos[1]!, consumedPercent: Number.POSITIVE_INFINITY };
    expect(readBudget(spec, {}, m).noData).toBe(true);
  });

  it("holds on to the last known consumption of an SLO whose data vanished", () => {
    const prev: ProfileStatus = { slos: [{ name: "availability", verdict: "Ok", consumedPercent: 120 }] };
    const v = readBudget(spec, prev, measure(at(0), "NoData", { consumed: 20 }));
    expect(v.worst).toMatchObject({ name: "latency-p95", consumed: 20 });
    expect(v.held).toMatchObject({ slo: { name: "availability" }, consumed: 120 });
  });
});

describe("status numbers", () => {
  it("never holds NaN or Infinity and clamps what it must", () => {
    const m = measure(at(0), { consumed: 180, b5m: Number.NaN, b1h: Number.POSITIVE_INFINITY });
    m.slos[0] = { ...m.slos[0]!, sli: Number.NaN, events: Number.NaN };
    const slos = sloStatuses(spec, {}, m);
    const text = JSON.stringify(slos);
    expect(text).not.toContain("null");
    expect(slos[0]).toMatchObject({ verdict: "Ok", consumedPercent: 180, remainingPercent: 0 });
    expect(slos[0]?.sli).toBeUndefined();
    expect(slos[0]?.events).toBeUndefined();
    expect(slos[0]?.burnRates).not.toHaveProperty("5m");
    expect(slos[0]?.burnRates).not.toHaveProperty("1h");
    const b = budgetStatus(readBudget(spec, {}, m), {});
    expect(b).toEqual({ consumedPercent: 180, remainingPercent: 0, worstSlo: "availability", worstBurnRate: 0.2 });
  });

  it("leaves burnRates out when no burn rate is a number: an empty map reaches the API server as null, which it refuses", () => {
    const m = measure(at(0), { consumed: 40 });
    m.slos[0] = { ...m.slos[0]!, burnRates: m.slos[0]!.burnRates.map((b) => ({ role: b.role, window: b.window })) };
    const slos = sloStatuses(spec, {}, m);
    expect(slos[0]).toMatchObject({ verdict: "Ok", consumedPercent: 40 });
    expect(slos[0]).not.toHaveProperty("burnRates");
  });

  it("truncates rather than rounds, so a shown number is past a threshold only when the real one is", () => {
    const slos = sloStatuses(spec, {}, measure(at(0), { consumed: 99.996, b5m: 1.009 }));
    expect(slos[0]).toMatchObject({ consumedPercent: 99.99, remainingPercent: 0.01, burnRates: { "5m": 1 } });
  });

  it("keeps an SLO's last numbers, marked by its verdict, when its data vanishes; budget stays as it was", () => {
    const prev: ProfileStatus = {
      budget: { consumedPercent: 93.4, remainingPercent: 6.6, worstSlo: "availability", worstBurnRate: 2 },
      slos: [{ name: "availability", verdict: "Ok", sli: 99.53, consumedPercent: 93.4, remainingPercent: 6.6, burnRates: { "5m": 2 }, events: 5000, lastEvaluated: at(0).toISOString() }],
    };
    const m = prometheusDown(at(1));
    expect(sloStatuses(spec, prev, m)).toEqual([
      { name: "availability", verdict: "NoData", sli: 99.53, consumedPercent: 93.4, remainingPercent: 6.6, events: 5000, lastEvaluated: at(0).toISOString() },
      { name: "latency-p95", verdict: "NoData" },
    ]);
    expect(budgetStatus(readBudget(spec, prev, m), prev)).toEqual(prev.budget);
  });

  it("lists an SLO with too few events with its count", () => {
    const slos = sloStatuses(spec, {}, measure(at(0), { verdict: "InsufficientData", events: 42 }));
    expect(slos[0]).toEqual({ name: "availability", verdict: "InsufficientData", events: 42 });
  });
});
