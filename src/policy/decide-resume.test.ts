import { describe, expect, it } from "vitest";
import type { Measurements } from "../slo/types.ts";
import { decide } from "./decide.ts";
import type { DeploymentFacts } from "./deployment.ts";
import { writeReason } from "./status-changed.ts";
import {
  at,
  deployment,
  deploymentActions,
  HEARTBEAT_MS,
  kinds,
  measure,
  prometheusDown,
  release,
  roundTrip,
  Sim,
} from "./test-builders.ts";

interface Beat {
  at: number;
  m: (now: Date) => Measurements;
  cluster?: (d: DeploymentFacts) => DeploymentFacts;
  annotation?: string | null;
}

const quiet = { b5m: 0.3, b1h: 0.3 };
const hot = { b5m: 12, b1h: 3 };
// A long day: a stable release, a bad one, warn, freeze, an outage, rollback, an override, recovery.
const day: Beat[] = [
  { at: 0, m: (n) => measure(n, { consumed: 30, ...quiet }) },
  { at: 5, m: (n) => measure(n, { consumed: 30, ...quiet }) },
  { at: 10, m: (n) => measure(n, { consumed: 31, ...quiet }) },
  { at: 11, m: (n) => measure(n, { consumed: 31, ...quiet }), cluster: (d) => release(d, "v2") },
  { at: 12, m: (n) => measure(n, { consumed: 91, ...hot }) },
  { at: 13, m: (n) => measure(n, { consumed: 104.2, ...hot }) },
  { at: 14, m: (n) => prometheusDown(n) },
  { at: 15, m: (n) => measure(n, "NoData", "NoData") },
  { at: 16, m: (n) => measure(n, { consumed: 151, ...hot }) },
  { at: 17, m: (n) => measure(n, { consumed: 152, ...hot }) },
  { at: 18, m: (n) => measure(n, { consumed: 153, ...quiet }), cluster: (d) => ({ ...d, rolloutComplete: true }) },
  { at: 20, m: (n) => measure(n, { consumed: 140, ...quiet }), annotation: JSON.stringify({ by: "alice", reason: "INC-9", expires: at(40).toISOString() }) },
  { at: 30, m: (n) => measure(n, { consumed: 120, ...quiet }) },
  { at: 40, m: (n) => measure(n, { consumed: 110, ...quiet }) },
  { at: 41, m: (n) => measure(n, { consumed: 110, ...quiet }), annotation: null },
  { at: 60, m: (n) => measure(n, { consumed: 80, ...quiet }) },
  { at: 90, m: (n) => measure(n, { consumed: 69, ...quiet }) },
  { at: 95, m: (n) => measure(n, { consumed: 60, ...quiet }) },
];

function play(beats: readonly Beat[], restartEveryBeat: boolean) {
  let sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
  const out: Array<{ status: unknown; actions: unknown }> = [];
  for (const b of beats) {
    if (restartEveryBeat) {
      // A new leader: nothing in memory but what it reads back from the API server.
      sim = new Sim({ spec: sim.spec, status: roundTrip(sim.status), deployment: roundTrip(sim.deployment), annotation: sim.annotation });
    }
    if (b.cluster && sim.deployment) sim.deployment = b.cluster(sim.deployment);
    if (b.annotation !== undefined) sim.annotation = b.annotation ?? undefined;
    const d = sim.step(at(b.at), b.m(at(b.at)));
    out.push({ status: d.status, actions: d.actions });
  }
  return out;
}

describe("resuming from status", () => {
  it("an operator restarted before every cycle decides exactly what one that never restarted decides", () => {
    expect(play(day, true)).toEqual(play(day, false));
  });

  it("the day walks the phases it should", () => {
    const phases = play(day, false).map((o) => (o.status as { phase: string }).phase);
    expect(phases).toEqual([
      "Healthy", "Healthy", "Healthy", "Healthy", "Warning", "Frozen", "Frozen", "Frozen",
      "RollingBack", "RollingBack", "Frozen", "Frozen", "Frozen", "Frozen", "Frozen", "Frozen", "Healthy", "Healthy",
    ]);
  });

  it("a status write lost after the actions (a crash) replays the transition: at least once, never never", () => {
    const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
    sim.step(at(0), measure(at(0), { consumed: 40 }));
    const stored = sim.status;
    const first = sim.step(at(1), measure(at(1), { consumed: 120 }));
    sim.status = stored; // the write never happened
    const again = sim.step(at(2), measure(at(2), { consumed: 120 }));
    expect(kinds(first.actions)).toEqual(["freeze", "event:BudgetExhausted", "notify:Frozen"]);
    // The Deployment is already frozen, so only the telling is repeated.
    expect(kinds(again.actions)).toEqual(["event:BudgetExhausted", "notify:Frozen"]);
  });

  it.each([
    ["a freeze", { consumed: 120, b5m: 0.3, b1h: 0.3 }, "freeze"],
    ["a rollback", { consumed: 160, b5m: 12, b1h: 3 }, "rollback"],
  ])("%s written to status but never carried out (a crash) is carried out on the next cycle", (_name, numbers, action) => {
    const v2 = deployment({ revision: 2, templateHash: "v2", revisions: [{ revision: 1, templateHash: "v1" }, { revision: 2, templateHash: "v2" }] });
    const sim = new Sim({ status: { lastKnownGood: { revision: 1, templateHash: "v1", since: at(-60).toISOString() } }, deployment: v2 });
    const first = sim.step(at(0), measure(at(0), numbers));
    expect(deploymentActions(first.actions)).toContain(action);
    sim.deployment = v2; // the action never landed
    const next = sim.step(at(1), measure(at(1), numbers));
    expect(deploymentActions(next.actions)).toContain(action);
    expect(next.actions.filter((a) => a.action === "notify")).toEqual([]);
  });
});

describe("idempotence", () => {
  it("the same input gives the same output", () => {
    const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
    for (const b of day) {
      const input = sim.input(at(b.at), b.m(at(b.at)));
      expect(decide(input)).toEqual(decide(input));
      expect(decide({ ...input, status: roundTrip(input.status) })).toEqual(decide(input));
      sim.step(at(b.at), b.m(at(b.at)));
    }
  });

  it("once its actions are carried out and its status stored, a decision is a fixed point: no actions, and no write a cycle later", () => {
    const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
    for (const b of day) {
      if (b.cluster) sim.deployment = b.cluster(sim.deployment!);
      if (b.annotation !== undefined) sim.annotation = b.annotation ?? undefined;
      sim.step(at(b.at), b.m(at(b.at)));
      // The same numbers again, a second later: nothing to do. Status may still settle once (a rollback
      // renumbers the last known good template, which status then records), and is quiet after that.
      const again = sim.step(new Date(at(b.at).getTime() + 1_000), b.m(at(b.at)));
      expect([b.at, kinds(again.actions)]).toEqual([b.at, []]);
      const third = decide(sim.input(new Date(at(b.at).getTime() + 2_000), b.m(at(b.at))));
      expect([b.at, kinds(third.actions)]).toEqual([b.at, []]);
      expect([b.at, writeReason(sim.status, third.status, { heartbeatMs: HEARTBEAT_MS })]).toEqual([b.at, undefined]);
    }
  });

  it("writes nothing over an hour of steady burn below every threshold but the heartbeat", () => {
    const sim = new Sim({ deployment: deployment({ revision: 1, templateHash: "v1" }) });
    sim.step(at(0), measure(at(0), { consumed: 50 }));
    const writes = sim.writes;
    for (let s = 30; s <= 3600; s += 30) {
      const minutes = s / 60;
      const d = sim.step(at(minutes), measure(at(minutes), { consumed: 50 + minutes / 100, b5m: 0.5 + (s % 7) / 100 }));
      expect(d.actions).toEqual([]);
    }
    // A heartbeat every 5 minutes; the candidate's promotion at 10m falls on one of them.
    expect(sim.writes - writes).toBe(12);
  });
});
