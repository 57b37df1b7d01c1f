import { describe, expect, it } from "vitest";
import { autoscalingSchema, type Autoscaling } from "../api/autoscaling.ts";
import { profileSpecSchema } from "../api/profile.ts";
import type { BurnRole, Measurements, SloMeasurement } from "../slo/types.ts";
import { boost, isLatencySlo, type AutoscalingStatus } from "./boost.ts";

const T0 = new Date("2026-11-22T08:00:00Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const iso = (minutes: number) => at(minutes).toISOString();

const spec = profileSpecSchema.parse({
  targetRef: { name: "game-service" },
  slos: [
    { name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } },
    { name: "latency-p95", objective: 95, indicator: { istio: { kind: "latency", threshold: "500ms" } } },
  ],
});
/** The seed's HPA (70 %) with the default boost: down to 50 % in steps of 10, restored after 10m. */
const seed: Autoscaling = autoscalingSchema.parse({ sloBoost: {} });

type Rates = { b5m?: number; b1h?: number } | "NoData" | "InsufficientData";

/** Measurements at `minutes`: latency-p95 as given, availability burning hard (it must never boost). */
function measure(minutes: number, latency: Rates, availability: Rates = { b5m: 20, b1h: 20 }): Measurements {
  const slo = (name: string, objective: number, r: Rates): SloMeasurement => {
    const roles: BurnRole[] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];
    if (typeof r === "string") return { name, objective, window: "30d", verdict: r, burnRates: roles.map((role) => ({ role, window: role })) };
    const values: Partial<Record<BurnRole, number>> = { ...(r.b5m !== undefined ? { "5m": r.b5m } : {}), ...(r.b1h !== undefined ? { "1h": r.b1h } : {}) };
    return {
      name,
      objective,
      window: "30d",
      verdict: "Ok",
      events: 100_000,
      sli: 99,
      consumedPercent: 20,
      burnRates: roles.map((role) => (values[role] === undefined ? { role, window: role } : { role, window: role, value: values[role] })),
    };
  };
  return { slos: [slo("availability", 99.5, availability), slo("latency-p95", 95, latency)], at: at(minutes) };
}

const BURNING = { b5m: 3, b1h: 1.5 };
const CALM = { b5m: 0.4, b1h: 1.5 };

interface Case {
  name: string;
  previous: AutoscalingStatus | undefined;
  m: Measurements;
  autoscaling?: Autoscaling;
  want: { cpuTarget: number; boostedSince?: string; changed: boolean; reason: string };
}

const cases: Case[] = [
  { name: "first evaluation, calm: the spec's target", previous: undefined, m: measure(0, CALM), want: { cpuTarget: 70, changed: true, reason: "NotBoosted" } },
  { name: "calm and unboosted: nothing to write", previous: { cpuTarget: 70 }, m: measure(0, CALM), want: { cpuTarget: 70, changed: false, reason: "NotBoosted" } },
  { name: "burning: one step down", previous: { cpuTarget: 70 }, m: measure(0, BURNING), want: { cpuTarget: 60, boostedSince: iso(0), changed: true, reason: "Lowered" } },
  { name: "still burning, next measurement: another step", previous: { cpuTarget: 60, boostedSince: iso(0) }, m: measure(0.5, BURNING), want: { cpuTarget: 50, boostedSince: iso(0.5), changed: true, reason: "Lowered" } },
  { name: "burning at the floor: holds, the cool-down restarts", previous: { cpuTarget: 50, boostedSince: iso(0.5) }, m: measure(1, BURNING), want: { cpuTarget: 50, boostedSince: iso(1), changed: true, reason: "AtFloor" } },
  { name: "the step never goes below the floor", previous: { cpuTarget: 55, boostedSince: iso(0) }, m: measure(1, BURNING), want: { cpuTarget: 50, boostedSince: iso(1), changed: true, reason: "Lowered" } },
  { name: "the same measurement again: no second step", previous: { cpuTarget: 60, boostedSince: iso(0) }, m: measure(0, BURNING), want: { cpuTarget: 60, boostedSince: iso(0), changed: false, reason: "AlreadyApplied" } },
  { name: "5m above 1 but 1h not: not burning", previous: { cpuTarget: 70 }, m: measure(0, { b5m: 8, b1h: 0.9 }), want: { cpuTarget: 70, changed: false, reason: "NotBoosted" } },
  { name: "exactly 1 is not faster than 1", previous: { cpuTarget: 70 }, m: measure(0, { b5m: 1, b1h: 1 }), want: { cpuTarget: 70, changed: false, reason: "NotBoosted" } },
  { name: "an availability burn never boosts", previous: { cpuTarget: 70 }, m: measure(0, CALM, { b5m: 50, b1h: 50 }), want: { cpuTarget: 70, changed: false, reason: "NotBoosted" } },
  { name: "calm within the cool-down: hold", previous: { cpuTarget: 50, boostedSince: iso(0) }, m: measure(9.9, CALM), want: { cpuTarget: 50, boostedSince: iso(0), changed: false, reason: "CoolingDown" } },
  { name: "calm for the whole cool-down: restored at once", previous: { cpuTarget: 50, boostedSince: iso(0) }, m: measure(10, CALM), want: { cpuTarget: 70, changed: true, reason: "Restored" } },
  { name: "no data while boosted: hold, no restore", previous: { cpuTarget: 50, boostedSince: iso(0) }, m: measure(30, "NoData"), want: { cpuTarget: 50, boostedSince: iso(0), changed: false, reason: "NoData" } },
  { name: "too few events while boosted: hold", previous: { cpuTarget: 60, boostedSince: iso(0) }, m: measure(30, "InsufficientData"), want: { cpuTarget: 60, boostedSince: iso(0), changed: false, reason: "NoData" } },
  { name: "a missing 1h rate: hold", previous: { cpuTarget: 60, boostedSince: iso(0) }, m: measure(30, { b5m: 4 }), want: { cpuTarget: 60, boostedSince: iso(0), changed: false, reason: "NoData" } },
  {
    name: "Prometheus down: hold",
    previous: { cpuTarget: 60, boostedSince: iso(0) },
    m: { error: "connection refused", slos: [], at: at(30) },
    want: { cpuTarget: 60, boostedSince: iso(0), changed: false, reason: "NoData" },
  },
  { name: "no data, unboosted: stays at the spec's target", previous: undefined, m: measure(0, "NoData"), want: { cpuTarget: 70, changed: true, reason: "NoData" } },
  {
    name: "sloBoost unset: the spec's target, boost cleared",
    autoscaling: autoscalingSchema.parse({}),
    previous: { cpuTarget: 50, boostedSince: iso(0) },
    m: measure(1, BURNING),
    want: { cpuTarget: 70, changed: true, reason: "Disabled" },
  },
  {
    name: "cpuUtilization lowered below the boosted target: clamped before stepping",
    autoscaling: autoscalingSchema.parse({ cpuUtilization: 55, sloBoost: { minCpuUtilization: 40 } }),
    previous: { cpuTarget: 60, boostedSince: iso(0) },
    m: measure(1, BURNING),
    want: { cpuTarget: 45, boostedSince: iso(1), changed: true, reason: "Lowered" },
  },
  {
    name: "minCpuUtilization raised above the boosted target: held at the new floor",
    autoscaling: autoscalingSchema.parse({ sloBoost: { minCpuUtilization: 60 } }),
    previous: { cpuTarget: 50, boostedSince: iso(0) },
    m: measure(1, BURNING),
    want: { cpuTarget: 60, boostedSince: iso(1), changed: true, reason: "AtFloor" },
  },
  {
    name: "a custom step and cool-down",
    autoscaling: autoscalingSchema.parse({ sloBoost: { step: 5, coolDown: "2m" } }),
    previous: { cpuTarget: 65, boostedSince: iso(0) },
    m: measure(2, CALM),
    want: { cpuTarget: 70, changed: true, reason: "Restored" },
  },
];

describe("boost", () => {
  it.each(cases)("$name", (c) => {
    const r = boost({ autoscaling: c.autoscaling ?? seed, slos: spec.slos, measurements: c.m, previous: c.previous });
    expect({ cpuTarget: r.cpuTarget, boostedSince: r.boostedSince, changed: r.changed, reason: r.reason }).toEqual({ boostedSince: undefined, ...c.want });
    expect(r.message).not.toBe("");
  });

  it("steps at most once per evaluation interval, however often it is asked", () => {
    const ask = (minutes: number, previous: AutoscalingStatus) =>
      boost({ autoscaling: seed, slos: spec.slos, measurements: measure(minutes, BURNING), previous, stepEveryMs: 30_000 });
    const early = ask(0.25, { cpuTarget: 60, boostedSince: iso(0) });
    expect({ cpuTarget: early.cpuTarget, boostedSince: early.boostedSince, reason: early.reason, changed: early.changed }).toEqual({
      cpuTarget: 60,
      boostedSince: iso(0),
      reason: "AlreadyApplied",
      changed: false,
    });
    const due = ask(0.5, { cpuTarget: 60, boostedSince: iso(0) });
    expect([due.cpuTarget, due.reason]).toEqual([50, "Lowered"]);
    // At the floor every burning measurement restarts the cool-down, paced or not.
    const floor = ask(0.6, { cpuTarget: 50, boostedSince: iso(0.5) });
    expect([floor.cpuTarget, floor.boostedSince, floor.reason]).toEqual([50, iso(0.6), "AtFloor"]);
  });

  it("no latency SLO: nothing to boost on", () => {
    const slos = spec.slos.filter((s) => s.name === "availability");
    const r = boost({ autoscaling: seed, slos, measurements: measure(0, BURNING, BURNING), previous: { cpuTarget: 60, boostedSince: iso(0) } });
    expect(r).toMatchObject({ cpuTarget: 70, changed: true, reason: "NoLatencySlo" });
    expect(r.boostedSince).toBeUndefined();
  });

  it("an incident end to end: 70 → 60 → 50, held through the cool-down, then 70", () => {
    let status: AutoscalingStatus | undefined = { cpuTarget: 70 };
    const seen: number[] = [];
    // Evaluations every 30s; latency burns for the first 2 minutes, then is calm.
    for (let t = 0; t <= 14; t += 0.5) {
      const r = boost({ autoscaling: seed, slos: spec.slos, measurements: measure(t, t < 2 ? BURNING : CALM), previous: status });
      status = { cpuTarget: r.cpuTarget, ...(r.boostedSince ? { boostedSince: r.boostedSince } : {}) };
      seen.push(r.cpuTarget);
    }
    expect(seen.slice(0, 4)).toEqual([60, 50, 50, 50]);
    // Last burning measurement at 1.5m: restored at the first calm one at or after 11.5m.
    const restoredAt = seen.indexOf(70) * 0.5;
    expect(restoredAt).toBe(11.5);
    expect(seen.slice(seen.indexOf(70))).toEqual(Array(seen.length - seen.indexOf(70)).fill(70));
  });

  it("a histogram latency SLO counts as latency, a ratio SLO does not", () => {
    const s = profileSpecSchema.parse({
      targetRef: { name: "api" },
      slos: [
        { name: "fast", objective: 99, indicator: { latency: { metric: "http_request_duration_seconds", selector: '{job="api"}', threshold: "300ms" } } },
        { name: "ok", objective: 99, indicator: { ratio: { errors: "sum(rate(e[{{window}}]))", total: "sum(rate(t[{{window}}]))" } } },
      ],
    });
    expect(s.slos.map(isLatencySlo)).toEqual([true, false]);
  });
});
