import { describe, expect, it } from "vitest";
import { budgetQuery, onSteps, sparkline, sparkRange } from "./sparkline.ts";

describe("sparkline", () => {
  it("draws 0 at the bottom and 100 % consumed at the top", () => {
    expect(sparkline([0, 0.5, 1])).toBe("▁▅█");
  });

  it("scales to the highest value when consumption went past 100 %", () => {
    expect(sparkline([0, 1, 2])).toBe("▁▅█");
  });

  it("leaves a gap for a step without data rather than drawing 0", () => {
    expect(sparkline([0.5, undefined, 1])).toBe("▅ █");
  });
});

describe("budgetQuery", () => {
  it("reads the leader's budget gauge of one profile, per SLO", () => {
    expect(budgetQuery("shop", "game-service")).toBe(
      'max by (slo) (tollgate_slo_budget_consumed_ratio{namespace="shop",profile="game-service"} and on (job, instance) (tollgate_leader == 1))',
    );
  });
});

describe("sparkRange and onSteps", () => {
  it("covers the SLO window in 40 steps ending now and places samples on their step", () => {
    const now = new Date("2026-11-30T12:00:00Z");
    const range = sparkRange("40m", now);
    expect(range).toEqual({ start: new Date("2026-11-30T11:21:00Z"), end: now, stepSeconds: 60 });
    const steps = onSteps([{ at: new Date("2026-11-30T11:21:00Z"), value: 0.2 }, { at: now, value: 0.9 }], range, 40);
    expect(steps[0]).toBe(0.2);
    expect(steps[39]).toBe(0.9);
    expect(steps.filter((v) => v !== undefined)).toHaveLength(2);
  });
});
