import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../api/profile.ts";
import {
  burnRate,
  clampRatio,
  consumedPercent,
  errorBudget,
  firingBurnAlerts,
  measureSlo,
  noDataMeasurement,
  remainingPercent,
  sliPercent,
} from "./budget.ts";
import { isPlanError, planSlo, type SloPlan } from "./plan.ts";
import type { SloMeasurement } from "./types.ts";

describe("budget arithmetic", () => {
  it.each([
    // objective, error ratio, burn rate, consumed %, remaining %, SLI %
    [99.5, 0.005, 1, 100, 0, 99.5],
    [99.5, 0.0075, 1.5, 150, 0, 99.25],
    [99.5, 0.0045, 0.9, 90, 10, 99.55],
    [99.5, 0.0035, 0.7, 70, 30, 99.65],
    [99.5, 0, 0, 0, 100, 100],
    [99.9, 0.001, 1, 100, 0, 99.9],
    [99.9, 0.0009, 0.9, 90, 10, 99.91],
    [99.9, 0.0015, 1.5, 150, 0, 99.85],
    [99.9, 0.0144, 14.4, 1440, 0, 98.56],
    [99.0, 0.01, 1, 100, 0, 99],
    [99.0, 0.007, 0.7, 70, 30, 99.3],
    [99.0, 0.015, 1.5, 150, 0, 98.5],
    [95, 0.05, 1, 100, 0, 95],
    [95, 0.0625, 1.25, 125, 0, 93.75],
    [99.5, 1, 200, 20000, 0, 0],
  ])("objective %d, error ratio %d → BR %d, consumed %d %%, remaining %d %%, SLI %d %%", (objective, ratio, br, consumed, remaining, sli) => {
    // Exact, not close: thresholds like 150 % are compared with >=.
    expect(burnRate(ratio, objective)).toBe(br);
    expect(consumedPercent(ratio, objective)).toBe(consumed);
    expect(remainingPercent(consumed)).toBe(remaining);
    expect(sliPercent(ratio)).toBe(sli);
  });

  it("derives the budget from the objective", () => {
    expect(errorBudget(99.5)).toBe(0.005);
    expect(errorBudget(99.9)).toBe(0.001);
    expect(errorBudget(99)).toBe(0.01);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, undefined])("turns %s into no value, never a number", (bad) => {
    expect(clampRatio(bad)).toBeUndefined();
    expect(burnRate(bad, 99.5)).toBeUndefined();
    expect(consumedPercent(bad, 99.5)).toBeUndefined();
    expect(sliPercent(bad)).toBeUndefined();
  });

  it("clamps ratios outside [0, 1] (extrapolation noise between bucket and _count)", () => {
    expect(burnRate(-0.0001, 99.5)).toBe(0);
    expect(sliPercent(-0.0001)).toBe(100);
    expect(burnRate(1.2, 99.5)).toBe(200);
  });

  it("gives no burn rate for an objective without budget", () => {
    expect(burnRate(0.1, 100)).toBeUndefined();
  });
});

const spec = profileSpecSchema.parse({
  targetRef: { name: "game-service" },
  policy: { minEvents: 100 },
  slos: [
    { name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } },
    { name: "short", objective: 99.5, window: "2m", indicator: { istio: { kind: "availability" } } },
  ],
});
const profile = { namespace: "games", name: "game", spec };

function plan(i: number): SloPlan {
  // The 2 s floor keeps a distinct window per role, so every role's rate can be told apart.
  const p = planSlo(profile, spec.slos[i]!, { minBurnWindowMs: 2_000 });
  if (isPlanError(p)) throw new Error(p.error);
  return p;
}

function reading(ratios: Record<string, number | undefined>, events: number | undefined) {
  return { errorRatios: new Map(Object.entries(ratios)), events };
}

/** Every number anywhere in a measurement, to prove none is NaN or infinite. */
function numbers(m: SloMeasurement): number[] {
  return [m.objective, m.events, m.sli, m.consumedPercent, ...m.burnRates.map((b) => b.value)].filter((x): x is number => x !== undefined);
}

describe("measureSlo", () => {
  const all = (r: number | undefined) => ({ "5m": r, "30m": r, "1h": r, "2h": r, "6h": r, "1d": r, "3d": r, "30d": r });

  it("measures an SLO with enough events", () => {
    const m = measureSlo(plan(0), reading({ ...all(0.005), "5m": 0.0075, "1h": 0.0144 }, 1_000_000.4), 100);
    expect(m).toEqual({
      name: "availability",
      objective: 99.5,
      window: "30d",
      verdict: "Ok",
      events: 1_000_000,
      sli: 99.5,
      consumedPercent: 100,
      burnRates: [
        { role: "5m", window: "5m", value: 1.5 },
        { role: "30m", window: "30m", value: 1 },
        { role: "1h", window: "1h", value: 2.88 },
        { role: "2h", window: "2h", value: 1 },
        { role: "6h", window: "6h", value: 1 },
        { role: "1d", window: "1d", value: 1 },
        { role: "3d", window: "3d", value: 1 },
      ],
    });
  });

  it("reads burn windows scaled to a short SLO window", () => {
    const m = measureSlo(plan(1), reading({ "2s": 0.01, "4s": 0.0075, "12s": 0.005, "2m": 0.0045 }, 500), 100);
    expect(m.consumedPercent).toBe(90);
    expect(m.burnRates.map((b) => [b.role, b.window, b.value])).toEqual([
      ["5m", "2s", 2],
      ["30m", "2s", 2],
      ["1h", "2s", 2],
      ["2h", "2s", 2],
      ["6h", "2s", 2],
      ["1d", "4s", 1.5],
      ["3d", "12s", 1],
    ]);
  });

  it("leaves a burn rate out when its window had no events, and keeps the verdict", () => {
    const m = measureSlo(plan(0), reading({ ...all(0.001), "5m": Number.NaN, "30m": undefined }, 5000), 100);
    expect(m.verdict).toBe("Ok");
    expect(m.burnRates[0]).toEqual({ role: "5m", window: "5m" });
    expect(m.burnRates[1]).toEqual({ role: "30m", window: "30m" });
    expect(m.burnRates[2]?.value).toBe(0.2);
  });

  const noVerdict: Array<[string, Record<string, number | undefined>, number | undefined, string, number | undefined]> = [
    // case, ratios, events, verdict, events reported
    ["zero traffic (0/0 is NaN)", all(Number.NaN), 0, "NoData", 0],
    ["no series at all", {}, undefined, "NoData", undefined],
    ["NaN events", all(0.001), Number.NaN, "NoData", undefined],
    ["infinite events", all(0.001), Number.POSITIVE_INFINITY, "NoData", undefined],
    ["fewer events than minEvents", all(0.5), 99, "InsufficientData", 99],
    ["a single event", all(1), 1, "InsufficientData", 1],
    ["events but no ratio (no bucket at the threshold)", {}, 5000, "NoData", 5000],
    ["events but a NaN ratio", all(Number.NaN), 5000, "NoData", 5000],
  ];
  it.each(noVerdict)("%s → %s, never 0 %% or 100 %%", (_, ratios, events, verdict, reported) => {
    const m = measureSlo(plan(0), reading(ratios, events), 100);
    expect(m.verdict).toBe(verdict);
    expect(m.events).toBe(reported);
    expect(m.sli).toBeUndefined();
    expect(m.consumedPercent).toBeUndefined();
    expect(m.burnRates.every((b) => b.value === undefined)).toBe(true);
    expect(m.burnRates).toHaveLength(7);
    expect(numbers(m).every(Number.isFinite)).toBe(true);
  });

  it("counts exactly minEvents as enough", () => {
    expect(measureSlo(plan(0), reading(all(0), 100), 100).verdict).toBe("Ok");
  });

  it("lets no non-finite value through, whatever Prometheus sends", () => {
    const weird = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 2, 0, undefined, 1e300];
    for (const r of weird) {
      for (const e of weird) {
        const m = measureSlo(plan(0), reading(all(r), e), 100);
        expect(numbers(m).every(Number.isFinite), `ratio ${r}, events ${e}`).toBe(true);
      }
    }
  });

  it("describes an SLO without a verdict", () => {
    expect(noDataMeasurement(spec.slos[1]!, { minBurnWindowMs: 2_000 })).toEqual({
      name: "short",
      objective: 99.5,
      window: "2m",
      verdict: "NoData",
      burnRates: [
        { role: "5m", window: "2s" },
        { role: "30m", window: "2s" },
        { role: "1h", window: "2s" },
        { role: "2h", window: "2s" },
        { role: "6h", window: "2s" },
        { role: "1d", window: "4s" },
        { role: "3d", window: "12s" },
      ],
    });
  });
});

describe("firingBurnAlerts", () => {
  const measurement = (rates: Partial<Record<string, number>>, verdict: SloMeasurement["verdict"] = "Ok"): SloMeasurement => ({
    name: "availability",
    objective: 99.9,
    window: "30d",
    verdict,
    burnRates: (["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const).map((role) => {
      const value = rates[role];
      return value === undefined ? { role, window: role } : { role, window: role, value };
    }),
  });

  it.each([
    ["fast burn on both windows pages", { "1h": 15, "5m": 20 }, [["1h", "5m"]]],
    ["the short window confirms: an old burn that stopped does not page", { "1h": 15, "5m": 0.5 }, []],
    ["exactly the factor does not fire", { "1h": 14.4, "5m": 14.4 }, []],
    ["slow burn tickets", { "3d": 1.2, "6h": 1.1 }, [["3d", "6h"]]],
    ["every pair at once", { "5m": 20, "30m": 20, "1h": 20, "2h": 20, "6h": 20, "1d": 20, "3d": 20 }, [["1h", "5m"], ["6h", "30m"], ["1d", "2h"], ["3d", "6h"]]],
    ["a missing window fires nothing", { "1h": 15 }, []],
  ] as Array<[string, Record<string, number>, string[][]]>)("%s", (_, rates, want) => {
    expect(firingBurnAlerts(measurement(rates)).map((a) => [a.long, a.short])).toEqual(want);
  });

  it("fires nothing without a verdict", () => {
    expect(firingBurnAlerts(measurement({ "1h": 15, "5m": 20 }, "InsufficientData"))).toEqual([]);
  });
});
