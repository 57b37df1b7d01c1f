import { describe, expect, it } from "vitest";
import type { ProfileStatus } from "../api/status.ts";
import { statusChanged, writeReason } from "./status-changed.ts";

const t = (min: number) => new Date(Date.parse("2026-11-22T08:00:00Z") + min * 60_000).toISOString();

const base: ProfileStatus = {
  observedGeneration: 2,
  phase: "Warning",
  budget: { consumedPercent: 93.4, remainingPercent: 6.6, worstSlo: "availability", worstBurnRate: 2.1 },
  slos: [
    { name: "availability", verdict: "Ok", consumedPercent: 93.4, remainingPercent: 6.6, burnRates: { "5m": 2.1 }, lastEvaluated: t(0) },
    { name: "latency-p95", verdict: "Ok", consumedPercent: 10, remainingPercent: 90, burnRates: { "5m": 0.1 }, lastEvaluated: t(0) },
  ],
  lastKnownGood: { revision: 1, templateHash: "v1", since: t(-60) },
  conditions: [
    { type: "BudgetHealthy", status: "False", reason: "BudgetLow", message: "availability consumed 93.4 % of its 30d budget (warn at 90 %, freeze at 100 %).", observedGeneration: 2, lastTransitionTime: t(-5) },
  ],
};

type Edit = (s: ProfileStatus) => ProfileStatus;
const sloAt = (s: ProfileStatus, i: number, patch: Partial<NonNullable<ProfileStatus["slos"]>[number]>) =>
  (s.slos ?? []).map((x, j) => (j === i ? { ...x, ...patch } : x));
const cond = (s: ProfileStatus, patch: Partial<NonNullable<ProfileStatus["conditions"]>[number]>) =>
  (s.conditions ?? []).map((c) => ({ ...c, ...patch }));

describe("writeReason", () => {
  it.each<[string, Edit, string | undefined]>([
    ["nothing changed", (s) => s, undefined],
    ["the budget moved 0.9 points", (s) => ({ ...s, budget: { ...s.budget!, consumedPercent: 94.3 }, slos: sloAt(s, 0, { consumedPercent: 94.3 }) }), undefined],
    ["burn rates and messages moved", (s) => ({ ...s, budget: { ...s.budget!, worstBurnRate: 7 }, slos: sloAt(s, 0, { burnRates: { "5m": 7 } }), conditions: cond(s, { message: "other numbers" }) }), undefined],
    ["lastEvaluated moved less than the heartbeat", (s) => ({ ...s, slos: sloAt(s, 0, { lastEvaluated: t(4) }) }), undefined],
    ["key order after a round trip", (s) => ({ conditions: s.conditions, lastKnownGood: { since: t(-60), templateHash: "v1", revision: 1 }, slos: s.slos, budget: s.budget, phase: s.phase, observedGeneration: 2 }), undefined],
    ["the budget moved a point", (s) => ({ ...s, budget: { ...s.budget!, consumedPercent: 94.4 } }), "budget"],
    ["the budget fell a point", (s) => ({ ...s, budget: { ...s.budget!, consumedPercent: 92.4 } }), "budget"],
    ["another SLO became the worst", (s) => ({ ...s, budget: { ...s.budget!, worstSlo: "latency-p95" } }), "budget"],
    ["an SLO moved a point", (s) => ({ ...s, slos: sloAt(s, 1, { consumedPercent: 11 }) }), "slos"],
    ["an SLO lost its verdict", (s) => ({ ...s, slos: sloAt(s, 1, { verdict: "NoData" }) }), "slos"],
    ["the phase changed", (s) => ({ ...s, phase: "Frozen" }), "phase"],
    ["a condition's reason changed", (s) => ({ ...s, conditions: cond(s, { reason: "BudgetExhausted" }) }), "conditions"],
    ["a condition's status changed", (s) => ({ ...s, conditions: cond(s, { status: "True", reason: "WithinBudget" }) }), "conditions"],
    ["a condition appeared", (s) => ({ ...s, conditions: [...(s.conditions ?? []), { type: "Ready", status: "True", reason: "Reconciled", message: "", lastTransitionTime: t(0) }] }), "conditions"],
    ["the generation changed", (s) => ({ ...s, observedGeneration: 3 }), "generation"],
    ["a freeze began", (s) => ({ ...s, freeze: { since: t(1), reason: "BudgetExhausted" } }), "state"],
    ["a candidate appeared", (s) => ({ ...s, candidate: { revision: 2, templateHash: "v2", since: t(1) } }), "state"],
    ["the last known good was renumbered", (s) => ({ ...s, lastKnownGood: { ...s.lastKnownGood!, revision: 3 } }), "state"],
    ["another controller's field changed", (s) => ({ ...s, canary: { phase: "Progressing", weight: 10, step: 1, failedChecks: 0 } }), "state"],
    ["the heartbeat is due", (s) => ({ ...s, slos: sloAt(s, 0, { lastEvaluated: t(5) }) }), "heartbeat"],
  ])("%s → %s", (_name, edit, reason) => {
    const next = edit(structuredClone(base));
    expect(writeReason(base, next, { heartbeatMs: 5 * 60_000 })).toBe(reason);
    expect(statusChanged(base, next, { heartbeatMs: 5 * 60_000 })).toBe(reason !== undefined);
  });

  it("always writes over an empty status", () => {
    expect(writeReason(undefined, base, { heartbeatMs: 60_000 })).toBe("generation");
    expect(writeReason({}, { slos: base.slos }, { heartbeatMs: 60_000 })).toBe("slos");
  });

  it("has no heartbeat while no SLO has fresh numbers", () => {
    const stale = { ...base, slos: (base.slos ?? []).map((s) => ({ ...s, verdict: "NoData" as const })) };
    expect(writeReason(stale, structuredClone(stale), { heartbeatMs: 1 })).toBeUndefined();
  });

  it("takes the budget step as an option", () => {
    const next = { ...base, budget: { ...base.budget!, consumedPercent: 93.9 } };
    expect(writeReason(base, next, { heartbeatMs: 60_000, budgetStep: 0.5 })).toBe("budget");
  });
});
