import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../api/profile.ts";
import { canarySpec } from "../canary/test-builders.ts";
import { canaryPlan } from "./canary.ts";
import { planProfile, type SloPlan } from "./plan.ts";

describe("canaryPlan", () => {
  it("reads each gating SLO over the interval on the target workload alone", () => {
    const plan = canaryPlan("games", canarySpec({ interval: "30s", slos: ["availability"] }));
    expect(plan?.window).toBe("30s");
    expect(plan?.slos).toHaveLength(1);
    expect(plan?.slos[0]?.slo).toBe("availability");
    expect(plan?.slos[0]?.objective).toBe(99.5);
    expect(plan?.slos[0]?.errorRatio).toContain('destination_workload="game-service"');
    expect(plan?.slos[0]?.errorRatio).toContain("[30s]");
    expect(plan?.slos[0]?.events).toBe('sum(increase(istio_requests_total{destination_workload="game-service",destination_workload_namespace="games",reporter="destination"}[30s]))');
  });

  it("never reads a window shorter than the burn-window floor", () => {
    expect(canaryPlan("games", canarySpec({ interval: "10s" }))?.window).toBe("10s");
    expect(canaryPlan("games", canarySpec({ interval: "10s" }), { minBurnWindowMs: 60_000 })?.window).toBe("1m");
  });

  it("gates on every Istio SLO when canary.slos is unset, and on nothing without a canary", () => {
    expect(canaryPlan("games", canarySpec())?.slos.map((s) => s.slo)).toEqual(["availability", "latency-p95"]);
    const { canary: _, ...noCanary } = canarySpec();
    expect(canaryPlan("games", profileSpecSchema.parse(noCanary))).toBeUndefined();
  });
});

describe("the budget in canary mode", () => {
  it("counts primary's and the canary's requests alike", () => {
    const spec = canarySpec();
    const plan = planProfile({ namespace: "games", name: "game", spec }).slos[0] as SloPlan;
    expect(plan.events).toContain('destination_workload=~"game-service|game-service-primary"');
    const { canary: _, ...guard } = spec;
    const guardPlan = planProfile({ namespace: "games", name: "game", spec: guard }).slos[0] as SloPlan;
    expect(guardPlan.events).toContain('destination_workload="game-service"');
  });
});
