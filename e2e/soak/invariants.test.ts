import { describe, expect, it } from "vitest";
import {
  canaryWeight,
  checkCanaryWeights,
  checkFiniteStatuses,
  checkFreezes,
  checkMemory,
  heapFloor,
  checkNoActionWithoutPrometheus,
  checkNotifications,
  checkRollbacks,
  checkRun,
  checkStatusesAccepted,
  decisions,
  faultWindows,
  nonFinite,
  operatorEvents,
  slope,
  statusWrites,
  weightMoveOk,
  type NotificationStats,
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
const status = (t: number, profile: string, s: Record<string, unknown>, credential = "JTI=ca") =>
  w({ at: t, verb: "apply", resource: "performanceprofiles.tollgate.dev", subresource: "status", name: profile, credential, responseObject: { status: s } });
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
const c = (type: string, st: string, reason = "", t = 0) => ({ type, status: st, reason, lastTransitionTime: at(t) });
const healthy = [c("BudgetHealthy", "True", "WithinBudget"), c("DeploymentsFrozen", "False", "NotFrozen"), c("RolledBack", "False", "NotRolledBack")];
const rolledBack = (t: number) => [c("BudgetHealthy", "False", "BudgetLow"), c("DeploymentsFrozen", "True", "BudgetExhausted"), c("RolledBack", "True", "RolledBack", t)];
const decided = (r: ReturnType<typeof run>) => decisions(statusWrites(r.writes, NS));
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
    const r = run({ profiles, requests: traffic("svc", (t) => (t >= 100 ? 0.02 : 0.001)), writes: [status(100, "svc", { conditions: healthy }), status(140, "svc", { conditions: rolledBack(140) })] });
    expect(decided(r).map((d) => d.kind)).toEqual(["freeze", "warning", "rollback"]);
    expect(checkRollbacks(r, decided(r))).toEqual([]);
  });

  it("flag a rollback while the budget was below rollbackAt, with the highest budget seen as evidence", () => {
    // 0.6 %: 1.2× the budget rate, 120 % consumed at most: a freeze, never a rollback.
    const r = run({ profiles, requests: traffic("svc", (t) => (t >= 100 ? 0.006 : 0.001)), writes: [status(100, "svc", { conditions: healthy }), status(200, "svc", { conditions: rolledBack(200) })] });
    const v = checkRollbacks(r, decided(r));
    expect(v).toHaveLength(1);
    expect(v[0]!.check).toBe("rollback-justified");
    expect((v[0]!.evidence as { highest: { consumed: number } }).highest.consumed).toBeCloseTo(120, 0);
  });

  it("flag a rollback when the budget is high but the service no longer burns", () => {
    // 3 % errors from 100 s to 140 s, then clean: at 150 s the minute still holds 240 %, the last 10 s 0×.
    const r = run({ profiles, requests: traffic("svc", (t) => (t >= 100 && t < 140 ? 0.03 : 0)), writes: [status(100, "svc", { conditions: healthy }), status(160, "svc", { conditions: rolledBack(160) })] });
    expect(checkRollbacks(r, decided(r))).toHaveLength(1);
  });
});

describe("missed freezes", () => {
  const profiles = [budgetProfile("svc")];
  const burning = traffic("svc", (t) => (t >= 100 ? 0.01 : 0.001));

  it("accept a freeze within one evaluation interval plus the slack of the budget crossing freezeAt + margin", () => {
    // 1 % errors from 100 s: the 1m budget passes 105 % at about 131 s.
    const r = run({ profiles, requests: burning, writes: [deployment(0, "svc", false), deployment(138, "svc", true)] });
    const stats = { reactionsMs: [] as number[] };
    expect(checkFreezes(r, [], stats)).toEqual([]);
    expect(stats.reactionsMs).toHaveLength(1);
    expect(stats.reactionsMs[0]).toBeLessThanOrEqual(10_000);
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

describe("decisions recorded in status", () => {
  it("are the flips of the conditions README names, the HPA's CPU target and the canary's weight, checks and phase", () => {
    const writes = [
      status(1, "svc", { conditions: healthy, autoscaling: { cpuTarget: 70 }, canary: { phase: "Waiting", weight: 0, failedChecks: 0 } }),
      status(2, "svc", { conditions: healthy, autoscaling: { cpuTarget: 60 }, canary: { phase: "Progressing", weight: 10, failedChecks: 0 } }),
      status(3, "svc", { conditions: healthy, autoscaling: { cpuTarget: 60 }, canary: { phase: "Progressing", weight: 20, failedChecks: 1, lastVerdict: { verdict: "BurnRateExceeded" } } }),
      // A check failed on the pods, not on Prometheus's numbers.
      status(4, "svc", { conditions: healthy, autoscaling: { cpuTarget: 60 }, canary: { phase: "Failed", weight: 0, failedChecks: 2, lastVerdict: { verdict: "PodsNotReady" } } }),
      status(5, "svc", { conditions: rolledBack(5), outbox: [{ id: "n1", kind: "Notification", reason: "Frozen", at: at(5) }] }),
      // A first verdict is no decision unless it is the bad one.
      status(6, "other", { conditions: [c("BudgetHealthy", "Unknown"), c("DeploymentsFrozen", "Unknown")] }),
      status(7, "other", { conditions: [c("BudgetHealthy", "True"), c("DeploymentsFrozen", "False")] }),
      status(8, "new", { conditions: [c("BudgetHealthy", "Unknown"), c("DeploymentsFrozen", "Unknown")] }),
      status(9, "new", { conditions: [c("BudgetHealthy", "False"), c("DeploymentsFrozen", "True")] }),
    ];
    expect(decided(run({ writes })).map((d) => [d.kind, d.metricDriven])).toEqual([
      ["cpu-target", true],
      ["canary-weight", false],
      ["canary-check-failed", true],
      ["canary-step", true],
      ["canary-check-failed", false],
      ["canary-weight", false],
      ["canary-failed", false],
      ["freeze", true],
      ["warning", true],
      ["rollback", true],
      ["freeze", true],
      ["warning", true],
    ]);
  });
});

describe("actions while Prometheus is unreachable", () => {
  it("flag a metric-driven decision inside the window, but not one just after it began nor a decision of another kind", () => {
    const faults = [fault(100, "prometheus-drop", "begin"), fault(130.5, "prometheus-drop", "end")];
    const frozen = [c("BudgetHealthy", "False"), c("DeploymentsFrozen", "True"), c("RolledBack", "False")];
    const writes = [
      status(90, "svc", { conditions: healthy, canary: { weight: 0 } }),
      status(101, "svc", { conditions: frozen, canary: { weight: 0 } }),
      status(110, "svc", { conditions: frozen, canary: { weight: 10 } }),
      status(115, "svc", { conditions: frozen, canary: { weight: 20 } }),
      status(120, "svc", { conditions: healthy, canary: { weight: 20 } }),
      status(125, "svc", { conditions: healthy, canary: { weight: 0 } }),
      status(131, "svc", { conditions: frozen, canary: { weight: 0 } }),
    ];
    const r = run({ profiles: [budgetProfile("svc")], faults, writes });
    expect(checkNoActionWithoutPrometheus(r, decided(r)).map((x) => x.message.split(" (")[0])).toEqual(["canary-step", "unfreeze", "recovered"]);
  });
});

describe("notifications", () => {
  const entry = (id: string, reason: string, t: number) => ({ id, kind: "Notification", reason, message: "m", at: at(t) });
  const evEntry = (id: string, reason: string, t: number) => ({ id, kind: "Event", reason, message: "m", at: at(t) });
  const got = (t: number, key: string, statusCode = 202, body: Record<string, unknown> = { id: key }) => ({ at: at(t), path: "/hook", key, status: statusCode, body });

  it("accept each recorded notification taken exactly once, after failed tries", () => {
    const writes = [
      status(5, "svc", { conditions: healthy }),
      status(10, "svc", { conditions: rolledBack(10), outbox: [evEntry("e1", "BudgetExhausted", 10), entry("n1", "Frozen", 10), entry("n2", "RolledBack", 10)] }),
      event(10.2, "svc", "BudgetExhausted", "e1"),
      status(11, "svc", { conditions: rolledBack(10) }),
    ];
    const r = run({ writes, receiver: [got(10.5, "n1", 503), got(10.6, "n2"), got(12, "n1")] });
    expect(checkNotifications(r, decided(r), [])).toEqual([]);
  });

  it("flag a notification taken twice, one never taken, one nobody recorded, and an Event without its notification", () => {
    const frozen = [c("BudgetHealthy", "False"), c("DeploymentsFrozen", "True"), c("RolledBack", "False")];
    const writes = [
      status(5, "svc", { conditions: healthy }),
      status(10, "svc", { conditions: frozen, outbox: [entry("n1", "Frozen", 10), entry("n2", "Warning", 10)] }),
      status(20, "svc", { conditions: healthy, outbox: [evEntry("e3", "Unfrozen", 20)] }),
      status(21, "svc", { conditions: healthy }),
    ];
    const r = run({ writes, receiver: [got(11, "n1"), got(12, "n1"), got(13, "n9")] });
    const v = checkNotifications(r, decided(r), []).map((x) => [x.check, x.message]);
    expect(v).toEqual([
      ["notification-redelivered", "Frozen (n1) was accepted 2 times: the receiver got a message it had already taken"],
      ["notified-once", "Warning (n2) was recorded but never accepted by the receiver"],
      ["notified-once", "the receiver accepted notification n9 that no status ever recorded"],
      ["notified-once", "unfreeze (DeploymentsFrozen True → False (NotFrozen)) recorded with no Unfrozen notification queued"],
    ]);
  });

  it("excuse a notification still in the outbox when the operators stopped, or recorded just before", () => {
    const writes = [status(100, "svc", { outbox: [entry("n1", "Frozen", 100)] }), status(290, "svc", { outbox: [entry("n1", "Frozen", 100), entry("n2", "Warning", 290)] })];
    expect(checkNotifications(run({ writes, stoppedAt: 300 }), [], [])).toEqual([]);
  });

  describe("taken again after the leader that sent them was killed", () => {
    // "a" leads until its kill at 12.5 s; "b" takes over at 30 s, finds n1 still queued and sends it again.
    const leaderKill = (t: number, identity: string, signal = "SIGKILL", name = signal === "SIGKILL" ? "leader-kill" : "leader-term"): FaultRecord => ({ at: at(t), fault: name, phase: "begin", id: 2, identity, signal });
    const leases = [lease(0, "a", "ca"), lease(10, "a", "ca"), lease(30, "b", "cb"), lease(32, "b", "cb")];
    const writes = (...more: ReturnType<typeof status>[]) => [
      ...leases,
      status(5, "svc", { outbox: [entry("n1", "Frozen", 5)] }, "JTI=ca"),
      status(31, "svc", { outbox: [entry("n1", "Frozen", 5)] }, "JTI=cb"),
      status(33, "svc", {}, "JTI=cb"),
      ...more,
    ];
    const judge = (r: ReturnType<typeof run>) => {
      const stats: NotificationStats = { redeliveredUnrecorded: [] };
      const v = checkNotifications(r, decided(r), leaseRecords(r.writes, NS, "tollgate-leader"), stats);
      return { checks: v.map((x) => x.check), killed: stats.redeliveredUnrecorded.map((x) => `${x.sender} ${x.cause}`) };
    };
    const receiver = [got(12, "n1"), got(32, "n1")];

    it("excuse it when the holder at the first acceptance was SIGKILLed before any status write of the profile, and say so in the notes", () => {
      const r = run({ writes: writes(), receiver, faults: [leaderKill(12.5, "a")] });
      expect(judge(r)).toEqual({ checks: [], killed: ["a SIGKILLed"] });
      expect(checkRun(r).notes.filter((n) => n.includes("SIGKILLed"))).toEqual([
        `1 notification was taken again after the operator that sent it could not record it (same Idempotency-Key): svc Frozen n1 again at ${at(32)}, a SIGKILLed`,
      ]);
    });

    it("excuse it when the API server was stopped at the first acceptance and the sender never wrote the profile's status again", () => {
      const outage = [fault(11.9, "apiserver-stop", "begin", 3), fault(28, "apiserver-stop", "end", 3)];
      const r = run({ writes: writes(), receiver, faults: outage });
      expect(judge(r)).toEqual({ checks: [], killed: ["a cut off from the API server"] });
      expect(checkRun(r).notes.filter((n) => n.includes("API server"))).toEqual([
        `1 notification was taken again after the operator that sent it could not record it (same Idempotency-Key): svc Frozen n1 again at ${at(32)}, a cut off from the API server`,
      ]);
    });

    it("flag it when the API server was stopped only after the acceptance, or the sender wrote the status after it came back", () => {
      const later = [fault(12.5, "apiserver-stop", "begin", 3), fault(28, "apiserver-stop", "end", 3)];
      expect(judge(run({ writes: writes(), receiver, faults: later }))).toEqual({ checks: ["notification-redelivered"], killed: [] });
      const outage = [fault(11.9, "apiserver-stop", "begin", 3), fault(20, "apiserver-stop", "end", 3)];
      const recordedAfter = run({ writes: writes(status(21, "svc", { outbox: [entry("n1", "Frozen", 5)] }, "JTI=ca")), receiver, faults: outage });
      expect(judge(recordedAfter)).toEqual({ checks: ["notification-redelivered"], killed: [] });
    });

    it("flag it when that holder wrote the profile's status between the acceptance and the kill", () => {
      const r = run({ writes: writes(status(12.2, "svc", { outbox: [entry("n1", "Frozen", 5)] }, "JTI=ca")), receiver, faults: [leaderKill(12.5, "a")] });
      expect(judge(r)).toEqual({ checks: ["notification-redelivered"], killed: [] });
    });

    it("flag it when the holder was stopped with SIGTERM, which leaves it time to record the delivery", () => {
      const r = run({ writes: writes(), receiver, faults: [leaderKill(12.5, "a", "SIGTERM")] });
      expect(judge(r)).toEqual({ checks: ["notification-redelivered"], killed: [] });
      const misnamed = run({ writes: writes(), receiver, faults: [leaderKill(12.5, "a", "SIGTERM", "leader-kill")] });
      expect(judge(misnamed)).toEqual({ checks: ["notification-redelivered"], killed: [] });
    });

    it("flag it when the process killed was not the one holding the lease at the acceptance", () => {
      const r = run({ writes: writes(), receiver, faults: [leaderKill(12.5, "b")] });
      expect(judge(r)).toEqual({ checks: ["notification-redelivered"], killed: [] });
    });

    it("flag a third acceptance when only the first sender was killed: the second one had recorded it", () => {
      const r = run({ writes: writes(), receiver: [...receiver, got(40, "n1")], faults: [leaderKill(12.5, "a")] });
      expect(judge(r)).toEqual({ checks: ["notification-redelivered"], killed: [] });
    });
  });

  it("flag a body id that differs from the Idempotency-Key", () => {
    const writes = [status(10, "svc", { outbox: [entry("n1", "Frozen", 10)] })];
    expect(checkNotifications(run({ writes, receiver: [got(11, "n1", 200, { id: "other" })] }), [], []).map((x) => x.message)).toEqual(["a notification's Idempotency-Key n1 differs from its body id other"]);
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

describe("status writes", () => {
  it("flag each profile's statuses the API server refused as invalid, once per message, with the count", () => {
    const refused = (t: number, name: string) =>
      w({ at: t, resource: "performanceprofiles.tollgate.dev", subresource: "status", name, code: 422, credential: "JTI=ca", requestObject: { status: { slos: [{ burnRates: {} }] } }, responseObject: { kind: "Status", message: "status.slos[0].burnRates: Invalid value: \"null\"" } });
    const v = checkStatusesAccepted(run({ writes: [refused(1, "a"), refused(2, "a"), refused(3, "b"), status(4, "a", {})] }));
    expect(v.map((x) => [x.profile, x.message])).toEqual([
      ["a", 'the API server refused 2 status write(s) as invalid: status.slos[0].burnRates: Invalid value: "null"'],
      ["b", 'the API server refused 1 status write(s) as invalid: status.slos[0].burnRates: Invalid value: "null"'],
    ]);
    expect(v[0]!.evidence).toEqual([{ burnRates: {} }]);
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
    const m = checkMemory(run({ rss, activeTo: 600 }), []);
    expect(m.verdicts.map((v) => v.pid).sort()).toEqual([1, 2]);
    expect(m.violations.map((v) => v.message.split(":")[0])).toEqual(["operator a (pid 1, standby)"]);
  });

  it("judges each role apart, after it settled: a standby that grows once on becoming leader, then holds, is no leak", () => {
    const rss = [];
    for (let t = 0; t <= 1200; t += 5) rss.push({ at: at(t), identity: "a", pid: 1, rssKiB: (t < 700 ? 150 : 200) * 1024 });
    const leaderFrom700 = [lease(700, "a", "ca"), ...Array.from({ length: 250 }, (_, i) => lease(702 + 2 * i, "a", "ca"))];
    const allTerms = terms(leaseRecords(leaderFrom700, NS, "tollgate-leader"));
    const m = checkMemory(run({ rss, activeTo: 1200 }), allTerms);
    expect(m.verdicts.map((v) => [v.role, v.samples, Number(v.mibPerMin.toFixed(3))])).toEqual([["leader", 77, 0]]);
    expect(m.violations).toEqual([]);
    // Judged as one stretch, the step would read as growth.
    expect(checkMemory(run({ rss, activeTo: 1200 }), []).violations).toHaveLength(1);
  });

  it("reads the heap's floor per minute, and takes RSS growth over a flat one for V8's, not a leak", () => {
    expect(heapFloor([{ t: 0.1, heapMiB: 90 }, { t: 0.5, heapMiB: 60 }, { t: 1.2, heapMiB: 70 }, { t: 1.9, heapMiB: 61 }])).toEqual([
      [0.5, 60],
      [1.5, 61],
    ]);
    const rss = [];
    // RSS climbs 5 MiB/min while the heap left after each minute's collections stays at 60 MiB.
    for (let t = 0; t <= 600; t += 5) rss.push({ at: at(t), identity: "a", pid: 1, rssKiB: (150 + (t / 60) * 5) * 1024, heapUsedBytes: (60 + (t % 60) / 2) * 1048576 });
    const m = checkMemory(run({ rss, activeTo: 600 }), []);
    const [v] = m.verdicts;
    expect(v?.mibPerMin).toBeCloseTo(5, 5);
    expect(v?.heapMiBPerMin).toBeCloseTo(0, 5);
    expect(m.violations).toEqual([]);
  });

  it("flags RSS growth that the retained heap grows with", () => {
    const rss = [];
    // RSS climbs 5 MiB/min, and the heap's floor 1 MiB/min: objects are kept.
    for (let t = 0; t <= 600; t += 5) rss.push({ at: at(t), identity: "a", pid: 1, rssKiB: (150 + (t / 60) * 5) * 1024, heapUsedBytes: (60 + t / 60 + (t % 60) / 2) * 1048576 });
    const m = checkMemory(run({ rss, activeTo: 600 }), []);
    expect(m.verdicts[0]?.heapMiBPerMin).toBeCloseTo(1, 5);
    expect(m.violations.map((v) => v.message)).toEqual([
      "operator a (pid 1, standby): RSS grew 5.00 MiB/min over the run's second half (175 → 200 MiB, 61 samples; limit 2), and the used heap's floor 1.00 MiB/min",
    ]);
  });

  it("keeps a leader in its role across an API server outage that ended its term, when it takes the lease again", () => {
    const rss = [];
    for (let t = 0; t <= 1200; t += 5) rss.push({ at: at(t), identity: "a", pid: 1, rssKiB: 150 * 1024 });
    // "a" leads from 0; the API server is down from 600 to 615 (no renewals), then "a" renews again.
    const renewals = (from: number, to: number) => Array.from({ length: (to - from) / 2 + 1 }, (_, i) => lease(from + 2 * i, "a", "ca"));
    const allTerms = terms(leaseRecords([...renewals(0, 598), ...renewals(640, 1200)], NS, "tollgate-leader"));
    expect(allTerms).toHaveLength(2);
    const m = checkMemory(run({ rss, activeTo: 1200 }), allTerms);
    expect(m.verdicts.map((v) => [v.role, v.samples])).toEqual([["leader", 121]]);
  });

  it("ends a role when the other replica takes the lease", () => {
    const rss = [];
    for (let t = 0; t <= 1200; t += 5) rss.push({ at: at(t), identity: "a", pid: 1, rssKiB: 150 * 1024 });
    const allTerms = terms(leaseRecords([lease(0, "a", "ca"), lease(900, "b", "cb")], NS, "tollgate-leader"));
    // Leader until 900 (judged from 600, the half), then standby (judged from 1020, once settled).
    expect(checkMemory(run({ rss, activeTo: 1200 }), allTerms).verdicts.map((v) => [v.role, v.samples])).toEqual([
      ["leader", 60],
      ["standby", 37],
    ]);
  });
});

describe("a whole run", () => {
  it("counts faults and decisions, and reports no violation for a clean run", () => {
    const writes = [
      lease(0, "a", "ca"),
      ...Array.from({ length: 150 }, (_, i) => lease(2 * (i + 1), "a", "ca")),
      event(50, "svc", "CanaryInitialized"),
      status(40, "svc", { canary: { phase: "Initializing", weight: 0 } }),
      status(50, "svc", { canary: { phase: "Waiting", weight: 10 } }),
    ];
    const r = run({ profiles: [budgetProfile("svc")], requests: traffic("svc", () => 0.001), writes, faults: [fault(10, "receiver-fail", "begin"), fault(20, "receiver-fail", "end")] });
    const report = checkRun(r);
    expect(report.violations).toEqual([]);
    expect([report.faults, report.decisions, report.terms]).toEqual([1, 1, 1]);
  });
});
