import { describe, expect, it } from "vitest";
import type { Phase } from "../api/status.ts";
import type { Measurements } from "../slo/types.ts";
import { at, condition, deployment, deploymentActions, gameSpec, kinds, measure, notified, prometheusDown, Sim, type SloNumbers } from "./test-builders.ts";

const lkg = { revision: 1, templateHash: "v1", since: at(-60).toISOString() };
const v2 = deployment({ revision: 2, templateHash: "v2", revisions: [{ revision: 1, templateHash: "v1" }, { revision: 2, templateHash: "v2" }] });

const before: Array<[string, SloNumbers, Phase]> = [
  ["Healthy", { consumed: 40 }, "Healthy"],
  ["Warning", { consumed: 95, b5m: 3, b1h: 2 }, "Warning"],
  // Skipped (not burning now) so that a rollback would be due if the outage read as burning.
  ["Frozen at 160 %", { consumed: 160, b5m: 0.5, b1h: 0.5 }, "Frozen"],
];

const outages: Array<[string, (now: Date) => Measurements, string]> = [
  ["Prometheus is down", (now) => prometheusDown(now), "PrometheusUnavailable"],
  ["no SLO has data", (now) => measure(now, "NoData", "NoData"), "NoData"],
  ["no SLO has enough events", (now) => measure(now, { verdict: "InsufficientData", events: 12 }, "InsufficientData"), "InsufficientData"],
];

const table = (["Hold", "Freeze"] as const).flatMap((mode) =>
  before.flatMap(([state, numbers, phase]) => outages.map(([outage, m, reason]) => ({ mode, state, numbers, phase, outage, m, reason }))),
);

describe("missing data never acts on its own", () => {
  it.each(table)("onNoData $mode, $state, then $outage", ({ mode, numbers, phase, m, reason }) => {
    const sim = new Sim({ spec: gameSpec({ onNoData: mode }), status: { lastKnownGood: lkg }, deployment: v2 });
    const first = sim.step(at(0), measure(at(0), numbers));
    expect(first.status.phase).toBe(phase);
    const prev = sim.status!;
    for (let t = 1; t <= 3; t++) {
      const d = sim.step(at(t), m(at(t)));
      const wasFrozen = phase === "Frozen";
      // Hold never touches the Deployment; Freeze only freezes, once, and only what is not frozen yet.
      const expected = mode === "Freeze" && !wasFrozen && t === 1 ? ["freeze"] : [];
      expect(deploymentActions(d.actions)).toEqual(expected);
      expect(notified(d.actions)).toEqual(expected.length ? ["Frozen"] : []);
      expect(d.status.phase).toBe(wasFrozen || mode === "Freeze" ? "Frozen" : "Degraded");
      expect(condition(d.status, "MetricsAvailable")).toMatchObject({ status: "False", reason });
      expect(condition(d.status, "Ready")).toMatchObject({ status: "False", reason: "MetricsUnavailable" });
      // What the budget said holds, word for word, so nothing about it is told again when data returns.
      expect(condition(d.status, "BudgetHealthy")).toEqual(condition(prev, "BudgetHealthy"));
      expect(condition(d.status, "RollbackSkipped")).toEqual(condition(prev, "RollbackSkipped"));
      expect(d.status.budget).toEqual(prev.budget);
      expect(d.status.lastKnownGood).toEqual(lkg);
      if (wasFrozen) expect(d.status.freeze).toEqual(prev.freeze);
    }
  });

  it("puts Prometheus's error in MetricsAvailable", () => {
    const sim = new Sim({ deployment: v2 });
    const d = sim.step(at(0), prometheusDown(at(0), "query timed out after 10s"));
    expect(condition(d.status, "MetricsAvailable")?.message).toBe(
      "Prometheus could not be queried (query timed out after 10s); the policy holds its current state and takes no action (onNoData Hold).",
    );
  });

  it("on a first reconcile without data, Hold says Unknown and does nothing", () => {
    const d = new Sim({ deployment: v2 }).step(at(0), prometheusDown(at(0)));
    expect(d.status.phase).toBe("Degraded");
    expect(d.actions.filter((a) => a.action !== "event")).toEqual([]);
    expect(condition(d.status, "BudgetHealthy")).toMatchObject({ status: "Unknown", reason: "NoData" });
    expect(d.status.budget).toBeUndefined();
  });

  it("never rolls back while data is missing, even at a budget that would", () => {
    const sim = new Sim({ status: { lastKnownGood: lkg }, deployment: v2 });
    sim.step(at(0), measure(at(0), { consumed: 160, b5m: 0.5, b1h: 0.5 }));
    for (const m of [prometheusDown(at(1)), measure(at(2), "NoData", "NoData")]) {
      expect(deploymentActions(sim.step(m.at, m).actions)).toEqual([]);
    }
    // Data returns still burning: now it acts, on data.
    expect(deploymentActions(sim.step(at(3), measure(at(3), { consumed: 160, b5m: 12, b1h: 3 })).actions)).toEqual(["rollback"]);
  });

  it("a rollback in flight finishes and re-freezes during an outage, since that only completes what data decided", () => {
    const sim = new Sim({ status: { lastKnownGood: lkg }, deployment: v2 });
    sim.step(at(0), measure(at(0), { consumed: 160, b5m: 12, b1h: 3 }));
    expect(sim.status?.phase).toBe("RollingBack");
    expect(sim.step(at(1), prometheusDown(at(1))).status.phase).toBe("RollingBack");
    sim.deployment = { ...sim.deployment!, rolloutComplete: true };
    const d = sim.step(at(2), prometheusDown(at(2)));
    expect(d.status.phase).toBe("Frozen");
    expect(kinds(d.actions)).toEqual(["freeze", "event:RollbackComplete"]);
  });
});

describe("when data returns", () => {
  it("Hold carries on from where it was, telling nothing twice", () => {
    const sim = new Sim({ deployment: v2 });
    sim.step(at(0), measure(at(0), { consumed: 95 }));
    sim.step(at(1), prometheusDown(at(1)));
    const d = sim.step(at(2), measure(at(2), { consumed: 96 }));
    expect(d.status.phase).toBe("Warning");
    expect(kinds(d.actions)).toEqual(["event:Measured"]);
  });

  it("Freeze lifts its NoData freeze when the budget allows, resolving the page it opened", () => {
    const sim = new Sim({ spec: gameSpec({ onNoData: "Freeze" }), deployment: v2 });
    sim.step(at(0), measure(at(0), { consumed: 40 }));
    const frozen = sim.step(at(1), prometheusDown(at(1)));
    expect(condition(frozen.status, "DeploymentsFrozen")).toMatchObject({ status: "True", reason: "NoData" });
    const d = sim.step(at(2), measure(at(2), { consumed: 85 }));
    expect(deploymentActions(d.actions)).toEqual(["unfreeze"]);
    expect(d.status.phase).toBe("Healthy");
    const keys = [...frozen.actions, ...d.actions].flatMap((a) => (a.action === "notify" ? [`${a.event} ${a.dedupKey}`] : []));
    expect(keys).toEqual([`Frozen tollgate/games/game-service/${at(1).toISOString()}`, `Unfrozen tollgate/games/game-service/${at(1).toISOString()}`]);
  });

  it("Freeze keeps the freeze, as a budget freeze, when data returns exhausted, without a second page", () => {
    const sim = new Sim({ spec: gameSpec({ onNoData: "Freeze" }), deployment: v2 });
    sim.step(at(0), prometheusDown(at(0)));
    const d = sim.step(at(1), measure(at(1), { consumed: 110 }));
    expect(deploymentActions(d.actions)).toEqual([]);
    expect(notified(d.actions)).toEqual(["Warning"]);
    expect(d.status.freeze).toMatchObject({ since: at(0).toISOString(), reason: "BudgetExhausted", slo: "availability" });
    expect(condition(d.status, "DeploymentsFrozen")).toMatchObject({ status: "True", reason: "BudgetExhausted" });
  });
});

describe("partial data", () => {
  it("an SLO whose data vanished cannot lift the freeze it caused", () => {
    const sim = new Sim({ deployment: v2 });
    sim.step(at(0), measure(at(0), { consumed: 120 }));
    const d = sim.step(at(1), measure(at(1), "NoData", { consumed: 10 }));
    expect(d.status.phase).toBe("Frozen");
    expect(deploymentActions(d.actions)).toEqual([]);
    expect(condition(d.status, "MetricsAvailable")).toMatchObject({ status: "True", reason: "PartialData" });
    expect(condition(d.status, "BudgetHealthy")?.message).toContain("availability has no verdict now and last consumed 120.0 %, which still counts");
    // When it returns low, the freeze lifts.
    expect(deploymentActions(sim.step(at(2), measure(at(2), { consumed: 60 }, { consumed: 10 })).actions)).toEqual(["unfreeze"]);
  });

  it("nor end the warning it raised", () => {
    const sim = new Sim({ deployment: v2 });
    sim.step(at(0), measure(at(0), { consumed: 95 }));
    const d = sim.step(at(1), measure(at(1), "NoData", { consumed: 10 }));
    expect(d.status.phase).toBe("Warning");
    expect(notified(d.actions)).toEqual([]);
  });

  it("but the SLOs that do have data still act", () => {
    const sim = new Sim({ deployment: v2 });
    sim.step(at(0), measure(at(0), { consumed: 40 }));
    const d = sim.step(at(1), measure(at(1), { consumed: 40 }, "NoData"));
    expect(d.status.phase).toBe("Healthy");
    const worse = sim.step(at(2), measure(at(2), { consumed: 104 }, "NoData"));
    expect(deploymentActions(worse.actions)).toEqual(["freeze"]);
  });
});
