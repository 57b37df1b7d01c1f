import { describe, expect, it } from "vitest";
import { stepCanary } from "./step.ts";
import type { CanaryInput, CanaryStatus } from "./types.ts";
import { FROZEN, NEW, NEWER, OLD, T0, at, brief, canaryMetrics, canarySpec, input, iso, primary, roundTrip, running, target } from "./test-builders.ts";

interface Case {
  name: string;
  in: Partial<CanaryInput>;
  status: Partial<CanaryStatus> | undefined;
  actions: string[];
  requeueAfterMs?: number;
  reason?: string;
}

// One reconcile each, from the state in `in` to the state in `status` (the fields listed) and the
// actions in order. Unless a case says otherwise: target NEW with 3 ready pods, primary OLD with 3,
// healthy canary metrics, not frozen, now = T0.
const cases: Case[] = [
  // Bootstrap.
  {
    name: "no primary: create it from the target, route nothing yet",
    in: { primary: undefined, target: target({ templateHash: OLD, revision: 1 }) },
    status: { phase: "Initializing", weight: 0, step: 0, templateHash: OLD, revision: 1 },
    actions: ["ensurePrimary 3", "event CanaryInitializing"],
    requeueAfterMs: 5_000,
  },
  {
    name: "no primary and a target scaled to 0: primary gets at least one replica",
    in: { primary: undefined, target: target({ desiredReplicas: 0, readyReplicas: 0 }) },
    status: { phase: "Initializing" },
    actions: ["ensurePrimary 1", "event CanaryInitializing"],
  },
  {
    name: "primary created but not ready: wait, traffic stays where it is",
    in: { status: { phase: "Initializing", weight: 0, step: 0, failedChecks: 0, templateHash: OLD }, target: target({ templateHash: OLD }), primary: primary({ readyReplicas: 1, rolloutComplete: false }) },
    status: { phase: "Initializing" },
    actions: ["scalePrimary 3"],
    requeueAfterMs: 5_000,
  },
  {
    name: "primary ready: all traffic to primary, then the target scales to 0",
    in: { status: { phase: "Initializing", weight: 0, step: 0, failedChecks: 0, templateHash: OLD }, target: target({ templateHash: OLD, revision: 1 }) },
    status: { phase: "Waiting", weight: 0, templateHash: OLD, revision: 1 },
    actions: ["scalePrimary 3", "weights 100/0", "scaleCanary 0", "event CanaryInitialized"],
  },
  {
    name: "status lost while a canary ran: primary must carry the canary's replicas before traffic moves",
    in: { status: undefined, target: target({ desiredReplicas: 5, readyReplicas: 5 }), primary: primary({ desiredReplicas: 2, readyReplicas: 2 }) },
    status: { phase: "Initializing" },
    actions: ["scalePrimary 5"],
  },

  // Start.
  {
    name: "new template, canary pods ready: start at stepWeight, step 1",
    in: { status: { phase: "Waiting", weight: 0, step: 0, failedChecks: 0, templateHash: OLD, revision: 1 } },
    status: { phase: "Progressing", weight: 10, step: 1, failedChecks: 0, revision: 2, templateHash: NEW, startedAt: iso(0), lastCheck: iso(0) },
    actions: ["scaleCanary 3", "weights 90/10", "event CanaryStarted"],
    requeueAfterMs: 60_000,
  },
  {
    name: "new template on a target scaled to 0: start with no traffic until the canary pods are up",
    in: { status: { phase: "Succeeded", weight: 0, step: 5, failedChecks: 0, templateHash: OLD, revision: 1 }, target: target({ desiredReplicas: 0, readyReplicas: 0 }) },
    status: { phase: "Progressing", weight: 0, step: 0, startedAt: iso(0), lastCheck: iso(0) },
    actions: ["scaleCanary 3", "weights 100/0", "event CanaryStarted"],
    requeueAfterMs: 5_000,
    reason: "WaitingForCanaryPods",
  },
  {
    name: "frozen: no start; Waiting with the freeze reason",
    in: { status: { phase: "Succeeded", weight: 0, step: 5, failedChecks: 0, templateHash: OLD, revision: 1 }, frozen: FROZEN },
    status: { phase: "Waiting", weight: 0, step: 0, templateHash: NEW, revision: 2 },
    actions: ["weights 100/0", "scaleCanary 0", "event CanaryBlocked"],
    reason: "BudgetExhausted",
  },
  {
    name: "still frozen: no second CanaryBlocked event",
    in: { status: { phase: "Waiting", weight: 0, step: 0, failedChecks: 0, templateHash: NEW, revision: 2 }, frozen: FROZEN },
    status: { phase: "Waiting", templateHash: NEW },
    actions: ["weights 100/0", "scaleCanary 0"],
  },
  {
    name: "the freeze lifts: the waiting revision starts",
    in: { status: { phase: "Waiting", weight: 0, step: 0, failedChecks: 0, templateHash: NEW, revision: 2 } },
    status: { phase: "Progressing", weight: 10, step: 1 },
    actions: ["scaleCanary 3", "weights 90/10", "event CanaryStarted"],
  },
  {
    name: "the template that failed is not retried",
    in: { status: { phase: "Failed", weight: 0, step: 2, failedChecks: 3, templateHash: NEW, revision: 2 } },
    status: { phase: "Failed", templateHash: NEW, failedChecks: 3 },
    actions: ["weights 100/0", "scaleCanary 0"],
    reason: "Failed",
  },
  {
    name: "the template that failed is not retried while its abort drains, even with primary ready",
    in: { status: running(3, { phase: "Aborting", failedChecks: 3 }), now: at(1.2) },
    status: { phase: "Failed", weight: 0, templateHash: NEW, failedChecks: 3, step: 3 },
    actions: ["scalePrimary 3", "weights 100/0", "scaleCanary 0", "event CanaryRolledBack"],
    reason: "Failed",
  },
  {
    name: "a new template after a failed one starts",
    in: { status: { phase: "Failed", weight: 0, step: 2, failedChecks: 3, templateHash: NEW, revision: 2 }, target: target({ templateHash: NEWER, revision: 3 }) },
    status: { phase: "Progressing", weight: 10, step: 1, failedChecks: 0, templateHash: NEWER, revision: 3 },
    actions: ["scaleCanary 3", "weights 90/10", "event CanaryStarted"],
  },
  {
    name: "nothing new: all traffic on primary, target at 0",
    in: { status: { phase: "Succeeded", weight: 0, step: 5, failedChecks: 0, templateHash: OLD, revision: 1 }, target: target({ templateHash: OLD, revision: 1 }) },
    status: { phase: "Succeeded" },
    actions: ["weights 100/0", "scaleCanary 0"],
    requeueAfterMs: 60_000,
  },

  // Warming up (step 0).
  {
    name: "canary pods ready: first traffic step",
    in: { status: running(0, { weight: 0 }), now: at(0.25) },
    status: { phase: "Progressing", weight: 10, step: 1, lastCheck: iso(0.25) },
    actions: ["scaleCanary 3", "weights 90/10", "event CanaryAdvanced"],
  },
  {
    name: "canary pods not ready yet: wait, no traffic",
    in: { status: running(0, { weight: 0 }), target: target({ readyReplicas: 1, rolloutComplete: false }), now: at(0.5) },
    status: { phase: "Progressing", weight: 0, step: 0, failedChecks: 0 },
    actions: ["scaleCanary 3", "weights 100/0"],
    requeueAfterMs: 5_000,
  },
  {
    name: "canary pods still not ready after an interval: a failed check",
    in: { status: running(0, { weight: 0 }), target: target({ readyReplicas: 0, rolloutComplete: false }), now: at(1) },
    status: { phase: "Progressing", weight: 0, step: 0, failedChecks: 1, lastCheck: iso(1) },
    actions: ["scaleCanary 3", "weights 100/0", "event CanaryCheckFailed"],
  },

  // Checks.
  {
    name: "check not due: nothing changes",
    in: { status: running(2), now: at(0.5) },
    status: running(2),
    actions: ["scaleCanary 3", "weights 80/20"],
    requeueAfterMs: 30_000,
  },
  {
    name: "pass: +stepWeight, step++",
    in: { status: running(2), now: at(1) },
    status: { phase: "Progressing", weight: 30, step: 3, failedChecks: 0, lastCheck: iso(1) },
    actions: ["scaleCanary 3", "weights 70/30", "event CanaryAdvanced"],
    requeueAfterMs: 60_000,
  },
  {
    name: "pass caps the weight at maxWeight",
    in: { spec: canarySpec({ stepWeight: 20, maxWeight: 50 }), status: running(2, { weight: 40 }), now: at(1) },
    status: { weight: 50, step: 3 },
    actions: ["scaleCanary 3", "weights 50/50", "event CanaryAdvanced"],
  },
  {
    name: "no data: the step holds, no failure",
    in: { status: running(2), now: at(1), canaryMeasurement: undefined },
    status: { phase: "Progressing", weight: 20, step: 2, failedChecks: 0, lastCheck: iso(1) },
    actions: ["scaleCanary 3", "weights 80/20"],
    reason: "NoData",
  },
  {
    name: "between checks, a held step still says why it holds",
    in: {
      status: running(2, { lastVerdict: { verdict: "InsufficientData", message: "Step 2 holds: availability 12 requests." } }),
      now: at(0.5),
    },
    status: { weight: 20, step: 2, failedChecks: 0, lastVerdict: { verdict: "InsufficientData", message: "Step 2 holds: availability 12 requests." } },
    actions: ["scaleCanary 3", "weights 80/20"],
    reason: "InsufficientData",
  },
  {
    name: "Prometheus down: the step holds, no failure",
    in: { status: running(2), now: at(1), canaryMeasurement: { error: "connection refused", slos: [] } },
    status: { weight: 20, step: 2, failedChecks: 0 },
    actions: ["scaleCanary 3", "weights 80/20"],
    reason: "NoData",
  },
  {
    name: "too few requests (default minEvents 100): the step holds even with a high burn rate",
    in: { status: running(2), now: at(1), canaryMeasurement: canaryMetrics({ burn: 40, events: 12 }) },
    status: { weight: 20, step: 2, failedChecks: 0, lastCheck: iso(1) },
    actions: ["scaleCanary 3", "weights 80/20"],
    reason: "InsufficientData",
  },
  {
    name: "canary.minEvents overrides the policy's",
    in: { spec: canarySpec({ minEvents: 10 }), status: running(2), now: at(1), canaryMeasurement: canaryMetrics({ events: 12 }, { events: 12 }) },
    status: { weight: 30, step: 3 },
    actions: ["scaleCanary 3", "weights 70/30", "event CanaryAdvanced"],
  },
  {
    name: "burn over maxBurnRate: failed check, weight holds",
    in: { status: running(2), now: at(1), canaryMeasurement: canaryMetrics({ burn: 2.5 }) },
    status: { phase: "Progressing", weight: 20, step: 2, failedChecks: 1, lastCheck: iso(1) },
    actions: ["scaleCanary 3", "weights 80/20", "event CanaryCheckFailed"],
  },
  {
    name: "burn exactly maxBurnRate passes",
    in: { status: running(2), now: at(1), canaryMeasurement: canaryMetrics({ burn: 2 }, { burn: 2 }) },
    status: { weight: 30, step: 3 },
    actions: ["scaleCanary 3", "weights 70/30", "event CanaryAdvanced"],
  },
  {
    name: "only the SLOs in canary.slos gate",
    in: { spec: canarySpec({ slos: ["availability"] }), status: running(2), now: at(1), canaryMeasurement: canaryMetrics({}, { burn: 9 }) },
    status: { weight: 30, step: 3, failedChecks: 0 },
    actions: ["scaleCanary 3", "weights 70/30", "event CanaryAdvanced"],
  },
  {
    name: "a canary with no ready pods at a check fails it",
    in: { status: running(2), now: at(1), target: target({ readyReplicas: 0 }) },
    status: { weight: 20, failedChecks: 1 },
    actions: ["scaleCanary 3", "weights 80/20", "event CanaryCheckFailed"],
  },

  // Abort.
  {
    name: "failureLimit reached, primary already carries the load: primary first, then traffic, then the canary; Failed at once",
    in: { status: running(3, { failedChecks: 2 }), now: at(1), canaryMeasurement: canaryMetrics({ burn: 5 }) },
    status: { phase: "Failed", weight: 0, step: 3, failedChecks: 3, lastCheck: iso(1) },
    actions: ["scalePrimary 3", "weights 100/0", "scaleCanary 0", "event CanaryFailed", "event CanaryRolledBack", "notify CanaryFailed"],
    reason: "Failed",
  },
  {
    name: "failureLimit reached, primary shrank under its HPA: Aborting, primary scaled up, the weights kept until it is ready",
    in: { status: running(3, { failedChecks: 2 }), now: at(1), canaryMeasurement: canaryMetrics({ burn: 5 }), primary: primary({ desiredReplicas: 2, readyReplicas: 2 }) },
    status: { phase: "Aborting", weight: 30, step: 3, failedChecks: 3, lastCheck: iso(1) },
    actions: ["scalePrimary 3", "weights 70/30", "event CanaryFailed", "notify CanaryFailed"],
    requeueAfterMs: 5_000,
    reason: "Aborting",
  },
  {
    name: "Aborting, primary scaled but not ready: still Aborting, weight unchanged, no second CanaryFailed",
    in: { status: running(3, { phase: "Aborting", failedChecks: 3 }), now: at(1.1), primary: primary({ desiredReplicas: 3, readyReplicas: 2 }) },
    status: running(3, { phase: "Aborting", failedChecks: 3 }),
    actions: ["scalePrimary 3", "weights 70/30"],
    requeueAfterMs: 5_000,
    reason: "Aborting",
  },
  {
    name: "Aborting, primary ready: traffic to primary, then the canary scales down; Failed",
    in: { status: running(3, { phase: "Aborting", failedChecks: 3 }), now: at(1.2) },
    status: { phase: "Failed", weight: 0, step: 3, failedChecks: 3 },
    actions: ["scalePrimary 3", "weights 100/0", "scaleCanary 0", "event CanaryRolledBack"],
    requeueAfterMs: 60_000,
    reason: "Failed",
  },
  {
    name: "Aborting with a newer revision on the target: the drain finishes first, nothing starts",
    in: { status: running(3, { phase: "Aborting", failedChecks: 3 }), target: target({ templateHash: NEWER, revision: 3 }), primary: primary({ readyReplicas: 2 }), now: at(1.1) },
    status: running(3, { phase: "Aborting", failedChecks: 3 }),
    actions: ["scalePrimary 3", "weights 70/30"],
    reason: "Aborting",
  },
  {
    name: "Aborting with no traffic left on the canary: Failed, no CanaryRolledBack",
    in: { status: running(0, { phase: "Aborting", weight: 0, failedChecks: 3 }), now: at(1.1) },
    status: { phase: "Failed", weight: 0, failedChecks: 3 },
    actions: ["weights 100/0", "scaleCanary 0"],
    reason: "Failed",
  },
  {
    name: "Failed with traffic on the canary (written before the Aborting phase existed): drains as Aborting",
    in: { status: running(3, { phase: "Failed", failedChecks: 3 }), now: at(1.1), primary: primary({ desiredReplicas: 3, readyReplicas: 2 }) },
    status: { phase: "Aborting", weight: 30, failedChecks: 3 },
    actions: ["scalePrimary 3", "weights 70/30"],
    reason: "Aborting",
  },
  {
    name: "Failed with traffic on the canary, primary ready: Failed with weight 0",
    in: { status: running(3, { phase: "Failed", failedChecks: 3 }), now: at(1.2) },
    status: { phase: "Failed", weight: 0, failedChecks: 3 },
    actions: ["scalePrimary 3", "weights 100/0", "scaleCanary 0", "event CanaryRolledBack"],
    reason: "Failed",
  },
  {
    name: "Waiting with traffic left on the canary (a hand edit): drained, still Waiting",
    in: { status: { phase: "Waiting", weight: 20, step: 0, failedChecks: 0, templateHash: OLD, revision: 1 }, target: target({ templateHash: OLD, revision: 1 }), primary: primary({ readyReplicas: 2 }) },
    status: { phase: "Waiting", weight: 20 },
    actions: ["scalePrimary 3", "weights 80/20"],
    reason: "Draining",
  },
  {
    name: "failureLimit reached while warming up: no traffic to move, Failed at once even with primary short",
    in: {
      spec: canarySpec({ failureLimit: 1 }),
      status: running(0, { weight: 0 }),
      now: at(1),
      target: target({ readyReplicas: 0, rolloutComplete: false }),
      primary: primary({ readyReplicas: 2 }),
    },
    status: { phase: "Failed", weight: 0, failedChecks: 1 },
    actions: ["weights 100/0", "scaleCanary 0", "event CanaryFailed", "notify CanaryFailed"],
    reason: "Failed",
  },

  // Promotion.
  {
    name: "pass at maxWeight: promote the tested template, weights hold while primary rolls",
    in: { status: running(5), now: at(1) },
    status: { phase: "Promoting", weight: 50, step: 5, lastCheck: iso(1) },
    actions: ["promote " + NEW, "scalePrimary 3", "scaleCanary 3", "weights 50/50", "event CanaryPromoting"],
    requeueAfterMs: 5_000,
  },
  {
    name: "pass at maxWeight while frozen: hold at maxWeight, still Progressing",
    in: { status: running(5), now: at(1), frozen: FROZEN },
    status: { phase: "Progressing", weight: 50, step: 5, lastCheck: iso(1) },
    actions: ["scaleCanary 3", "weights 50/50"],
    reason: "PromotionFrozen",
  },
  {
    name: "frozen mid-canary: steps below maxWeight go on",
    in: { status: running(2), now: at(1), frozen: FROZEN },
    status: { phase: "Progressing", weight: 30, step: 3 },
    actions: ["scaleCanary 3", "weights 70/30", "event CanaryAdvanced"],
  },
  {
    name: "promoting, primary still rolling: keep waiting",
    in: { status: running(5, { phase: "Promoting" }), primary: primary({ templateHash: NEW, readyReplicas: 2, rolloutComplete: false }), now: at(1.1) },
    status: { phase: "Promoting", weight: 50 },
    actions: ["scalePrimary 3", "scaleCanary 3", "weights 50/50"],
  },
  {
    name: "promoting, primary rolled out: all traffic to primary, canary to 0, Succeeded",
    in: { status: running(5, { phase: "Promoting" }), primary: primary({ templateHash: NEW }), now: at(1.2) },
    status: { phase: "Succeeded", weight: 0, step: 5, templateHash: NEW },
    actions: ["scalePrimary 3", "weights 100/0", "scaleCanary 0", "event CanaryPromoted", "notify CanaryPromoted"],
    reason: "Succeeded",
  },
  {
    name: "promoting while frozen: a promotion already copying finishes",
    in: { status: running(5, { phase: "Promoting" }), primary: primary({ templateHash: NEW }), now: at(1.2), frozen: FROZEN },
    status: { phase: "Succeeded", weight: 0 },
    actions: ["scalePrimary 3", "weights 100/0", "scaleCanary 0", "event CanaryPromoted", "notify CanaryPromoted"],
  },
  {
    name: "a new revision lands during promotion: the tested one is promoted, traffic leaves the untested pods",
    in: { status: running(5, { phase: "Promoting" }), target: target({ templateHash: NEWER, revision: 3 }), primary: primary({ templateHash: NEW, readyReplicas: 3, rolloutComplete: false }) },
    status: { phase: "Promoting", weight: 0, templateHash: NEW },
    actions: ["scalePrimary 3", "weights 100/0"],
  },

  // A new target template under a running canary.
  {
    name: "new revision mid-canary: the canary restarts for it from 0, never stepping down onto it",
    in: { status: running(3), target: target({ templateHash: NEWER, revision: 3 }), now: at(0.5) },
    status: { phase: "Progressing", weight: 0, step: 0, failedChecks: 0, templateHash: NEWER, revision: 3, startedAt: iso(0.5), lastCheck: iso(0.5) },
    actions: ["scalePrimary 3", "scaleCanary 3", "weights 100/0", "event CanaryRestarted"],
  },
  {
    name: "new revision mid-canary, canary pods rolling: restart with no traffic",
    in: { status: running(3), target: target({ templateHash: NEWER, revision: 3, readyReplicas: 1, rolloutComplete: false }), now: at(0.5) },
    status: { phase: "Progressing", weight: 0, step: 0, templateHash: NEWER },
    actions: ["scalePrimary 3", "scaleCanary 3", "weights 100/0", "event CanaryRestarted"],
  },
  {
    name: "new revision mid-canary while primary is short: wait before moving traffic",
    in: { status: running(3), target: target({ templateHash: NEWER, revision: 3 }), primary: primary({ desiredReplicas: 2, readyReplicas: 2 }), now: at(0.5) },
    status: running(3),
    actions: ["scalePrimary 3", "scaleCanary 3", "weights 70/30"],
    reason: "Superseded",
  },
  {
    name: "new revision mid-canary while frozen: the old canary stops, the new one waits",
    in: { status: running(3), target: target({ templateHash: NEWER, revision: 3 }), frozen: FROZEN, now: at(0.5) },
    status: { phase: "Waiting", weight: 0, templateHash: NEWER, revision: 3 },
    actions: ["scalePrimary 3", "weights 100/0", "scaleCanary 0", "event CanaryBlocked"],
  },
  {
    name: "target reverted to primary's template mid-canary: the canary is cancelled",
    in: { status: running(3), target: target({ templateHash: OLD, revision: 3 }), now: at(0.5) },
    status: { phase: "Waiting", weight: 0, templateHash: OLD, revision: 3 },
    actions: ["scalePrimary 3", "weights 100/0", "scaleCanary 0", "event CanaryCancelled"],
  },
];

describe("stepCanary transitions", () => {
  it.each(cases)("$name", (c) => {
    const d = stepCanary(input(c.in));
    if (c.status === undefined) expect(d.status).toBeUndefined();
    else expect(d.status).toMatchObject(c.status);
    expect(brief(d.actions)).toEqual(c.actions);
    if (c.requeueAfterMs !== undefined) expect(d.requeueAfterMs).toBe(c.requeueAfterMs);
    if (c.reason !== undefined) expect(d.summary.reason).toBe(c.reason);
  });

  it.each(cases)("is deterministic and survives a JSON round trip: $name", (c) => {
    const i = input(c.in);
    const once = stepCanary(i);
    expect(stepCanary(i)).toEqual(once);
    expect(stepCanary({ ...i, status: roundTrip(i.status) })).toEqual(once);
    // Status is written as JSON: no undefined, NaN or Date in it.
    expect(roundTrip(once.status)).toStrictEqual(once.status);
  });
});

describe("stepCanary details", () => {
  it("without spec.canary decides nothing", () => {
    const spec = { ...canarySpec(), canary: undefined };
    expect(stepCanary(input({ spec, status: running(2) }))).toMatchObject({ status: undefined, actions: [], requeueAfterMs: undefined });
  });

  it("setWeights always sums to 100", () => {
    for (const c of cases) {
      for (const a of stepCanary(input(c.in)).actions) if (a.action === "setWeights") expect(a.primary + a.canary).toBe(100);
    }
  });

  it("a missing or future lastCheck restarts the interval without judging", () => {
    for (const lastCheck of [undefined, iso(10)]) {
      const status = running(2, { lastCheck });
      const d = stepCanary(input({ status, now: at(1), canaryMeasurement: canaryMetrics({ burn: 50 }) }));
      expect(d.status).toMatchObject({ weight: 20, step: 2, failedChecks: 0, lastCheck: iso(1) });
      expect(d.requeueAfterMs).toBe(60_000);
    }
  });

  it("a failure notification names the revision and carries a stable key", () => {
    const d = stepCanary(input({ status: running(3, { failedChecks: 2 }), now: at(1), canaryMeasurement: canaryMetrics({ burn: 5 }) }));
    const n = d.actions.find((a) => a.action === "notify");
    expect(n).toMatchObject({
      event: "CanaryFailed",
      dedupKey: `tollgate/games/game-service/canary/${NEW}`,
      details: { revision: 2, templateHash: NEW, weight: 30, failedChecks: 3 },
    });
    expect(n && "summary" in n ? n.summary : "").toContain("availability burns 5.0x over 500 requests");
  });

  it("does not judge a step its VirtualService does not route: the weight is applied again and the step's interval starts over", () => {
    const d = stepCanary(input({ status: running(2), routedWeight: 10, now: at(1) }));
    expect(d.status).toEqual(running(2, { lastCheck: at(1).toISOString() }));
    expect(brief(d.actions)).toEqual(["scaleCanary 3", "weights 80/20"]);
    expect(d.requeueAfterMs).toBe(5_000);
    expect(d.summary).toEqual({
      active: true,
      reason: "Routing",
      message: `Step 2 of revision 2 (${NEW}) waits for the VirtualService to route 20 % to the canary (it routes 10 %); the step's interval starts once it does.`,
    });
  });

  it("the requeue counts down to the next check", () => {
    const d = stepCanary(input({ status: running(2), now: new Date(T0.getTime() + 45_000) }));
    expect(d.requeueAfterMs).toBe(15_000);
  });
});
