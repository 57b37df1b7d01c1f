import { describe, expect, it } from "vitest";
import { gatingSlos, judgeCheck, minEvents } from "./check.ts";
import type { CanaryMeasurement } from "./types.ts";
import { canaryMetrics, canarySpec } from "./test-builders.ts";

const spec = canarySpec();
const canary = spec.canary!;
const gating = ["availability", "latency-p95"];

const cases: { name: string; m: CanaryMeasurement | undefined; kind: string; reason?: string; says?: string }[] = [
  { name: "both under maxBurnRate with enough requests", m: canaryMetrics(), kind: "pass", says: "availability 0.5x, latency-p95 0.5x" },
  { name: "at maxBurnRate passes", m: canaryMetrics({ burn: 2 }), kind: "pass" },
  { name: "one over maxBurnRate", m: canaryMetrics({ burn: 2.01 }), kind: "fail", reason: "BurnRateExceeded", says: "availability burns 2.0x over 500 requests" },
  { name: "over maxBurnRate while the other SLO has no data still fails", m: canaryMetrics({ burn: 7 }, { burn: undefined, events: 0 }), kind: "fail" },
  { name: "no measurement", m: undefined, kind: "hold", reason: "NoData" },
  { name: "Prometheus error", m: { error: "timeout", slos: [] }, kind: "hold", reason: "NoData", says: "timeout" },
  { name: "an SLO missing from the measurement", m: { slos: [{ slo: "availability", burnRate: 0.1, events: 500 }] }, kind: "hold", reason: "NoData" },
  { name: "zero requests", m: canaryMetrics({ burn: undefined, events: 0 }), kind: "hold", reason: "NoData" },
  { name: "a burn rate without an event count", m: canaryMetrics({ events: undefined }), kind: "hold", reason: "NoData" },
  { name: "NaN burn rate", m: canaryMetrics({ burn: Number.NaN }), kind: "hold", reason: "NoData" },
  { name: "fewer than minEvents, even burning hard", m: canaryMetrics({ burn: 66, events: 3 }), kind: "hold", reason: "InsufficientData", says: "availability 3 requests" },
  { name: "exactly minEvents", m: canaryMetrics({ events: 100 }, { events: 100 }), kind: "pass" },
];

describe("judgeCheck", () => {
  it.each(cases)("$name → $kind", (c) => {
    const v = judgeCheck(canary, gating, 100, c.m);
    expect(v.kind).toBe(c.kind);
    if (c.reason) expect(v).toMatchObject({ reason: c.reason });
    if (c.says) expect(v.message).toContain(c.says);
  });

  it("gates on canary.slos when set, else every SLO", () => {
    expect(gatingSlos(spec)).toEqual(gating);
    expect(gatingSlos(canarySpec({ slos: ["latency-p95"] }))).toEqual(["latency-p95"]);
  });

  it("minEvents comes from canary.minEvents, else policy.minEvents", () => {
    expect(minEvents(spec)).toBe(100);
    expect(minEvents(canarySpec({ minEvents: 20 }))).toBe(20);
  });
});
