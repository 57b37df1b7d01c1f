import { describe, expect, it } from "vitest";
import type { Phase } from "../api/status.ts";
import { consumedPercent } from "../slo/budget.ts";
import type { Measurements } from "../slo/types.ts";
import type { NotifyAction } from "./actions.ts";
import { decide } from "./decide.ts";
import type { DeploymentFacts } from "./deployment.ts";
import { at, condition, deployment, kinds, measure, release, Sim, type SloNumbers } from "./test-builders.ts";

interface Step {
  at: number;
  availability: SloNumbers;
  /** Changes the cluster before the cycle (a release, a rollout finishing). */
  cluster?: (d: DeploymentFacts) => DeploymentFacts;
  phase: Phase;
  actions: string[];
}

const quiet = { b5m: 0.3, b1h: 0.3 };
const burning = { b5m: 12, b1h: 3 };

// Every transition of the seed's policy, in the order an incident walks them: a healthy release becomes
// last known good, the next release burns, and the budget climbs through warn, freeze and rollback,
// then recovers through the hysteresis band to the unfreeze.
const incident: Step[] = [
  { at: 0, availability: { consumed: 40, ...quiet }, phase: "Healthy", actions: [] },
  { at: 10, availability: { consumed: 40, ...quiet }, phase: "Healthy", actions: [] },
  { at: 11, availability: { consumed: 40, ...quiet }, cluster: (d) => release(d, "v2"), phase: "Healthy", actions: [] },
  { at: 12, availability: { consumed: 92, ...burning }, phase: "Warning", actions: ["event:BudgetLow", "notify:Warning"] },
  { at: 12.5, availability: { consumed: 95, ...burning }, phase: "Warning", actions: [] },
  { at: 13, availability: { consumed: 101, ...burning }, phase: "Frozen", actions: ["freeze", "event:BudgetExhausted", "notify:Frozen"] },
  { at: 14, availability: { consumed: 120, ...burning }, phase: "Frozen", actions: [] },
  { at: 15, availability: { consumed: 152, ...burning }, phase: "RollingBack", actions: ["rollback", "event:RolledBack", "notify:RolledBack"] },
  { at: 16, availability: { consumed: 155, ...burning }, phase: "RollingBack", actions: [] },
  {
    at: 17,
    availability: { consumed: 156, b5m: 0.4, b1h: 2 },
    cluster: (d) => ({ ...d, rolloutComplete: true }),
    phase: "Frozen",
    actions: ["freeze", "event:RollbackComplete"],
  },
  { at: 18, availability: { consumed: 160, ...burning }, phase: "Frozen", actions: [] },
  { at: 60, availability: { consumed: 99.9, ...quiet }, phase: "Frozen", actions: ["event:BudgetLow"] },
  { at: 70, availability: { consumed: 85, ...quiet }, phase: "Frozen", actions: ["event:BudgetRecovering"] },
  { at: 80, availability: { consumed: 70, ...quiet }, phase: "Frozen", actions: [] },
  { at: 90, availability: { consumed: 69.9, ...quiet }, phase: "Healthy", actions: ["unfreeze", "event:Unfrozen", "notify:Unfrozen"] },
  { at: 91, availability: { consumed: 75, ...quiet }, phase: "Healthy", actions: [] },
];

describe("decide: an incident from Healthy to Unfrozen", () => {
  const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
  const notes: NotifyAction[] = [];
  it.each(incident)("at +$at min, availability $availability.consumed % → $phase, $actions", (step) => {
    if (step.cluster && sim.deployment) sim.deployment = step.cluster(sim.deployment);
    const d = sim.step(at(step.at), measure(at(step.at), step.availability));
    expect(d.status.phase).toBe(step.phase);
    expect(kinds(d.actions)).toEqual(step.actions);
    notes.push(...d.actions.filter((a): a is NotifyAction => a.action === "notify"));
  });

  it("tells every notification of the incident under one dedup key, opened at the warning", () => {
    expect(notes.map((n) => [n.event, n.severity])).toEqual([
      ["Warning", "warning"],
      ["Frozen", "critical"],
      ["RolledBack", "critical"],
      ["Unfrozen", "info"],
    ]);
    expect(new Set(notes.map((n) => n.dedupKey))).toEqual(new Set([`tollgate/games/game-service/${at(12).toISOString()}`]));
  });

  it("rolled back to the last known good template and remembers it", () => {
    expect(sim.deployment).toMatchObject({ templateHash: "v1", revision: 3, paused: false, frozen: false });
    expect(sim.status?.rollback).toEqual({ revision: 1, from: 2, at: at(15).toISOString() });
    expect(sim.status?.lastKnownGood).toEqual({ revision: 3, templateHash: "v1", since: at(0).toISOString() });
    expect(sim.status?.freeze).toBeUndefined();
  });
});

describe("decide: warn and unwarn", () => {
  const steps: Array<[number, Phase, string[]]> = [
    [89.9, "Healthy", []],
    [90, "Warning", ["event:BudgetLow", "notify:Warning"]],
    [99.9, "Warning", []],
    [90, "Warning", []],
    [89.9, "Healthy", ["event:WithinBudget", "notify:Recovered"]],
    [50, "Healthy", []],
  ];
  const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
  const keys: string[] = [];
  it.each(steps.map(([c, phase, actions], i) => ({ i, c, phase, actions })))("$c % → $phase $actions", ({ i, c, phase, actions }) => {
    const d = sim.step(at(i), measure(at(i), { consumed: c }));
    expect(d.status.phase).toBe(phase);
    expect(kinds(d.actions)).toEqual(actions);
    keys.push(...d.actions.flatMap((a) => (a.action === "notify" ? [a.dedupKey] : [])));
  });
  it("resolves the warning under the key that opened it", () => {
    expect(keys).toEqual([`tollgate/games/game-service/${at(1).toISOString()}`, `tollgate/games/game-service/${at(1).toISOString()}`]);
  });
});

describe("decide: hysteresis", () => {
  const frozen = () => {
    const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
    sim.step(at(0), measure(at(0), { consumed: 100 }));
    return sim;
  };
  const open = () => {
    const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
    sim.step(at(0), measure(at(0), { consumed: 40 }));
    return sim;
  };
  it.each<[string, () => Sim, number, Phase, string[]]>([
    ["a frozen profile", frozen, 69.9, "Healthy", ["unfreeze"]],
    ["a frozen profile", frozen, 70, "Frozen", []],
    ["a frozen profile", frozen, 85, "Frozen", []],
    ["a frozen profile", frozen, 99.9, "Frozen", []],
    ["a frozen profile", frozen, 100, "Frozen", []],
    ["a profile that is not frozen", open, 69.9, "Healthy", []],
    ["a profile that is not frozen", open, 70, "Healthy", []],
    ["a profile that is not frozen", open, 85, "Healthy", []],
    ["a profile that is not frozen", open, 99.9, "Warning", []],
    ["a profile that is not frozen", open, 100, "Frozen", ["freeze"]],
  ])("%s at %s % → %s", (_name, make, c, phase, deploymentActions) => {
    const sim = make();
    const d = sim.step(at(1), measure(at(1), { consumed: c }));
    expect(d.status.phase).toBe(phase);
    expect(d.actions.filter((a) => a.action === "freeze" || a.action === "unfreeze").map((a) => a.action)).toEqual(deploymentActions);
  });
});

describe("decide: the seed's game service (99.5 % availability, budget 0.5 % of requests)", () => {
  // Error ratios over the 30d window, through the SLO arithmetic of src/slo/budget.ts.
  const seed = (errorRatio: number, burn = burning): Measurements =>
    measure(at(20), { consumed: consumedPercent(errorRatio, 99.5) ?? Number.NaN, ...burn });
  const lkg = { revision: 1, templateHash: "v1", since: at(0).toISOString() };
  const live = deployment({ revision: 2, templateHash: "v2", revisions: [{ revision: 1, templateHash: "v1" }, { revision: 2, templateHash: "v2" }] });

  it.each<[string, number, Phase, string, string]>([
    ["0.30 % errors", 0.003, "Healthy", "WithinBudget", "availability consumed 60.0 % of its 30d budget (warn at 90 %)."],
    ["0.45 % errors: 90 % consumed", 0.0045, "Warning", "BudgetLow", "availability consumed 90.0 % of its 30d budget (warn at 90 %, freeze at 100 %)."],
    ["0.5 % errors: the whole budget", 0.005, "Frozen", "BudgetExhausted", "availability consumed 100.0 % of its 30d budget (freeze at 100 %)."],
    ["0.521 % errors", 0.00521, "Frozen", "BudgetExhausted", "availability consumed 104.2 % of its 30d budget (freeze at 100 %)."],
    ["0.75 % errors: 150 % consumed, still burning", 0.0075, "RollingBack", "BudgetExhausted", "availability consumed 150.0 % of its 30d budget (freeze at 100 %)."],
  ])("%s → %s", (_name, ratio, phase, reason, message) => {
    const d = decide({
      profile: { namespace: "games", name: "game-service" },
      spec: new Sim().spec,
      status: { lastKnownGood: lkg },
      measurements: seed(ratio),
      deployment: live,
      override: undefined,
      generation: 1,
      now: at(20),
    });
    expect(d.status.phase).toBe(phase);
    expect(condition(d.status, "BudgetHealthy")).toMatchObject({ reason, message });
  });
});

describe("decide: first reconcile", () => {
  it.each<[string, number, Phase, string[]]>([
    ["healthy: nothing to tell", 40, "Healthy", []],
    ["already warning: tells it", 95, "Warning", ["event:BudgetLow", "notify:Warning"]],
    ["already exhausted: freezes and pages, once", 130, "Frozen", ["freeze", "event:BudgetExhausted", "notify:Frozen"]],
  ])("%s", (_name, c, phase, actions) => {
    const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
    const d = sim.step(at(0), measure(at(0), { consumed: c }));
    expect(d.status.phase).toBe(phase);
    expect(kinds(d.actions)).toEqual(actions);
  });

  it("writes conditions in the metav1 shape with the profile's generation", () => {
    const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
    const d = sim.step(at(0), measure(at(0), { consumed: 104.2 }));
    expect(d.status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "True", "Reconciled"],
      ["MetricsAvailable", "True", "Measured"],
      ["BudgetHealthy", "False", "BudgetExhausted"],
      ["DeploymentsFrozen", "True", "BudgetExhausted"],
      ["RolledBack", "False", "NotRolledBack"],
      ["RollbackSkipped", "False", "BelowRollbackThreshold"],
    ]);
    expect(condition(d.status, "DeploymentsFrozen")).toMatchObject({
      observedGeneration: 1,
      lastTransitionTime: at(0).toISOString(),
      message: `Rollouts of Deployment game-service are frozen since ${at(0).toISOString()}: availability consumed 104.2 % of its 30d budget (freeze at 100 %); they resume below 70 %.`,
    });
    expect(d.status.freeze).toEqual({ since: at(0).toISOString(), reason: "BudgetExhausted", slo: "availability", consumedPercent: 104.2 });
    const freeze = d.actions.find((a) => a.action === "freeze");
    expect(freeze).toEqual({
      action: "freeze",
      reason: "BudgetExhausted",
      message:
        "availability consumed 104.2 % of its 30d budget (freeze at 100 %); rollouts resume when it recovers below 70 %",
    });
  });
});

describe("decide: the target Deployment", () => {
  it("without a Deployment the policy keeps its state, acts on nothing and says so in Ready", () => {
    const sim = new Sim();
    const d = sim.step(at(0), measure(at(0), { consumed: 160, ...burning }));
    expect(d.status.phase).toBe("Frozen");
    expect(d.actions.map((a) => a.action)).not.toContain("freeze");
    expect(d.rollbackSkipped).toBe("TargetNotFound");
    expect(condition(d.status, "Ready")).toMatchObject({ status: "False", reason: "TargetNotFound" });
  });

  it("freezes again when someone resumes a frozen Deployment by hand, without a second page", () => {
    const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
    sim.step(at(0), measure(at(0), { consumed: 120 }));
    sim.deployment = { ...sim.deployment!, paused: false };
    expect(kinds(sim.step(at(1), measure(at(1), { consumed: 120 })).actions)).toEqual(["freeze"]);
  });

  it("never unfreezes a Deployment it did not freeze", () => {
    const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1", paused: true }) });
    expect(sim.step(at(0), measure(at(0), { consumed: 20 })).actions).toEqual([]);
  });

  it("gives the budget's phase and carries the canary's status over untouched", () => {
    const canary = { phase: "Progressing" as const, weight: 20, step: 2, failedChecks: 0 };
    const run = (c: number) =>
      new Sim({ status: { canary }, deployment: deployment({ revision: 1, templateHash: "v1" }) }).step(at(0), measure(at(0), { consumed: c })).status;
    expect(run(40).phase).toBe("Healthy");
    expect(run(40).canary).toEqual(canary);
    expect(run(120).phase).toBe("Frozen");
  });
});

describe("decide: the last known good revision", () => {
  it("a release that burns from the start never becomes it, so the rollback returns past it", () => {
    const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
    for (let t = 0; t <= 10; t += 2) sim.step(at(t), measure(at(t), { consumed: 20, ...quiet }));
    expect(sim.status?.lastKnownGood?.templateHash).toBe("v1");
    sim.deployment = release(sim.deployment!, "v2");
    for (let t = 11; t <= 60; t += 2) {
      const d = sim.step(at(t), measure(at(t), { consumed: 20 + t, b5m: 3, b1h: 2 }));
      expect(d.status.candidate).toBeUndefined();
      expect(d.status.lastKnownGood?.templateHash).toBe("v1");
    }
    sim.step(at(61), measure(at(61), { consumed: 120, ...burning }));
    const d = sim.step(at(62), measure(at(62), { consumed: 160, ...burning }));
    expect(d.actions.find((a) => a.action === "rollback")).toEqual({ action: "rollback", toRevision: 1, toTemplateHash: "v1", fromRevision: 2 });
  });

  it("the first revision seen healthy becomes it after stableAfter, counted from when it was first seen", () => {
    const sim = new Sim({ deployment: deployment({ revision: 7, templateHash: "abc" }) });
    sim.step(at(0), measure(at(0), { consumed: 20 }));
    expect(sim.step(at(9), measure(at(9), { consumed: 20 })).status.lastKnownGood).toBeUndefined();
    expect(sim.step(at(10), measure(at(10), { consumed: 20 })).status.lastKnownGood).toEqual({ revision: 7, templateHash: "abc", since: at(0).toISOString() });
  });
});
