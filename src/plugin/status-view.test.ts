import { describe, expect, it } from "vitest";
import type { Condition } from "../api/status.ts";
import { lastDecision, profileDetail, profilesTable, summarize, type ProfileObject } from "./status-view.ts";

const NOW = new Date("2026-11-30T12:00:00Z");

const cond = (type: string, status: Condition["status"], reason: string, at: string, message = `${type} ${reason}`): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: at,
});

function frozenProfile(): ProfileObject {
  return {
    metadata: {
      name: "game-service",
      namespace: "shop",
      annotations: { "tollgate.dev/override-freeze": JSON.stringify({ by: "alice", reason: "hotfix INC-42", expires: "2026-11-30T14:00:00Z" }) },
    },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "game-service" },
      slos: [{ name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } }],
    },
    status: {
      phase: "Frozen",
      budget: { consumedPercent: 104.2, remainingPercent: 0, worstSlo: "availability", worstBurnRate: 3.1 },
      slos: [
        {
          name: "availability",
          verdict: "Ok",
          sli: 99.479,
          consumedPercent: 104.2,
          remainingPercent: 0,
          burnRates: { "5m": 3.1, "1h": 2.25, "3d": 1.04 },
          events: 1234567,
          lastEvaluated: "2026-11-30T11:59:30Z",
        },
      ],
      freeze: { since: "2026-11-30T11:48:00Z", reason: "BudgetExhausted", slo: "availability", consumedPercent: 100.3 },
      canary: { phase: "Waiting", weight: 0, step: 0, failedChecks: 0 },
      conditions: [
        cond("Ready", "True", "Reconciled", "2026-11-30T10:00:00Z"),
        cond("BudgetHealthy", "False", "BudgetExhausted", "2026-11-30T11:48:00Z"),
        cond("DeploymentsFrozen", "True", "BudgetExhausted", "2026-11-30T11:48:00Z", "availability consumed 104.2 % of its 30d budget (freeze at 100 %)."),
      ],
    },
  };
}

describe("summarize", () => {
  it("reads the budget, freeze, override, canary and every SLO's numbers from the status and annotation", () => {
    const s = summarize(frozenProfile(), NOW);
    expect(s).toMatchObject({
      namespace: "shop",
      name: "game-service",
      phase: "Frozen",
      budget: { consumedPercent: 104.2, remainingPercent: 0, worstSlo: "availability" },
      freeze: { since: "2026-11-30T11:48:00Z", reason: "BudgetExhausted", slo: "availability", consumedPercent: 100.3 },
      override: { by: "alice", reason: "hotfix INC-42", expires: "2026-11-30T14:00:00.000Z", active: true },
      canary: { phase: "Waiting", step: 0, weight: 0, failedChecks: 0, revision: null, lastVerdict: null },
      lastDecision: { condition: "DeploymentsFrozen", status: "True", reason: "BudgetExhausted" },
      statusProblem: null,
    });
    expect(s.slos).toEqual([
      {
        name: "availability",
        window: "30d",
        verdict: "Ok",
        sli: 99.479,
        consumedPercent: 104.2,
        remainingPercent: 0,
        events: 1234567,
        burnRates: { "5m": 3.1, "1h": 2.25, "3d": 1.04 },
        lastEvaluated: "2026-11-30T11:59:30Z",
      },
    ]);
  });

  it("gives every field, null when unknown, for a profile Tollgate has not reconciled yet", () => {
    const s = summarize({ metadata: { name: "new", namespace: "shop" }, spec: {} }, NOW);
    expect(s).toEqual({
      namespace: "shop",
      name: "new",
      phase: "Unknown",
      budget: null,
      freeze: null,
      override: null,
      canary: null,
      lastDecision: null,
      slos: [],
      statusProblem: null,
    });
  });

  it("names the field of a status it cannot read instead of guessing", () => {
    const s = summarize({ metadata: { name: "odd", namespace: "shop" }, status: { phase: "Sleeping" } }, NOW);
    expect(s.phase).toBe("Unknown");
    expect(s.statusProblem).toMatch(/^status\.phase: /);
  });

  it("reports an override annotation the operator refuses with the operator's own problem text", () => {
    const obj = frozenProfile();
    obj.metadata!.annotations = { "tollgate.dev/override-freeze": "hotfix please" };
    expect(summarize(obj, NOW).override).toEqual({ problem: expect.stringContaining("the value is not JSON") });
  });
});

describe("lastDecision", () => {
  it("is a False Ready or MetricsAvailable first: nothing else acts while they hold", () => {
    const d = lastDecision([
      cond("DeploymentsFrozen", "True", "BudgetExhausted", "2026-11-30T11:00:00Z"),
      cond("MetricsAvailable", "False", "PrometheusUnreachable", "2026-11-30T10:00:00Z"),
    ]);
    expect(d?.type).toBe("MetricsAvailable");
  });

  it("is otherwise the latest transition, and of simultaneous ones the weightiest", () => {
    expect(
      lastDecision([
        cond("BudgetHealthy", "False", "BudgetLow", "2026-11-30T11:00:00Z"),
        cond("CanaryProgressing", "True", "CanaryAdvanced", "2026-11-30T11:30:00Z"),
      ])?.type,
    ).toBe("CanaryProgressing");
    expect(
      lastDecision([
        cond("BudgetHealthy", "False", "BudgetExhausted", "2026-11-30T11:00:00Z"),
        cond("DeploymentsFrozen", "True", "BudgetExhausted", "2026-11-30T11:00:00Z"),
      ])?.type,
    ).toBe("DeploymentsFrozen");
  });
});

describe("profilesTable", () => {
  it("prints one aligned line per profile with the freeze's age, the override's time left and the reason", () => {
    const text = profilesTable([summarize(frozenProfile(), NOW)], NOW, { namespaces: false });
    const [header, row] = text.split("\n");
    expect(header).toMatch(/^NAME\s+PHASE\s+CONSUMED\s+REMAINING\s+WORST\s+FREEZE\s+OVERRIDE\s+CANARY\s+LAST DECISION$/);
    expect(row).toContain("game-service");
    expect(row).toContain("104.2%");
    expect(row).toContain("BudgetExhausted 12m");
    expect(row).toContain("alice, 2h left");
    expect(row).toContain("Waiting step 0 0%");
    expect(row).toContain("DeploymentsFrozen=True BudgetExhausted: availability consumed 104.2 % of its 30d budget (freeze at 100 %).");
    expect(header?.indexOf("PHASE")).toBe(row?.indexOf("Frozen"));
  });

  it("adds NAMESPACE for -A and shows unknown numbers as - rather than 0", () => {
    const text = profilesTable([summarize({ metadata: { name: "new", namespace: "team-a" } }, NOW)], NOW, { namespaces: true });
    expect(text.split("\n")[0]).toMatch(/^NAMESPACE\s+NAME\s+PHASE/);
    expect(text.split("\n")[1]).toMatch(/^team-a\s+new\s+Unknown\s+-\s+-\s+-/);
  });
});

describe("profileDetail", () => {
  it("adds a line per SLO with a burn rate per window role, - where the role had no verdict", () => {
    const text = profileDetail(summarize(frozenProfile(), NOW), NOW);
    const lines = text.split("\n");
    const header = lines.find((l) => l.startsWith("SLO"));
    const row = lines.find((l) => l.startsWith("availability"));
    expect(header).toMatch(/^SLO\s+WINDOW\s+VERDICT\s+SLI\s+CONSUMED\s+REMAINING\s+EVENTS\s+BURN 5m\s+BURN 30m\s+BURN 1h\s+BURN 2h\s+BURN 6h\s+BURN 1d\s+BURN 3d$/);
    expect(row?.split(/\s+/)).toEqual(["availability", "30d", "Ok", "99.479%", "104.2%", "0.0%", "1234567", "3.1x", "-", "2.3x", "-", "-", "-", "1.0x"]);
    expect(text).toContain("Override: by alice until 2026-11-30T14:00:00.000Z: hotfix INC-42");
  });

  it("adds the budget sparkline column when sparklines are given", () => {
    const text = profileDetail(summarize(frozenProfile(), NOW), NOW, new Map([["availability", "▁▂▄█"]]));
    expect(text).toMatch(/BUDGET OVER WINDOW/);
    expect(text).toMatch(/1\.0x\s+▁▂▄█/);
  });
});
