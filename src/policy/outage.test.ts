import { describe, expect, it } from "vitest";
import type { BudgetView } from "./budget.ts";
import { nextOutage, outageShare } from "./outage.ts";

const t = (s: number) => new Date(Date.parse("2026-01-01T00:00:00Z") + s * 1000);
const down: BudgetView = { noData: true, error: "connect ECONNREFUSED", slos: [] };
const up: BudgetView = { noData: false, slos: [] };

describe("nextOutage", () => {
  it("opens at the first failed pass, keeps its start while Prometheus stays down, and closes at the first answer", () => {
    const opened = nextOutage(undefined, down, t(0));
    expect(opened).toEqual({ from: t(0).toISOString() });
    expect(nextOutage(opened, down, t(5))).toBe(opened);
    const closed = nextOutage(opened, up, t(20));
    expect(closed).toEqual({ from: t(0).toISOString(), to: t(20).toISOString() });
    expect(nextOutage(closed, up, t(25))).toBe(closed);
  });
  it("starts a new record when Prometheus fails again after one closed", () => {
    expect(nextOutage({ from: t(0).toISOString(), to: t(20).toISOString() }, down, t(90))).toEqual({ from: t(90).toISOString() });
  });
  it("records nothing while Prometheus answers", () => {
    expect(nextOutage(undefined, up, t(0))).toBeUndefined();
  });
});

describe("outageShare", () => {
  const o = { from: t(10).toISOString(), to: t(26).toISOString() };
  it("is the widened outage's part of the window", () => {
    // Window (12, 72]: the outage widened by 5 s each side is [5, 31], of which 19 s fall inside.
    expect(outageShare(o, 60_000, 5_000, t(72))).toBeCloseTo(19 / 60);
  });
  it("falls as the window moves past the outage, and is 0 once it has left", () => {
    expect(outageShare(o, 60_000, 5_000, t(86))).toBeCloseTo(5 / 60);
    expect(outageShare(o, 60_000, 5_000, t(92))).toBe(0);
  });
  it("counts an outage still open up to now", () => {
    expect(outageShare({ from: t(50).toISOString() }, 60_000, 5_000, t(60))).toBeCloseTo(15 / 60);
  });
  it("is negligible for an outage of minutes in a 30-day window", () => {
    const day = 86_400_000;
    expect(outageShare({ from: t(0).toISOString(), to: t(600).toISOString() }, 30 * day, 300_000, t(3600))).toBeLessThan(0.001);
  });
  it("is 0 without an outage", () => {
    expect(outageShare(undefined, 60_000, 5_000, t(0))).toBe(0);
  });
});
