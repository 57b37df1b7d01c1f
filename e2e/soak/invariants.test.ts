import { describe, expect, it } from "vitest";
import {
  canaryWeight,
  checkCanaryWeights,
  checkFiniteStatuses,
  checkFreezes,
  checkMemory,
  checkNoActionWithoutPrometheus,
  checkNotifications,
  checkRollbacks,
  checkRun,
  faultWindows,
  nonFinite,
  operatorEvents,
  slope,
  weightMoveOk,
} from "./invariants.ts";
import { terms, leaseRecords } from "./lease.ts";
import { at, budgetProfile, lease, NS, requests, run, T0, w } from "./test-builders.ts";
import type { FaultRecord, Meta } from "./run.ts";

const event = (t: number, profile: string, reason: string, id = `${reason.toLowerCase()}${t}`) =>
  w({
    at: t,
    verb: "create",
    resource: "events",
    name: `${profile}.${id}`,
    credential: "JTI=ca",
    requestObject: { metadata: { name: `${profile}.${id}` }, reason, involvedObject: { kind: "PerformanceProfile", name: profile } },
  });
const status = (t: number, profile: string, s: Record<string, unknown>) =>
  w({ at: t, verb: "apply", resource: "performanceprofiles.tollgate.dev", subresource: "status", name: profile, credential: "JTI=ca", responseObject: { status: s } });
const deployment = (t: number, name: string, frozen: boolean) =>
  w({ at: t, resource: "deployments.apps", name, credential: "JTI=ca", responseObject: { metadata: { name, labels: frozen ? { app: name, "tollgate.dev/frozen": "true" } : { app: name } } } });
const vs = (t: number, name: string, canary: number, user?: string) =>
  w({
    at: t,
    resource: "virtualservices.networking.istio.io",
    name,
    credential: "JTI=ca",
    ...(user ? { user } : {}),
    responseObject: { spec: { http: [{ route: [{ destination: { subset: "primary" }, weight: 100 - canary }, { destination: { subset: "canary" }, weight: canary }] }] } },
  });
const fault = (t: number, name: string, phase: "begin" | "end", id = 1): FaultRecord => ({ at: at(t), fault: name, phase, id });

/** 100 req/s on `name`: error ratio `ratio(t)` at second t. */
const traffic = (name: string, ratio: (t: number) => number, t1 = 400) => [requests(name, "200", -120, t1, (t) => 100 * (1 - ratio(t))), requests(name, "500", -120, t1, (t) => 100 * ratio(t))];

const canaryProfile: Meta["profiles"][number] = {
  name: "c",
  mode: "canary",
  spec: {
    targetRef: { name: "c" },
    slos: [{ name: "availability", objective: 99.5, window: "1m", indicator: { istio: { kind: "availability" } } }],
    policy: { evaluationInterval: "5s" },
    canary: { stepWeight: 10, maxWeight: 50, interval: "10s", service: { name: "c" } },
  },
};

describe("fault windows", () => {
  it("pairs begins and ends by fault and id, and lets an unended fault run to the end", () => {
    const ws = faultWindows([fault(10, "prometheus-stop", "begin", 1), fault(20, "prometheus-hang", "begin", 2), fault(30, "prometheus-stop", "end", 1), fault(5, "receiver-fail", "begin", 3)], ["prometheus-stop", "prometheus-hang"], T0 + 100_000);
    expect(ws.map((x) => [x.fault, (x.from - T0) / 1000, (x.to - T0) / 1000])).toEqual([
      ["prometheus-stop", 10, 30],
      ["prometheus-hang", 20, 100],
    ]);
  });
});

describe("rollbacks", () => {
  const profiles = [budgetProfile("svc")];

  it("accept a rollback once the checker's own budget is past rollbackAt and still burning", () => {
    // 2 % errors from 100 s: 4× the budget rate; a minute later the 1m window is all of it (400 %).
    const r = run({ profiles, requests: traffic("svc", (t) => (t >= 100 ? 0.02 : 0.001)), writes: [event(140, "svc", "RolledBack")] });
    expect(checkRollbacks(r, operatorEvents(r.writes, NS, r.meta.operatorUser))).toEqual([]);
  });

  it("flag a rollback while the budget was below rollbackAt, with the highest budget seen as evidence", () => {
    // 0.6 %: 1.2× the budget rate, 120 % consumed at most: a freeze, never a rollback.
    const r = run({ profiles, requests: traffic("svc", (t) => (t >= 100 ? 0.006 : 0.001)), writes: [event(200, "svc", "RolledBack")] });
    const v = checkRollbacks(r, operatorEvents(r.writes, NS, r.meta.operatorUser));
    expect(v).toHaveLength(1);
    expect(v[0]!.check).toBe("rollback-justified");
    expect((v[0]!.evidence as { highest: { consumed: number } }).highest.consumed).toBeCloseTo(120, 0);
  });

  it("flag a rollback when the budget is high but the service no longer burns", () => {
    // 3 % errors from 100 s to 140 s, then clean: at 150 s the minute still holds 240 %, the last 10 s 0×.
    const r = run({ profiles, requests: traffic("svc", (t) => (t >= 100 && t < 140 ? 0.03 : 0)), writes: [event(160, "svc", "RolledBack")] });
    expect(checkRollbacks(r, operatorEvents(r.writes, NS, r.meta.operatorUser))).toHaveLength(1);
  });
});

describe("missed freezes", () => {
  const profiles = [budgetProfile("svc")];
  const burning = traffic("svc", (t) => (t >= 100 ? 0.01 : 0.001));

  it("accept a freeze within one evaluation interval plus the slack of the budget crossing freezeAt + margin", () => {
    // 1 % errors from 100 s: the 1m budget passes 105 % at about 131 s.
    const r = run({ profiles, requests: burning, writes: [deployment(0, "svc", false), deployment(138, "svc", true)] });
    expect(checkFreezes(r, [])).toEqual([]);
  });

  it("flag a freeze that comes later than that", () => {
    const r = run({ profiles, requests: burning, writes: [deployment(0, "svc", false), deployment(150, "svc", true)] });
    const v = checkFreezes(r, []);
    expect(v.map((x) => [x.check, x.profile])).toEqual([["freeze-missed", "svc"]]);
  });

  it("excuse the time Prometheus or the API server was down, and a recovery after it", () => {
    const faults = [fault(120, "apiserver-stop", "begin"), fault(140, "apiserver-stop", "end")];
    // Excused until 140 + 20 s: counting starts again at 161 s, so a freeze at 168 s is in time.
    const r = run({ profiles, requests: burning, faults, writes: [deployment(0, "svc", false), deployment(168, "svc", true)] });
    expect(checkFreezes(r, [])).toEqual([]);
  });

  it("excuse the time without a leader after one was killed, until the next term begins", () => {
    const faults = [fault(125, "leader-kill", "begin")];
    const writes = [lease(0, "a", "ca"), lease(124, "a", "ca"), lease(140, "b", "cb"), deployment(0, "svc", false), deployment(152, "svc", true)];
    const r = run({ profiles, requests: burning, faults, writes });
    expect(checkFreezes(r, terms(leaseRecords(r.writes, NS, "tollgate-leader")))).toEqual([]);
  });

  it("never asks a freeze of a profile without a verdict (too few events)", () => {
    const r = run({ profiles: [budgetProfile("svc", { minEvents: 1_000_000 })], requests: burning, writes: [deployment(0, "svc", false)] });
    expect(checkFreezes(r, [])).toEqual([]);
  });
});

describe("actions while Prometheus is unreachable", () => {
  it("flag a metric-driven decision inside the window, but not one just after it began or a decision of another kind", () => {
    const faults = [fault(100, "prometheus-drop", "begin"), fault(130, "prometheus-drop", "end")];
    const writes = [event(101, "svc", "Frozen"), event(110, "svc", "Unfrozen"), event(115, "svc", "CanaryInitialized"), event(131, "svc", "Frozen")];
    const r = run({ profiles: [budgetProfile("svc")], faults, writes });
    const v = checkNoActionWithoutPrometheus(r, operatorEvents(r.writes, NS, r.meta.operatorUser));
    expect(v.map((x) => x.message.split(" ")[0])).toEqual(["Unfrozen"]);
  });

  it("flag a canary step forward inside the window, not a start at 0 nor a move back to 0", () => {
    const faults = [fault(100, "prometheus-stop", "begin"), fault(130, "prometheus-stop", "end")];
    const writes = [vs(50, "c", 0), vs(105, "c", 10), vs(110, "c", 20), vs(120, "c", 0)];
    const r = run({ profiles: [canaryProfile], faults, writes });
    expect(checkNoActionWithoutPrometheus(r, []).map((x) => x.message)).toEqual([expect.stringContaining("10 → 20")]);
  });
});

describe("notifications", () => {
  const entry = (id: string, reason: string, t: number) => ({ id, kind: "Notification", reason, message: "m", at: at(t) });
  const evEntry = (id: string, reason: string, t: number) => ({ id, kind: "Event", reason, message: "m", at: at(t) });
  const got = (t: number, key: string, statusCode = 202, body: Record<string, unknown> = { id: key }) => ({ at: at(t), path: "/hook", key, status: statusCode, body });

  it("accept each recorded notification taken exactly once, after failed tries", () => {
    const writes = [status(10, "svc", { outbox: [evEntry("e1", "Frozen", 10), entry("n1", "Frozen", 10)] }), event(10.2, "svc", "Frozen", "e1"), status(11, "svc", {})];
    const r = run({ writes, receiver: [got(10.5, "n1", 503), got(12, "n1")] });
    expect(checkNotifications(r, operatorEvents(r.writes, NS, r.meta.operatorUser))).toEqual([]);
  });

  it("flag a notification taken twice, one never taken, one nobody recorded, and an Event without its notification", () => {
    const writes = [
      status(10, "svc", { outbox: [entry("n1", "Frozen", 10), entry("n2", "Warning", 10)] }),
      status(20, "svc", { outbox: [evEntry("e3", "Unfrozen", 20)] }),
      event(20.5, "svc", "Unfrozen", "e3"),
      status(21, "svc", {}),
    ];
    const r = run({ writes, receiver: [got(11, "n1"), got(12, "n1"), got(13, "n9")] });
    const v = checkNotifications(r, operatorEvents(r.writes, NS, r.meta.operatorUser)).map((x) => x.message);
    expect(v).toEqual([
      "Frozen (n1) was accepted 2 times",
      "Warning (n2) was recorded but never accepted by the receiver",
      "the receiver accepted notification n9 that no status ever recorded",
      "Event Unfrozen (svc.e3) has no notification recorded for it",
    ]);
  });

  it("excuse a notification still in the outbox when the operators stopped, or recorded just before", () => {
    const writes = [status(100, "svc", { outbox: [entry("n1", "Frozen", 100)] }), status(290, "svc", { outbox: [entry("n1", "Frozen", 100), entry("n2", "Warning", 290)] })];
    expect(checkNotifications(run({ writes, stoppedAt: 300 }), [])).toEqual([]);
  });

  it("flag a body id that differs from the Idempotency-Key", () => {
    const writes = [status(10, "svc", { outbox: [entry("n1", "Frozen", 10)] })];
    expect(checkNotifications(run({ writes, receiver: [got(11, "n1", 200, { id: "other" })] }), []).map((x) => x.message)).toEqual(["a notification's Idempotency-Key n1 differs from its body id other"]);
  });
});

describe("statuses", () => {
  it("find nulls and NaN or Infinity spellings anywhere in a status", () => {
    expect(nonFinite({ budget: { consumedPercent: null, worstSlo: "x" }, slos: [{ burn: "+Inf" }], conditions: [{ message: "consumed NaN % of its budget" }, { message: "Infinite patience" }] })).toEqual([
      "status.budget.consumedPercent = null",
      'status.slos[0].burn = "+Inf"',
      'status.conditions[0].message = "consumed NaN % of its budget"',
    ]);
    expect(nonFinite({ budget: { consumedPercent: 104.2 }, phase: "Frozen" })).toEqual([]);
  });

  it("judge the statuses in the audit log and the sampled ones, each finding once", () => {
    const r = run({
      writes: [status(10, "svc", { budget: { consumedPercent: null } }), status(20, "svc", { budget: { consumedPercent: null } })],
      statuses: [{ at: at(30), name: "other", status: { canary: { weight: "NaN" } } }],
    });
    expect(checkFiniteStatuses(r).map((v) => [v.profile, v.message.split(" (")[0]])).toEqual([
      ["svc", "status.budget.consumedPercent = null"],
      ["other", 'status.canary.weight = "NaN"'],
    ]);
  });
});

describe("canary weights", () => {
  it("move by one step, stay, or drop to 0; capped at maxWeight", () => {
    expect(weightMoveOk(0, 10, 10, 50)).toBe(true);
    expect(weightMoveOk(40, 50, 10, 50)).toBe(true);
    expect(weightMoveOk(45, 50, 10, 50)).toBe(true);
    expect(weightMoveOk(30, 0, 10, 50)).toBe(true);
    expect(weightMoveOk(10, 30, 10, 50)).toBe(false);
    expect(weightMoveOk(30, 20, 10, 50)).toBe(false);
    expect(weightMoveOk(0, 20, 10, 50)).toBe(false);
  });

  it("read from the VirtualService writes and status.canary.weight", () => {
    expect(canaryWeight({ spec: { http: [{ route: [{ destination: { subset: "primary" }, weight: 70 }, { destination: { subset: "canary" }, weight: 30 }] }] } })).toBe(30);
    expect(canaryWeight({ spec: { http: [{ route: [{ destination: { subset: "primary" } }] }] } })).toBe(0);
    const writes = [vs(1, "c", 0), vs(2, "c", 10), vs(3, "c", 20), vs(4, "c", 40, "argocd"), vs(5, "c", 0), status(6, "c", { canary: { weight: 10 } }), status(7, "c", { canary: { weight: 30 } })];
    expect(checkCanaryWeights(run({ profiles: [canaryProfile], writes })).map((v) => v.message)).toEqual([
      "VirtualService c: the canary's weight moved 20 → 40 % (stepWeight 10) by argocd",
      "status.canary.weight moved 10 → 30 % (stepWeight 10)",
    ]);
  });
});

describe("memory", () => {
  it("fits a least-squares slope", () => {
    expect(slope([[0, 1], [1, 3], [2, 5]])).toBeCloseTo(2, 9);
    expect(slope([[0, 1]])).toBe(0);
  });

  it("flags a process whose RSS climbs over the second half, skips one too young to judge", () => {
    const rss = [];
    for (let t = 0; t <= 600; t += 10) {
      rss.push({ at: at(t), identity: "a", pid: 1, rssKiB: (150 + (t / 60) * 5) * 1024 });
      rss.push({ at: at(t), identity: "b", pid: 2, rssKiB: (150 + Math.sin(t) * 3) * 1024 });
      if (t > 550) rss.push({ at: at(t), identity: "c", pid: 3, rssKiB: (100 + t) * 1024 });
    }
    const m = checkMemory(run({ rss, activeTo: 600 }));
    expect(m.verdicts.map((v) => v.pid).sort()).toEqual([1, 2]);
    expect(m.violations.map((v) => v.message.split(":")[0])).toEqual(["operator a (pid 1)"]);
  });
});

describe("a whole run", () => {
  it("counts faults and decisions, and reports no violation for a clean run", () => {
    const writes = [lease(0, "a", "ca"), ...Array.from({ length: 150 }, (_, i) => lease(2 * (i + 1), "a", "ca")), event(50, "svc", "CanaryInitialized")];
    const r = run({ profiles: [budgetProfile("svc")], requests: traffic("svc", () => 0.001), writes, faults: [fault(10, "receiver-fail", "begin"), fault(20, "receiver-fail", "end")] });
    const report = checkRun(r);
    expect(report.violations).toEqual([]);
    expect([report.faults, report.decisions, report.terms]).toEqual([1, 1, 1]);
  });
});
