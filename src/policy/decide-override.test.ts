import { describe, expect, it } from "vitest";
import { at, condition, deployment, deploymentActions, kinds, measure, notified, Sim } from "./test-builders.ts";

const v1 = () => deployment({ revision: 1, templateHash: "v1" });
const annotation = (expiresAt: number, by = "alice", reason = "hotfix INC-123") => JSON.stringify({ by, reason, expires: at(expiresAt).toISOString() });

function frozen(c = 120) {
  const sim = new Sim({ deployment: v1() });
  sim.step(at(0), measure(at(0), { consumed: c }));
  return sim;
}

describe("the break-glass override", () => {
  it("lifts the freeze while valid, recorded in status and an event, and pages the unfreeze", () => {
    const sim = frozen();
    sim.annotation = annotation(60);
    const d = sim.step(at(1), measure(at(1), { consumed: 120 }));
    expect(kinds(d.actions)).toEqual(["unfreeze", "event:FreezeOverridden", "notify:Unfrozen"]);
    expect(d.status.phase).toBe("Frozen");
    expect(d.status.freeze).toEqual({
      since: at(0).toISOString(),
      reason: "BudgetExhausted",
      slo: "availability",
      consumedPercent: 120,
      override: { by: "alice", reason: "hotfix INC-123", expires: at(60).toISOString() },
    });
    expect(condition(d.status, "DeploymentsFrozen")).toMatchObject({
      status: "False",
      reason: "FreezeOverridden",
      message: `alice overrides the freeze until ${at(60).toISOString()} (hotfix INC-123): rollouts of Deployment game-service are allowed although availability consumed 120.0 % of its 30d budget.`,
    });
    expect(d.actions.find((a) => a.action === "event")).toMatchObject({ type: "Warning" });
    expect(sim.step(at(2), measure(at(2), { consumed: 121 })).actions).toEqual([]);
  });

  it("tells an extended override as an event, without another notification", () => {
    const sim = frozen();
    sim.annotation = annotation(60);
    sim.step(at(1), measure(at(1), { consumed: 120 }));
    sim.annotation = annotation(90, "bob", "still fixing");
    const d = sim.step(at(2), measure(at(2), { consumed: 120 }));
    expect(kinds(d.actions)).toEqual(["event:FreezeOverridden"]);
    expect(d.status.freeze?.override).toEqual({ by: "bob", reason: "still fixing", expires: at(90).toISOString() });
  });

  it.each([
    ["still exhausted", 120],
    ["in the hysteresis band", 85],
  ])("when it expires %s, the freeze applies again in the same incident", (_name, c) => {
    const sim = frozen();
    sim.annotation = annotation(60);
    const lifted = sim.step(at(1), measure(at(1), { consumed: 120 }));
    sim.step(at(30), measure(at(30), { consumed: c }));
    const d = sim.step(at(60), measure(at(60), { consumed: c }));
    expect(kinds(d.actions)).toEqual(["freeze", "event:OverrideExpired", "notify:Frozen"]);
    expect(condition(d.status, "DeploymentsFrozen")?.message).toContain(`The freeze override by alice (hotfix INC-123) expired at ${at(60).toISOString()}.`);
    expect(d.status.freeze?.since).toBe(at(0).toISOString());
    expect(d.status.freeze?.override).toBeUndefined();
    const key = (a: (typeof d.actions)[number]) => (a.action === "notify" ? a.dedupKey : undefined);
    expect(d.actions.map(key).filter(Boolean)).toEqual(lifted.actions.map(key).filter(Boolean));
    expect(sim.step(at(61), measure(at(61), { consumed: c })).actions).toEqual([]);
  });

  it("ends with the incident when the budget recovers meanwhile, and its expiry changes nothing", () => {
    const sim = frozen();
    sim.annotation = annotation(60);
    sim.step(at(1), measure(at(1), { consumed: 120 }));
    const recovered = sim.step(at(30), measure(at(30), { consumed: 65 }));
    expect(kinds(recovered.actions)).toEqual(["event:Unfrozen", "notify:Recovered"]);
    expect(recovered.status.freeze).toBeUndefined();
    expect(recovered.status.phase).toBe("Healthy");
    expect(sim.step(at(60), measure(at(60), { consumed: 65 })).actions).toEqual([]);
  });

  it("ends when the annotation is removed", () => {
    const sim = frozen();
    sim.annotation = annotation(60);
    sim.step(at(1), measure(at(1), { consumed: 120 }));
    sim.annotation = undefined;
    expect(kinds(sim.step(at(2), measure(at(2), { consumed: 120 })).actions)).toEqual(["freeze", "event:BudgetExhausted", "notify:Frozen"]);
  });

  it("applies at once to a freeze that begins while it is valid", () => {
    const sim = new Sim({ deployment: v1(), annotation: annotation(60) });
    sim.step(at(0), measure(at(0), { consumed: 40 }));
    const d = sim.step(at(1), measure(at(1), { consumed: 120 }));
    expect(deploymentActions(d.actions)).toEqual([]);
    expect(notified(d.actions)).toEqual(["Warning"]);
    expect(d.status.freeze?.override?.by).toBe("alice");
    expect(condition(d.status, "DeploymentsFrozen")).toMatchObject({ status: "False", reason: "FreezeOverridden" });
  });

  it.each([
    ["malformed", "alice until noon", "OverrideInvalid", "the value is not JSON"],
    ["already expired", JSON.stringify({ by: "alice", reason: "x", expires: at(-5).toISOString() }), "OverrideExpired", "expired at"],
  ])("when %s, is reported once and the freeze stays", (_name, value, reason, text) => {
    const sim = frozen();
    sim.annotation = value;
    const d = sim.step(at(1), measure(at(1), { consumed: 120 }));
    expect(kinds(d.actions)).toEqual([`event:${reason}`]);
    expect(condition(d.status, "DeploymentsFrozen")).toMatchObject({ status: "True", reason });
    expect(condition(d.status, "DeploymentsFrozen")?.message).toContain(text);
    expect(d.status.freeze?.override).toBeUndefined();
    expect(sim.step(at(2), measure(at(2), { consumed: 120 })).actions).toEqual([]);
    // Fixed: it applies.
    sim.annotation = annotation(60);
    expect(deploymentActions(sim.step(at(3), measure(at(3), { consumed: 120 })).actions)).toEqual(["unfreeze"]);
  });

  it("further than 7d ahead, is refused with the cap in the condition and event, and the freeze stays", () => {
    const sim = frozen();
    const week = 7 * 24 * 60;
    sim.annotation = annotation(1 + week + 1);
    const d = sim.step(at(1), measure(at(1), { consumed: 120 }));
    expect(kinds(d.actions)).toEqual(["event:OverrideInvalid"]);
    expect(deploymentActions(d.actions)).toEqual([]);
    const told = `The tollgate.dev/override-freeze annotation is ignored: "expires" ${at(1 + week + 1).toISOString()} is more than 7d after ${at(1).toISOString()}; an override lasts at most 7d`;
    expect(condition(d.status, "DeploymentsFrozen")).toMatchObject({ status: "True", reason: "OverrideInvalid" });
    expect(condition(d.status, "DeploymentsFrozen")?.message).toContain(told);
    expect(d.actions.find((a) => a.action === "event")).toMatchObject({ reason: "OverrideInvalid" });
    expect(JSON.stringify(d.actions.find((a) => a.action === "event"))).toContain("an override lasts at most 7d");
    expect(d.status.freeze?.override).toBeUndefined();
    // Exactly a week ahead of the evaluation is within the cap.
    sim.annotation = annotation(2 + week);
    expect(deploymentActions(sim.step(at(2), measure(at(2), { consumed: 120 })).actions)).toEqual(["unfreeze"]);
  });

  it("a malformed annotation on a profile that is not frozen changes nothing", () => {
    const sim = new Sim({ deployment: v1(), annotation: "{" });
    const d = sim.step(at(0), measure(at(0), { consumed: 40 }));
    expect(d.actions).toEqual([]);
    expect(condition(d.status, "DeploymentsFrozen")).toMatchObject({ status: "False", reason: "NotFrozen" });
  });

  it("lifts a NoData freeze too", () => {
    const sim = new Sim({ spec: new Sim().spec, deployment: v1() });
    sim.spec = { ...sim.spec, policy: { ...sim.spec.policy, onNoData: "Freeze" } };
    sim.step(at(0), { error: "connection refused", slos: [], at: at(0) });
    sim.annotation = annotation(60);
    const d = sim.step(at(1), { error: "connection refused", slos: [], at: at(1) });
    expect(deploymentActions(d.actions)).toEqual(["unfreeze"]);
  });
});
