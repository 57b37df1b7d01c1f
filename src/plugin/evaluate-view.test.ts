import { describe, expect, it } from "vitest";
import { gameSpec, measure, prometheusDown } from "../policy/test-builders.ts";
import { evaluate, evaluationText } from "./evaluate-view.ts";

const NOW = new Date("2026-11-30T12:00:00Z");
const base = { namespace: "shop", name: "game-service", spec: gameSpec(), problems: [], now: NOW };

describe("evaluate", () => {
  it("is Healthy with nothing to do while the budget is below warnAt", () => {
    const e = evaluate({ ...base, measurements: measure(NOW, { consumed: 40 }) });
    expect(e.profile.phase).toBe("Healthy");
    expect(e.actions.filter((a) => a.action === "freeze")).toEqual([]);
    expect(e.measurementError).toBeNull();
  });

  it("freezes at freezeAt, with the policy's own reason and message", () => {
    const e = evaluate({ ...base, measurements: measure(NOW, { consumed: 104.2 }) });
    expect(e.profile.phase).toBe("Frozen");
    const freeze = e.actions.find((a) => a.action === "freeze");
    expect(freeze).toMatchObject({ reason: "BudgetExhausted" });
    expect(freeze && "message" in freeze ? freeze.message : "").toContain("availability consumed 104.2 %");
    expect(e.conditions.find((c) => c.type === "DeploymentsFrozen")).toMatchObject({ status: "True", reason: "BudgetExhausted" });
  });

  it("skips the rollback at rollbackAt for want of a last known good revision, and says so", () => {
    const e = evaluate({ ...base, measurements: measure(NOW, { consumed: 160, b5m: 3, b1h: 2 }) });
    expect(e.actions.some((a) => a.action === "rollback")).toBe(false);
    expect(e.rollbackSkipped).toBe("NoLastKnownGood");
    expect(e.assumptions.join(" ")).toContain("No last known good revision");
  });

  it("holds without data and carries Prometheus's error", () => {
    const e = evaluate({ ...base, measurements: prometheusDown(NOW) });
    expect(e.profile.phase).toBe("Degraded");
    expect(e.measurementError).toContain("connection refused");
    expect(e.actions.some((a) => a.action === "freeze")).toBe(false);
  });
});

describe("evaluationText", () => {
  it("prints the SLO lines, what Tollgate would do, the conditions and the assumptions", () => {
    const e = evaluate({ ...base, measurements: measure(NOW, { consumed: 104.2 }), problems: [{ slo: "latency-p95", reason: "NoBucket", message: "no bucket at 500" }] });
    const text = evaluationText(e, "game-service", NOW);
    expect(text).toMatch(/^NAME\s+PHASE/);
    expect(text).toMatch(/\navailability\s+30d\s+Ok/);
    expect(text).toContain("Tollgate would:\n  freeze Deployment game-service (BudgetExhausted): availability consumed 104.2 %");
    expect(text).toContain("  latency-p95: NoBucket: no bucket at 500");
    expect(text).toContain("Conditions:\n");
    expect(text).toContain("Assumed:\n  - No history");
  });

  it("says so when nothing is due", () => {
    const e = evaluate({ ...base, measurements: measure(NOW, { consumed: 10 }) });
    expect(evaluationText(e, "game-service", NOW)).toContain("Tollgate would:\n  nothing: no action is due");
  });
});
