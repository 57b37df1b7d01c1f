import { describe, expect, it } from "vitest";
import type { ProfileStatus } from "../../api/status.ts";
import type { Action } from "../../kube/actuators/actions.ts";
import { at, gameSpec, measure } from "../../policy/test-builders.ts";
import { canarySpec } from "../../canary/test-builders.ts";
import { destinationRule, virtualService } from "../../traffic/index.ts";
import { untilSlot } from "./cadence.ts";
import { plan } from "./plan.ts";
import { deployment, primary, profile, replicaSet, routing, snapshot } from "./test-builders.ts";

const spec = gameSpec({ evaluationInterval: "30s" });
const exhausted = measure(at(0), { consumed: 104, b5m: 2, b1h: 2 });
const healthy = measure(at(0), { consumed: 20 });
const ops = (actions: readonly Action[]) => actions.map((a) => (a.kind === "deployment" ? `${a.op} ${"name" in a ? a.name : a.target}` : a.kind === "finalizer" ? `finalizer ${a.op}` : a.kind === "rules" ? `rules ${a.op}` : `${a.kind} ${a.op}`));
const ready = (s: ProfileStatus) => s.conditions?.find((c) => c.type === "Ready");

describe("plan: record before act", () => {
  it("records the Frozen transition's event and notification in the outbox, and asks for the freeze", () => {
    const p = plan(snapshot(profile("game", spec), { deploymentList: [deployment("game-service")], measurements: exhausted }), at(0));
    expect(p.status.phase).toBe("Frozen");
    expect(p.status.target).toBe("game-service");
    expect(ops(p.actions)).toEqual(["freeze game-service"]);
    expect(p.status.outbox?.map((e) => [e.kind, e.reason])).toEqual([
      ["Event", "BudgetExhausted"],
      ["Notification", "Frozen"],
    ]);
    expect(new Set(p.status.outbox?.map((e) => e.id)).size).toBe(2);
  });

  it("adds its finalizer before anything else it does", () => {
    const p = plan(snapshot(profile("game", spec, { finalizer: false }), { deploymentList: [deployment("game-service")], measurements: exhausted }), at(0));
    expect(ops(p.actions)).toEqual(["finalizer add", "freeze game-service"]);
  });

  it("replanned from the recorded status (a crash before act), asks for the same freeze and keeps the same outbox, adding nothing", () => {
    const first = plan(snapshot(profile("game", spec), { deploymentList: [deployment("game-service")], measurements: exhausted }), at(0));
    const again = plan(snapshot(profile("game", spec, { status: first.status }), { deploymentList: [deployment("game-service")], measurements: measure(at(0.5), { consumed: 104.3, b5m: 2, b1h: 2 }) }), at(0.5));
    expect(ops(again.actions)).toEqual(["freeze game-service"]);
    expect(again.status.outbox).toEqual(first.status.outbox);
  });

  it("asks for nothing once the freeze is in place and the outbox is done", () => {
    const first = plan(snapshot(profile("game", spec), { deploymentList: [deployment("game-service")], measurements: exhausted }), at(0));
    const { outbox: _, ...done } = first.status;
    const again = plan(snapshot(profile("game", spec, { status: done }), { deploymentList: [deployment("game-service", { frozenBy: "game" })], measurements: exhausted }), at(0.5));
    expect(again.actions).toEqual([]);
    expect(again.status.outbox).toBeUndefined();
  });
});

describe("plan: recording rules", () => {
  const rules = (actions: readonly Action[]) => actions.filter((a) => a.kind === "rules");

  it("asks for the profile's rules each pass while it is read from them", () => {
    const p = plan(snapshot(profile("game", spec), { deploymentList: [deployment("game-service")], measurements: healthy, recordingRules: true }), at(0));
    expect(rules(p.actions)).toEqual([{ kind: "rules", op: "ensure" }]);
  });

  it("with tiles, asks for rules that sum the windows the reading says the tiles cover", () => {
    const tiles = { tile: "5m", coverageMs: { availability: 7_200_000 } };
    const p = plan(snapshot(profile("game", spec), { deploymentList: [deployment("game-service")], measurements: healthy, recordingRules: true, tiles }), at(0));
    expect(rules(p.actions)).toEqual([{ kind: "rules", op: "ensure", tiles }]);
  });

  it("with tiles, leaves the rules as they are while Prometheus cannot say how far the tiles reach", () => {
    const down = { ...healthy, error: "Prometheus at http://127.0.0.1:9 is unreachable" };
    const p = plan(snapshot(profile("game", spec), { deploymentList: [deployment("game-service")], measurements: down, recordingRules: true, tiles: { tile: "5m" } }), at(0));
    expect(rules(p.actions)).toEqual([]);
  });
});

describe("plan: one profile governs a Deployment", () => {
  it("refuses a second profile with Ready=False naming the first, and touches neither the freeze nor the Deployment", () => {
    const second = profile("second", spec, { created: "2026-11-02T00:00:00Z" });
    const p = plan(snapshot(second, { claimedBy: "first", deploymentList: [deployment("game-service", { frozenBy: "first" })] }), at(0));
    expect(ready(p.status)).toMatchObject({ status: "False", reason: "TargetClaimed" });
    expect(ready(p.status)?.message).toContain("PerformanceProfile first");
    expect(p.actions).toEqual([]);
    expect(p.status.outbox?.map((e) => [e.kind, e.type, e.reason])).toEqual([["Event", "Warning", "TargetClaimed"]]);
  });

  it("never lifts another profile's freeze, even with a healthy budget", () => {
    const p = plan(snapshot(profile("second", spec), { deploymentList: [deployment("game-service", { frozenBy: "first" })], measurements: healthy }), at(0));
    expect(p.actions.filter((a) => a.kind === "deployment" && a.op === "unfreeze")).toEqual([]);
  });

  it("lifts its own freeze once the budget recovers", () => {
    const frozen = plan(snapshot(profile("game", spec), { deploymentList: [deployment("game-service")], measurements: exhausted }), at(0)).status;
    const p = plan(snapshot(profile("game", spec, { status: frozen }), { deploymentList: [deployment("game-service", { frozenBy: "game" })], measurements: measure(at(10), { consumed: 50 }) }), at(10));
    expect(ops(p.actions)).toEqual(["unfreeze game-service"]);
  });

  it("a refused profile still hands back a freeze of its own", () => {
    const p = plan(snapshot(profile("second", spec), { claimedBy: "first", deploymentList: [deployment("game-service", { frozenBy: "second" })] }), at(0));
    expect(ops(p.actions)).toEqual(["unfreeze game-service"]);
  });
});

describe("plan: deletion hands the Deployment back before the finalizer goes", () => {
  const deleting = (status: ProfileStatus = { target: "game-service" }) => profile("game", spec, { deleting: true, status });

  it("lifts its freeze first, saying Terminating", () => {
    const p = plan(snapshot(deleting(), { deploymentList: [deployment("game-service", { frozenBy: "game" })] }), at(0));
    expect(p.status.phase).toBe("Terminating");
    expect(ready(p.status)).toMatchObject({ status: "False", reason: "Terminating" });
    expect(ops(p.actions)).toEqual(["unfreeze game-service"]);
    expect(p.requeueAfterMs).toBeDefined();
  });

  it("then removes its rules and its finalizer, with a TargetReleased event", () => {
    const p = plan(snapshot(deleting(), { deploymentList: [deployment("game-service")] }), at(0));
    expect(ops(p.actions)).toEqual(["rules remove", "finalizer remove"]);
    expect(p.status.outbox?.map((e) => e.reason)).toEqual(["Terminating", "TargetReleased"]);
  });

  it("leaves another profile's freeze where it is", () => {
    const p = plan(snapshot(deleting(), { deploymentList: [deployment("game-service", { frozenBy: "other" })] }), at(0));
    expect(ops(p.actions)).toEqual(["rules remove", "finalizer remove"]);
  });

  it("does nothing for a profile without Tollgate's finalizer", () => {
    const p = plan(snapshot(profile("game", spec, { deleting: true, finalizer: false }), { deploymentList: [deployment("game-service", { frozenBy: "game" })] }), at(0));
    expect(p.actions).toEqual([]);
  });

  it("in canary mode gives the target primary's template and replicas, waits for it, drops the routes, then primary", () => {
    const cspec = canarySpec();
    const p = (status: ProfileStatus) => profile("game", cspec, { deleting: true, status });
    const owned = {
      virtualServices: [virtualService("games", "game", cspec.canary!, { primary: 90, canary: 10 }, "uid-game")],
      destinationRules: [destinationRule("games", "game", undefined, { subsets: true, host: "game-service", ownerUid: "uid-game" })],
      hpas: [],
    };
    const status: ProfileStatus = { target: "game-service" };
    // A canary of NEW was under test at 10 %; primary runs OLD.
    const target = deployment("game-service", { revision: 2, replicas: 2 });
    const rs = [replicaSet(target, 1, "old"), replicaSet(target, 2, "new")];
    const prim = primary("game-service", "game", "old", 3);
    const step1 = plan(snapshot(p(status), { spec: cspec, deploymentList: [target, prim], replicaSets: rs, owned, managed: owned }), at(0));
    expect(ops(step1.actions)).toEqual(["rollback game-service"]);

    const restored = deployment("game-service", { revision: 3, replicas: 0 });
    const rs2 = [replicaSet(restored, 3, "old"), replicaSet(restored, 2, "new")];
    const step2 = plan(snapshot(p(status), { spec: cspec, deploymentList: [restored, prim], replicaSets: rs2, owned, managed: owned }), at(1));
    expect(step2.actions).toEqual([{ kind: "deployment", op: "scale", name: "game-service", replicas: 3 }]);

    const starting = deployment("game-service", { revision: 3, replicas: 3, ready: 1 });
    const step3 = plan(snapshot(p(status), { spec: cspec, deploymentList: [starting, prim], replicaSets: rs2, owned, managed: owned }), at(2));
    expect(step3.actions).toEqual([]);
    expect(ready(step3.status)?.message).toContain("waiting for 3 ready replicas");

    const serving = deployment("game-service", { revision: 3, replicas: 3 });
    const step4 = plan(snapshot(p(status), { spec: cspec, deploymentList: [serving, prim], replicaSets: rs2, owned, managed: owned }), at(3));
    expect(ops(step4.actions)).toEqual(["istio delete", "istio delete"]);

    const none = { virtualServices: [], destinationRules: [], hpas: [] };
    const step5 = plan(snapshot(p(status), { spec: cspec, deploymentList: [serving, prim], replicaSets: rs2, owned: none, managed: none }), at(4));
    expect(ops(step5.actions)).toEqual(["deletePrimary game-service-primary"]);

    const step6 = plan(snapshot(p(status), { spec: cspec, deploymentList: [serving], replicaSets: rs2, owned: none, managed: none }), at(5));
    expect(ops(step6.actions)).toEqual(["rules remove", "finalizer remove"]);
  });
});

describe("plan: a moved targetRef", () => {
  it("hands the former Deployment back first, and records the new one only then", () => {
    const moved = gameSpec({ evaluationInterval: "30s" });
    moved.targetRef.name = "game-service-v2";
    const status: ProfileStatus = { target: "game-service" };
    const p = plan(snapshot(profile("game", moved, { status }), { deploymentList: [deployment("game-service", { frozenBy: "game" }), deployment("game-service-v2")], measurements: healthy }), at(0));
    expect(ops(p.actions)).toEqual(["unfreeze game-service"]);
    expect(p.status.target).toBe("game-service");

    const q = plan(snapshot(profile("game", moved, { status: p.status }), { deploymentList: [deployment("game-service"), deployment("game-service-v2")], measurements: healthy }), at(0.5));
    expect(q.actions).toEqual([]);
    expect(q.status.target).toBe("game-service-v2");
    expect(q.status.outbox?.map((e) => e.reason)).toContain("TargetReleased");
  });
});

describe("plan: refused specs", () => {
  it("keeps the freeze of a spec Prometheus refuses, and looks again after the interval", () => {
    const frozen: ProfileStatus = { phase: "Frozen", freeze: { since: at(0).toISOString(), reason: "BudgetExhausted" }, target: "game-service" };
    const p = plan(snapshot(profile("game", spec, { status: frozen }), { problem: { field: "spec.slos[0].indicator", message: "3 series" }, deploymentList: [deployment("game-service", { frozenBy: "game" })] }), at(1));
    expect(p.actions).toEqual([]);
    expect(p.status.freeze).toEqual(frozen.freeze);
    expect(ready(p.status)).toMatchObject({ reason: "InvalidSpec", message: "spec.slos[0].indicator: 3 series" });
    // On the profile's slot of its 30 s interval (cadence.ts).
    expect(p.requeueAfterMs).toBe(untilSlot("games/game", 30_000, at(1).getTime()));
  });
});

describe("plan: a canary's first set-up", () => {
  it("shows phase Initializing while it labels the target's pod template", () => {
    const cspec = canarySpec();
    const p = plan(snapshot(profile("game", cspec), { spec: cspec, deploymentList: [deployment("game-service")], measurements: healthy }), at(0));
    expect(ops(p.actions)).toContain("labelTrack game-service");
    expect(p.status.canary).toMatchObject({ phase: "Initializing", weight: 0, step: 0 });
    expect(p.status.phase).toBe("Progressing");
  });
});

describe("plan: the canary's set-up after labelling", () => {
  it("tells CanaryInitializing when it creates primary, even though status already said Initializing", () => {
    const cspec = canarySpec();
    const labelled = deployment("game-service", { labels: {} });
    labelled.spec!.template!.metadata!.labels!["tollgate.dev/track"] = "canary";
    const rs = replicaSet(labelled, 1, "abc");
    rs.spec!.template!.metadata!.labels!["tollgate.dev/track"] = "canary";
    const status: ProfileStatus = { canary: { phase: "Initializing", weight: 0, step: 0, failedChecks: 0 }, target: "game-service" };
    const p = plan(snapshot(profile("game", cspec, { status }), { spec: cspec, deploymentList: [labelled], replicaSets: [rs], measurements: healthy }), at(0));
    expect(ops(p.actions)).toContain("createPrimary game-service");
    expect(p.status.outbox?.map((e) => e.reason)).toContain("CanaryInitializing");
  });
});

describe("plan: canary progress is recorded with the pass", () => {
  // A canary of "new" at step 1 (10 %), checked at T0; at T0 + 1m a passing check moves it to 20 %.
  const cspec = canarySpec();
  const canaryTarget = () => {
    const d = deployment("game-service", { revision: 2, replicas: 2 });
    d.spec!.template!.metadata!.labels!["tollgate.dev/track"] = "canary";
    const rs = replicaSet(d, 2, "new");
    rs.spec!.template!.metadata!.labels!["tollgate.dev/track"] = "canary";
    return { d, rs };
  };
  const step1: ProfileStatus = {
    target: "game-service",
    canary: { phase: "Progressing", weight: 10, step: 1, failedChecks: 0, revision: 2, templateHash: "new", startedAt: at(-1).toISOString(), lastCheck: at(0).toISOString() },
  };
  const passing = { slos: [{ slo: "availability", burnRate: 0.5, events: 500 }, { slo: "latency-p95", burnRate: 0.5, events: 500 }] };

  it("a pass that fails after its weights were applied is replanned from the recorded step: same weights, no second CanaryAdvanced", () => {
    const { d, rs } = canaryTarget();
    const world = { spec: cspec, deploymentList: [d, primary("game-service", "game", "old", 2)], replicaSets: [rs], measurements: measure(at(1), { consumed: 10 }), owned: routing(cspec, 10) };
    const first = plan(snapshot(profile("game", cspec, { status: step1 }), { ...world, canaryMeasurement: passing }), at(1));
    expect(first.status.canary).toMatchObject({ step: 2, weight: 20 });
    expect(first.status.outbox?.filter((e) => e.reason === "CanaryAdvanced")).toHaveLength(1);
    const weights = first.actions.find((a) => a.kind === "istio" && a.op === "apply" && a.object.kind === "VirtualService");
    expect(weights).toBeDefined();

    // The HPA write after the weights failed; the next pass plans from what was recorded.
    const again = plan(snapshot(profile("game", cspec, { status: first.status }), { ...world, owned: routing(cspec, 20) }), at(1.1));
    expect(again.status.canary).toMatchObject({ step: 2, weight: 20 });
    expect(again.actions).toContainEqual(weights);
    expect(again.status.outbox).toEqual(first.status.outbox);
  });

  it("a push the Deployment controller has not seen yet holds the check: no ready pods counted against the revision under test", () => {
    const { d, rs } = canaryTarget();
    // A new image landed (generation 2) and the controller still reports generation 1 with no pods ready.
    d.metadata!.generation = 2;
    d.status = { ...d.status, observedGeneration: 1, readyReplicas: 0, updatedReplicas: 0 };
    const world = { spec: cspec, deploymentList: [d, primary("game-service", "game", "old", 2)], replicaSets: [rs], measurements: measure(at(1), { consumed: 10 }) };
    const p = plan(snapshot(profile("game", cspec, { status: step1 }), world), at(1));
    expect(p.status.canary).toEqual(step1.canary);
    expect(p.status.outbox?.map((e) => e.reason) ?? []).not.toContain("CanaryCheckFailed");
    expect(p.status.conditions?.find((c) => c.type === "CanaryProgressing")?.message).toContain("has not yet observed generation 2 of game-service");
  });
});

describe("plan: a person's canary command on the profile", () => {
  // A canary of "new" at step 1 (10 %), its next check a minute after T0, so only a command moves it.
  const cspec = canarySpec();
  const startedAt = at(-1).toISOString();
  const step1: ProfileStatus = {
    target: "game-service",
    canary: { phase: "Progressing", weight: 10, step: 1, failedChecks: 0, revision: 2, templateHash: "new", startedAt, lastCheck: at(0).toISOString() },
  };
  const world = () => {
    const d = deployment("game-service", { revision: 2, replicas: 2 });
    d.spec!.template!.metadata!.labels!["tollgate.dev/track"] = "canary";
    const rs = replicaSet(d, 2, "new");
    rs.spec!.template!.metadata!.labels!["tollgate.dev/track"] = "canary";
    return { spec: cspec, deploymentList: [d, primary("game-service", "game", "old", 2)], replicaSets: [rs], measurements: measure(at(0.1), { consumed: 10 }), owned: routing(cspec, 10) };
  };
  const withCommand = (value: string, status: ProfileStatus = step1) => {
    const p0 = profile("game", cspec, { status });
    p0.metadata!.annotations = { "tollgate.dev/canary-command": value };
    return p0;
  };
  const canaryCondition = (s: ProfileStatus) => s.conditions?.find((c) => c.type === "CanaryProgressing");

  it("promotes the run the tollgate.dev/canary-command annotation names, recording who asked in the event", () => {
    const p0 = withCommand(JSON.stringify({ command: "promote", templateHash: "new", startedAt, by: "alice", reason: "INC-42" }));
    const p = plan(snapshot(p0, world()), at(0.1));
    expect(p.status.canary).toMatchObject({ phase: "Promoting", templateHash: "new" });
    const promoting = p.status.outbox?.find((e) => e.reason === "CanaryPromoting");
    expect(promoting?.message).toContain("is promoted by alice (INC-42) at 10 % (step 1)");
    expect(ops(p.actions).some((o) => o.includes("promote"))).toBe(true);
  });

  it("tells a command it cannot read in CanaryProgressing and one Warning event, and the canary carries on as it was", () => {
    const first = plan(snapshot(withCommand('{"command":"pause","templateHash":"new","startedAt":"x","by":"alice"}'), world()), at(0.1));
    expect(first.status.canary).toEqual(step1.canary);
    expect(canaryCondition(first.status)).toMatchObject({
      status: "True",
      reason: "CanaryCommandInvalid",
      message: expect.stringMatching(/^The tollgate\.dev\/canary-command annotation is ignored: "command" must be one of promote, abort, retry; expected JSON like .* revision 2 \(new\) takes 10 % of traffic/),
    });
    expect(first.status.outbox?.filter((e) => e.reason === "CanaryCommandInvalid").map((e) => e.type)).toEqual(["Warning"]);
    expect(ops(first.actions).some((o) => o.includes("promote"))).toBe(false);

    // Recorded and told: the next pass keeps the condition and tells nothing again.
    const { outbox: _, ...told } = first.status;
    const again = plan(snapshot(withCommand('{"command":"pause","templateHash":"new","startedAt":"x","by":"alice"}', told), world()), at(0.2));
    expect(canaryCondition(again.status)?.reason).toBe("CanaryCommandInvalid");
    expect(again.status.outbox).toBeUndefined();

    // Put right, the condition is the canary's own again.
    const fixed = plan(snapshot(profile("game", cspec, { status: told }), world()), at(0.3));
    expect(canaryCondition(fixed.status)?.reason).toBe("Progressing");
  });

  it("does nothing for a command for another run, and does not say it, so the condition holds only the canary's own words", () => {
    const stale = JSON.stringify({ command: "abort", templateHash: "new", startedAt: at(-30).toISOString(), by: "alice", reason: "" });
    const p = plan(snapshot(withCommand(stale), world()), at(0.1));
    expect(p.status.canary).toEqual(step1.canary);
    expect(canaryCondition(p.status)).toMatchObject({ status: "True", reason: "Progressing" });
    expect(canaryCondition(p.status)?.message).not.toContain("tollgate.dev/canary-command");
    expect(p.status.outbox ?? []).toEqual([]);
  });
});

describe("plan: a canary out of the tenant's scope", () => {
  it("takes down the VirtualService it wrote before the operator narrowed what it allows", () => {
    const cspec = canarySpec();
    const vs = virtualService("games", "game", cspec.canary!, { primary: 100, canary: 0 }, "uid-game");
    const owned = { virtualServices: [vs], destinationRules: [], hpas: [] };
    const p = plan(
      snapshot(profile("game", cspec), { spec: cspec, owned, managed: owned, problem: { field: "spec.canary.service.gateways[0]", reason: "GatewayNotAllowed", message: "shared/public is not allowed" } }),
      at(0),
    );
    expect(ready(p.status)).toMatchObject({ status: "False", reason: "GatewayNotAllowed" });
    expect(p.actions).toEqual([{ kind: "istio", op: "delete", resource: "VirtualService", name: vs.metadata.name }]);
  });
});
