import { describe, expect, it } from "vitest";
import type { ProfileSpec } from "../api/profile.ts";
import type { ProfileStatus } from "../api/status.ts";
import type { DeploymentFacts } from "./deployment.ts";
import type { SkipCause } from "./rollback.ts";
import { at, condition, deployment, deploymentActions, gameSpec, kinds, measure, notified, release, Sim, type SloNumbers } from "./test-builders.ts";

const lkg = { revision: 1, templateHash: "v1", since: at(-60).toISOString() };
const v2 = deployment({ revision: 2, templateHash: "v2", revisions: [{ revision: 1, templateHash: "v1" }, { revision: 2, templateHash: "v2" }] });
const burning: SloNumbers = { consumed: 160, b5m: 12, b1h: 3 };
const override = JSON.stringify({ by: "alice", reason: "hotfix INC-123", expires: at(120).toISOString() });

interface Case {
  name: string;
  cause: SkipCause;
  message: string;
  spec?: ProfileSpec;
  status?: ProfileStatus;
  deployment?: DeploymentFacts | undefined;
  annotation?: string;
  availability?: SloNumbers;
}

/** A profile frozen a minute ago at 120 %, whose budget now reaches the rollback level. */
function atRollbackLevel(c: Partial<Case>) {
  const sim = new Sim({
    spec: c.spec ?? gameSpec(),
    status: "status" in c ? c.status : { lastKnownGood: lkg },
    deployment: "deployment" in c ? c.deployment : v2,
  });
  sim.step(at(0), measure(at(0), { consumed: 120, b5m: 12, b1h: 3 }));
  sim.annotation = c.annotation;
  return { sim, d: sim.step(at(1), measure(at(1), c.availability ?? burning)) };
}

describe("rollback preconditions", () => {
  it("rolls back when every one holds", () => {
    const { d } = atRollbackLevel({});
    expect(d.actions.find((a) => a.action === "rollback")).toEqual({ action: "rollback", toRevision: 1, toTemplateHash: "v1", fromRevision: 2 });
    expect(d.status.phase).toBe("RollingBack");
    expect(condition(d.status, "RolledBack")).toMatchObject({ status: "True", reason: "RolledBack" });
    expect(condition(d.status, "RollbackSkipped")).toMatchObject({ status: "False", reason: "RolledBack" });
  });

  it("a jump straight past rollbackAt labels the Deployment before the rollback resumes it", () => {
    const sim = new Sim({ status: { lastKnownGood: lkg }, deployment: v2 });
    const d = sim.step(at(0), measure(at(0), burning));
    expect(kinds(d.actions)).toEqual(["freeze", "rollback", "event:BudgetExhausted", "event:RolledBack", "notify:Frozen", "notify:RolledBack"]);
    expect(sim.deployment).toMatchObject({ frozen: true, paused: false, templateHash: "v1" });
  });

  const cases: Case[] = [
    {
      name: "the Deployment does not exist",
      cause: "TargetNotFound",
      deployment: undefined,
      message: "Deployment game-service does not exist.",
    },
    {
      name: "rollback is disabled",
      cause: "RollbackDisabled",
      spec: gameSpec({ rollback: { enabled: false } }),
      message: "policy.rollback.enabled is false",
    },
    {
      name: "a human overrides the freeze",
      cause: "OverrideActive",
      annotation: override,
      message: `alice overrides the freeze until ${at(120).toISOString()}`,
    },
    {
      name: "no revision has been stable yet",
      cause: "NoLastKnownGood",
      status: {},
      message: "no revision of Deployment game-service has run healthy for 10m (policy.stableAfter) yet",
    },
    {
      name: "the live revision has no ReplicaSet yet",
      cause: "LiveRevisionUnknown",
      deployment: { ...v2, templateHash: undefined },
      message: "the live revision 2 has no ReplicaSet yet",
    },
    {
      name: "the live revision is the last known good one",
      cause: "LiveIsLastKnownGood",
      deployment: deployment({ revision: 1, templateHash: "v1" }),
      message: "the live revision 1 is the last known good one (pod-template-hash v1), so a rollback would change nothing.",
    },
    {
      name: "the last known good ReplicaSet was pruned",
      cause: "LastKnownGoodUnavailable",
      deployment: deployment({ revision: 2, templateHash: "v2" }),
      message: "the ReplicaSet of the last known good revision 1 (pod-template-hash v1) is gone",
    },
    {
      name: "the live revision is older than the last known good one",
      cause: "LiveNotNewer",
      deployment: deployment({ revision: 2, templateHash: "v2", revisions: [{ revision: 2, templateHash: "v2" }, { revision: 5, templateHash: "v1" }] }),
      message: "the live revision 2 is not newer than the last known good revision 5.",
    },
    {
      name: "a Prometheus outage may have emptied over a tenth of the window",
      cause: "PrometheusOutage",
      status: { lastKnownGood: lkg, prometheusOutage: { from: at(-6 * 1440).toISOString(), to: at(-2 * 1440).toISOString() } },
      message: "Prometheus could not be queried from 2026-11-16T08:00:00.000Z to 2026-11-20T08:00:00.000Z, which may leave 13.3 % of the 30d window without samples",
    },
    {
      name: "only the 5m window burns",
      cause: "NotBurningNow",
      availability: { consumed: 160, b5m: 12, b1h: 0.9 },
      message: "it is not burning now (5m-window 12.0x, 1h-window 0.9x; a rollback needs both above 1)",
    },
    {
      name: "the burn stopped in the last minutes",
      cause: "NotBurningNow",
      availability: { consumed: 160, b5m: 0.2, b1h: 4 },
      message: "it is not burning now (5m-window 0.2x, 1h-window 4.0x",
    },
  ];

  it.each(cases)("skips when $name: RollbackSkipped=$cause", (c) => {
    const { d } = atRollbackLevel(c);
    expect(d.actions.map((a) => a.action)).not.toContain("rollback");
    expect(d.status.phase).toBe("Frozen");
    expect(d.rollbackSkipped).toBe(c.cause);
    const skipped = condition(d.status, "RollbackSkipped");
    expect(skipped).toMatchObject({ status: "True", reason: c.cause });
    expect(skipped?.message).toMatch(/^availability consumed 160\.0 % of its 30d budget \(roll back at 150 %\), but /);
    expect(skipped?.message).toContain(c.message);
    expect(condition(d.status, "RolledBack")).toMatchObject({ status: "False" });
    expect(kinds(d.actions)).toEqual(expect.arrayContaining([`event:${c.cause}`, "notify:RollbackSkipped"]));
    expect(notified(d.actions)).toEqual(c.annotation ? ["RollbackSkipped", "Unfrozen"] : ["RollbackSkipped"]);
  });

  it("rolls back when an outage left less than a tenth of the window without samples", () => {
    const { d } = atRollbackLevel({ status: { lastKnownGood: lkg, prometheusOutage: { from: at(-3 * 1440).toISOString(), to: at(-1440).toISOString() } } });
    expect(d.actions.map((a) => a.action)).toContain("rollback");
  });

  it("records the outage from the first pass Prometheus fails to the first it answers", () => {
    const sim = new Sim({ spec: gameSpec(), status: { lastKnownGood: lkg }, deployment: v2 });
    sim.step(at(0), { at: at(0), error: "connect ECONNREFUSED", slos: [] });
    sim.step(at(1), { at: at(1), error: "connect ECONNREFUSED", slos: [] });
    const back = sim.step(at(2), measure(at(2), { consumed: 20 }));
    expect(back.status.prometheusOutage).toEqual({ from: at(0).toISOString(), to: at(2).toISOString() });
  });

  it("reports the first failing precondition, so the reason is stable", () => {
    const { d } = atRollbackLevel({ status: {}, spec: gameSpec({ rollback: { enabled: false } }), availability: { consumed: 160, b5m: 0.1, b1h: 0.1 } });
    expect(d.rollbackSkipped).toBe("RollbackDisabled");
  });

  it("pages RollbackSkipped once; a change of cause is an event, not another page", () => {
    const { sim } = atRollbackLevel({ availability: { consumed: 160, b5m: 0.2, b1h: 4 } });
    const again = sim.step(at(2), measure(at(2), { consumed: 161, b5m: 0.2, b1h: 4 }));
    expect(again.actions).toEqual([]);
    sim.spec = gameSpec({ rollback: { enabled: false } });
    const changed = sim.step(at(3), measure(at(3), { consumed: 162, b5m: 0.2, b1h: 4 }));
    expect(kinds(changed.actions)).toEqual(["event:RollbackDisabled"]);
  });

  it("rolls back once the skipped burn resumes", () => {
    const { sim } = atRollbackLevel({ availability: { consumed: 160, b5m: 0.2, b1h: 4 } });
    const d = sim.step(at(2), measure(at(2), burning));
    expect(deploymentActions(d.actions)).toEqual(["rollback"]);
    expect(notified(d.actions)).toEqual(["RolledBack"]);
  });
});

describe("rollback happens once per incident", () => {
  const rolledBack = () => {
    const { sim, d } = atRollbackLevel({});
    expect(deploymentActions(d.actions)).toEqual(["rollback"]);
    return sim;
  };

  it("repeats the same rollback write until the Deployment carries the template, never a new target", () => {
    const sim = rolledBack();
    const stuck = sim.deployment!;
    sim.deployment = v2; // the write did not land (a conflict), the Deployment is as before
    const d = sim.step(at(2), measure(at(2), burning));
    expect(d.actions).toEqual([{ action: "rollback", toRevision: 1, toTemplateHash: "v1", fromRevision: 2 }]);
    expect(d.status.rollback).toEqual({ revision: 1, from: 2, at: at(1).toISOString() });
    sim.deployment = stuck;
    expect(sim.step(at(3), measure(at(3), burning)).actions).toEqual([]);
  });

  it.each<[string, SloNumbers]>([
    ["still burning above rollbackAt", { consumed: 170, b5m: 12, b1h: 3 }],
    ["burning harder", { consumed: 300, b5m: 40, b1h: 20 }],
  ])("after the rollback completes, %s, it stays Frozen and never rolls back again", (_name, after) => {
    const sim = rolledBack();
    sim.deployment = { ...sim.deployment!, rolloutComplete: true };
    expect(deploymentActions(sim.step(at(2), measure(at(2), after)).actions)).toEqual(["freeze"]);
    for (let t = 3; t < 60; t += 5) {
      const d = sim.step(at(t), measure(at(t), after));
      expect(d.actions).toEqual([]);
      expect(d.status.phase).toBe("Frozen");
      expect(condition(d.status, "RolledBack")).toMatchObject({ status: "True", reason: "RolledBack" });
    }
  });

  it("does not roll back a hotfix shipped under an override in the same incident, once the override ends", () => {
    const sim = rolledBack();
    sim.deployment = { ...sim.deployment!, rolloutComplete: true };
    sim.step(at(2), measure(at(2), burning));
    sim.annotation = JSON.stringify({ by: "alice", reason: "hotfix", expires: at(30).toISOString() });
    sim.step(at(5), measure(at(5), burning));
    sim.deployment = release(sim.deployment!, "v3");
    sim.step(at(10), measure(at(10), burning));
    const d = sim.step(at(31), measure(at(31), burning));
    expect(deploymentActions(d.actions)).toEqual(["freeze"]);
    expect(condition(d.status, "RolledBack")).toMatchObject({ status: "True" });
  });

  it("a new incident after the freeze lifts may roll back again", () => {
    const sim = rolledBack();
    sim.deployment = { ...sim.deployment!, rolloutComplete: true };
    sim.step(at(2), measure(at(2), burning));
    sim.step(at(100), measure(at(100), { consumed: 50, b5m: 0.2, b1h: 0.2 }));
    sim.deployment = release(sim.deployment!, "v3");
    sim.step(at(200), measure(at(200), { consumed: 120, b5m: 12, b1h: 3 }));
    const d = sim.step(at(201), measure(at(201), burning));
    expect(d.actions.find((a) => a.action === "rollback")).toMatchObject({ toTemplateHash: "v1", fromRevision: 4 });
  });

  it("a human who ships over an override during the rollback takes it over", () => {
    const sim = rolledBack();
    sim.annotation = JSON.stringify({ by: "alice", reason: "forward fix", expires: at(30).toISOString() });
    sim.deployment = release(sim.deployment!, "v3");
    const d = sim.step(at(2), measure(at(2), burning));
    expect(d.status.phase).toBe("Frozen");
    expect(deploymentActions(d.actions)).toEqual(["unfreeze"]);
  });
});
