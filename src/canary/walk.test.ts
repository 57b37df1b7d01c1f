import { describe, expect, it } from "vitest";
import { CanarySim, NEW, OLD, at, canaryMetrics, target } from "./test-builders.ts";

// Whole canaries, reconcile after reconcile, through a cluster that carries out the actions and a
// status that goes through JSON each time, as the controller would store it.

/** Reconciles every 15s from `from` to `to` minutes; returns the canary weights seen after each. */
function run(sim: CanarySim, from: number, to: number, m = canaryMetrics()): number[] {
  const seen: number[] = [];
  for (let t = from; t <= to + 1e-9; t += 0.25) {
    sim.step(at(t), m);
    seen.push(sim.weights.canary);
  }
  return seen;
}

const distinct = (xs: number[]) => xs.filter((x, i) => i === 0 || xs[i - 1] !== x);

describe("a canary end to end", () => {
  it("bootstraps primary, then a release walks 10 → 20 → 30 → 40 → 50 and promotes", () => {
    const sim = new CanarySim({ primary: undefined });
    sim.step(at(0));
    expect(sim.status?.phase).toBe("Initializing");
    expect(sim.primary).toMatchObject({ templateHash: OLD, desiredReplicas: 3 });
    sim.step(at(0.1));
    expect(sim.status?.phase).toBe("Waiting");
    expect(sim.target.desiredReplicas).toBe(0);
    expect(sim.weights).toEqual({ primary: 100, canary: 0 });

    sim.release(NEW);
    const weights = run(sim, 1, 8);
    expect(distinct(weights)).toEqual([0, 10, 20, 30, 40, 50, 0]);
    expect(sim.status).toMatchObject({ phase: "Succeeded", weight: 0, step: 5, failedChecks: 0, templateHash: NEW, revision: 2 });
    expect(sim.primary).toMatchObject({ templateHash: NEW, readyReplicas: 3 });
    expect(sim.target.desiredReplicas).toBe(0);
    expect(sim.log.filter((l) => l.startsWith("event") || l.startsWith("notify"))).toEqual([
      "event CanaryInitializing",
      "event CanaryInitialized",
      "event CanaryStarted",
      "event CanaryAdvanced",
      "event CanaryAdvanced",
      "event CanaryAdvanced",
      "event CanaryAdvanced",
      "event CanaryAdvanced",
      "event CanaryPromoting",
      "event CanaryPromoted",
      "notify CanaryPromoted",
    ]);
  });

  it("a step whose weights could not be written is routed and held a whole interval before the next: no step is skipped", () => {
    const sim = new CanarySim();
    sim.step(at(0));
    sim.release(NEW);
    run(sim, 0.25, 1.25);
    expect(sim.status).toMatchObject({ step: 1, weight: 10 });
    expect(sim.weights.canary).toBe(10);
    // The API server goes away as the step to 20 % is recorded: its VirtualService write fails.
    sim.routingFails = true;
    const during = run(sim, 1.5, 2.5);
    expect(sim.status).toMatchObject({ step: 2, weight: 20 });
    expect(during.every((w) => w === 10)).toBe(true);
    // Back: 20 % is routed at once, and held a whole interval from then before 30 %.
    sim.routingFails = false;
    const after = run(sim, 2.75, 5);
    expect(distinct([10, ...after])).toEqual([10, 20, 30, 40]);
    expect(after.filter((w) => w === 20)).toHaveLength(4);
    expect(sim.log.filter((l) => l === "event CanaryAdvanced")).toHaveLength(4);
  });

  it("one interval per step: weights move no faster than the interval", () => {
    const sim = new CanarySim();
    sim.step(at(0));
    sim.release(NEW);
    const weights = run(sim, 0.25, 4.25);
    // Reconciles every 15s: each weight is held for a whole minute (4 reconciles).
    const runs = distinct(weights).map((w) => weights.filter((x) => x === w).length);
    expect(runs.slice(1, 4)).toEqual([4, 4, 4]);
  });

  it("killing the operator at step 3 resumes step 3 from the stored status", () => {
    const sim = new CanarySim();
    sim.step(at(0));
    sim.release(NEW);
    run(sim, 0.25, 2.5);
    expect(sim.status).toMatchObject({ step: 3, weight: 30 });
    const stored = structuredClone(sim.status);

    // A new operator: the same cluster and the stored status, nothing else.
    const restarted = new CanarySim({ status: stored, target: sim.target, primary: sim.primary });
    restarted.weights = sim.weights;
    const d = restarted.step(at(2.6));
    expect(d.status).toEqual(stored);
    expect(restarted.weights.canary).toBe(30);
    // At the next due check it goes on to step 4, not back to 10 and not past 40.
    expect(distinct(run(restarted, 2.75, 3.5))).toEqual([30, 40]);
    expect(restarted.status).toMatchObject({ step: 4, weight: 40 });
  });

  it("a canary with no traffic holds and never fails", () => {
    const sim = new CanarySim();
    sim.step(at(0));
    sim.release(NEW);
    run(sim, 0.25, 1.5);
    expect(sim.status).toMatchObject({ step: 2, weight: 20 });
    const weights = run(sim, 1.75, 30, canaryMetrics({ burn: undefined, events: 0 }, { burn: undefined, events: 0 }));
    expect(distinct(weights)).toEqual([20]);
    expect(sim.status).toMatchObject({ phase: "Progressing", step: 2, weight: 20, failedChecks: 0 });
  });

  it("a bad canary aborts after failureLimit checks; primary is scaled before traffic returns; Failed once it has", () => {
    const sim = new CanarySim();
    sim.step(at(0));
    sim.release(NEW);
    run(sim, 0.25, 2.5);
    expect(sim.status).toMatchObject({ step: 3, weight: 30 });
    // Primary's HPA shed a replica while the canary carried 30 %.
    sim.primary = { ...sim.primary!, desiredReplicas: 2, readyReplicas: 2 };
    sim.lag = true;
    sim.log = [];

    const bad = canaryMetrics({ burn: 3.1 });
    // Checks are due at 3.5, 4.5 and 5.5 (step 3 began at 2.5).
    run(sim, 2.75, 5.5, bad);
    expect(sim.status).toMatchObject({ phase: "Aborting", failedChecks: 3, weight: 30 });
    expect(sim.weights.canary).toBe(30);
    expect(sim.primary).toMatchObject({ desiredReplicas: 3, readyReplicas: 2 });
    // However long primary takes, the canary stays Aborting with its traffic.
    const waiting = run(sim, 5.75, 7, bad);
    expect(distinct(waiting)).toEqual([30]);
    expect(sim.status).toMatchObject({ phase: "Aborting", weight: 30 });

    sim.settle();
    sim.step(at(7.25));
    expect(sim.status).toMatchObject({ phase: "Failed", weight: 0 });
    expect(sim.weights).toEqual({ primary: 100, canary: 0 });
    expect(sim.target.desiredReplicas).toBe(0);
    const cluster = sim.log.filter((l) => !l.startsWith("event") && !l.startsWith("notify") && !l.startsWith("scaleCanary 3"));
    const first = (s: string) => cluster.indexOf(s);
    expect(first("scalePrimary 3")).toBeLessThan(first("weights 100/0"));
    expect(first("weights 100/0")).toBeLessThan(first("scaleCanary 0"));
    expect(sim.log.filter((l) => l === "notify CanaryFailed")).toHaveLength(1);
    expect(sim.log.filter((l) => l === "event CanaryFailed")).toHaveLength(1);
    expect(sim.log.filter((l) => l === "event CanaryRolledBack")).toHaveLength(1);

    // The failed template is not retried; the next release is.
    run(sim, 7.5, 8);
    expect(sim.status?.phase).toBe("Failed");
    sim.lag = false;
    sim.release("a1b2c3d4e");
    sim.step(at(8.25));
    expect(sim.status).toMatchObject({ phase: "Progressing", templateHash: "a1b2c3d4e", failedChecks: 0 });
  });

  it("killing the operator while Aborting resumes the drain: no second CanaryFailed, Failed once primary is ready, no retry", () => {
    const sim = new CanarySim();
    sim.step(at(0));
    sim.release(NEW);
    run(sim, 0.25, 2.5);
    sim.primary = { ...sim.primary!, desiredReplicas: 2, readyReplicas: 2 };
    sim.lag = true;
    run(sim, 2.75, 5.5, canaryMetrics({ burn: 3.1 }));
    expect(sim.status).toMatchObject({ phase: "Aborting", weight: 30 });
    expect(sim.log.filter((l) => l === "notify CanaryFailed")).toHaveLength(1);
    const stored = structuredClone(sim.status);

    // A new operator: the same cluster and the stored status, nothing else.
    const restarted = new CanarySim({ status: stored, target: sim.target, primary: sim.primary });
    restarted.weights = sim.weights;
    restarted.lag = true;
    run(restarted, 5.75, 6.5, canaryMetrics({ burn: 3.1 }));
    expect(restarted.status).toMatchObject({ phase: "Aborting", weight: 30, failedChecks: 3 });
    expect(restarted.weights.canary).toBe(30);
    restarted.settle();
    run(restarted, 6.75, 9);
    expect(restarted.status).toMatchObject({ phase: "Failed", weight: 0, templateHash: NEW });
    expect(restarted.weights).toEqual({ primary: 100, canary: 0 });
    expect(restarted.target.desiredReplicas).toBe(0);
    expect(restarted.log.filter((l) => l.startsWith("event") || l.startsWith("notify"))).toEqual(["event CanaryRolledBack"]);
  });

  it("is Initializing through the whole set-up, until primary is ready and takes the traffic", () => {
    const sim = new CanarySim({ primary: undefined });
    sim.lag = true;
    const seen = [0, 0.1, 0.2, 0.3].map((t) => {
      const d = sim.step(at(t));
      return [d.status?.phase, d.summary.reason, d.summary.active];
    });
    expect(seen).toEqual(Array(4).fill(["Initializing", "Initializing", true]));
    // No route is written while primary is not ready to take it.
    expect(sim.log.filter((l) => l.startsWith("weights"))).toEqual([]);
    sim.settle();
    const d = sim.step(at(0.4));
    expect([d.status?.phase, d.summary.reason, d.summary.active]).toEqual(["Waiting", "Initialized", false]);
  });

  it("a frozen target does not start a canary until the freeze lifts", () => {
    const sim = new CanarySim();
    sim.step(at(0));
    sim.frozen = { reason: "BudgetExhausted", message: "rollouts are frozen" };
    sim.release(NEW);
    const weights = run(sim, 0.25, 10);
    expect(distinct(weights)).toEqual([0]);
    expect(sim.status).toMatchObject({ phase: "Waiting", templateHash: NEW });
    expect(sim.target.desiredReplicas).toBe(0);
    sim.frozen = undefined;
    run(sim, 10.25, 11);
    expect(sim.status).toMatchObject({ phase: "Progressing", weight: 10 });
  });

  it("a new revision mid-canary restarts the canary from 0, then the first step", () => {
    const sim = new CanarySim({ target: target({ templateHash: OLD, revision: 1, desiredReplicas: 0, readyReplicas: 0 }) });
    sim.step(at(0));
    sim.release(NEW);
    run(sim, 0.25, 2.5);
    expect(sim.status).toMatchObject({ step: 3, weight: 30, revision: 2 });
    sim.release("d4e5f6a7b");
    const weights = run(sim, 2.75, 4);
    expect(distinct(weights)).toEqual([0, 10, 20]);
    expect(sim.status).toMatchObject({ templateHash: "d4e5f6a7b", revision: 3, step: 2, failedChecks: 0 });
  });
});
