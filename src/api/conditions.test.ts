import { describe, expect, it } from "vitest";
import { conditionsChanged, setCondition } from "./conditions.ts";

const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2026-01-01T00:05:00Z");

describe("setCondition", () => {
  it("adds a condition with the current time and observedGeneration", () => {
    const out = setCondition([], { type: "Ready", status: "True", reason: "Reconciled", message: "ok" }, 3, t0);
    expect(out).toEqual([
      { type: "Ready", status: "True", reason: "Reconciled", message: "ok", observedGeneration: 3, lastTransitionTime: t0.toISOString() },
    ]);
  });

  it("keeps lastTransitionTime while the status holds, even when reason and message change", () => {
    const first = setCondition([], { type: "Ready", status: "False", reason: "InvalidSpec", message: "a" }, 1, t0);
    const second = setCondition(first, { type: "Ready", status: "False", reason: "MetricsUnavailable", message: "b" }, 2, t1);
    expect(second[0]).toMatchObject({ reason: "MetricsUnavailable", message: "b", observedGeneration: 2, lastTransitionTime: t0.toISOString() });
  });

  it("moves lastTransitionTime when the status flips", () => {
    const first = setCondition([], { type: "Ready", status: "False", reason: "InvalidSpec", message: "a" }, 1, t0);
    const second = setCondition(first, { type: "Ready", status: "True", reason: "Reconciled", message: "ok" }, 2, t1);
    expect(second[0]?.lastTransitionTime).toBe(t1.toISOString());
  });

  it("leaves other conditions untouched", () => {
    const a = setCondition([], { type: "A", status: "True", reason: "R", message: "m" }, 1, t0);
    const ab = setCondition(a, { type: "B", status: "False", reason: "R", message: "m" }, 1, t1);
    expect(ab.map((c) => c.type)).toEqual(["A", "B"]);
    expect(ab[0]).toEqual(a[0]);
  });
});

describe("conditionsChanged", () => {
  it("ignores lastTransitionTime and order, sees status, reason, message and generation", () => {
    const a = setCondition(setCondition([], { type: "A", status: "True", reason: "R", message: "m" }, 1, t0), { type: "B", status: "True", reason: "R", message: "m" }, 1, t0);
    const b = [...a].reverse().map((c) => ({ ...c, lastTransitionTime: t1.toISOString() }));
    expect(conditionsChanged(a, b)).toBe(false);
    expect(conditionsChanged(a, b.map((c) => (c.type === "A" ? { ...c, message: "other" } : c)))).toBe(true);
    expect(conditionsChanged(a, b.map((c) => (c.type === "A" ? { ...c, observedGeneration: 2 } : c)))).toBe(true);
    expect(conditionsChanged(a, b.slice(1))).toBe(true);
    expect(conditionsChanged(undefined, [])).toBe(false);
  });
});
