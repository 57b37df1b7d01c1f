import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanaryScenario, canaryProfileYaml } from "./support/canary.ts";
import { kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { owns } from "./support/managed-fields.ts";
import { sleep, waitFor } from "./support/wait.ts";

// Canary releases through Istio on the real control plane, Istio's real CRDs and the simulator's
// Istio metrics, set up by CanaryScenario (support/canary.ts): the canary is the target Deployment
// (destination_workload game-service), primary is game-service-primary.

const INTERVAL_S = 10;

/** Samples the canary weight every 200 ms, so a test can assert the whole sequence it went through. */
function recordWeights(s: CanaryScenario): { stop: () => number[] } {
  const seen: number[] = [];
  let running = true;
  void (async () => {
    while (running) {
      const w = await s.weights().catch(() => undefined);
      if (w && seen.at(-1) !== w.canary) seen.push(w.canary);
      await sleep(200);
    }
  })();
  return {
    stop: () => {
      running = false;
      return seen;
    },
  };
}

describe("a canary that passes walks 10 → 50 and is promoted", () => {
  const s = new CanaryScenario();
  const argocdVs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: game-service
  labels: {app.kubernetes.io/instance: shop}
  annotations: {example.com/owner: games-team}
spec:
  exportTo: ["."]
`;

  beforeAll(async () => {
    await s.setUp(
      "e2e-canary",
      canaryProfileYaml(
        { stepWeight: 10, maxWeight: 50, interval: `${INTERVAL_S}s`, maxBurnRate: 2, failureLimit: 2 },
        `  trafficPolicy: {circuitBreaker: {consecutiveErrors: 5}}
  autoscaling: {minReplicas: 2, maxReplicas: 4}
`,
      ),
      { primary: 200, canary: 20 },
    );
  }, 120_000);
  afterAll(() => s.tearDown());

  it("sets up primary, the subsets, the routes and primary's HPA before any canary", async () => {
    await s.initialized();
    const primary = await s.deployment("game-service-primary");
    expect(primary.spec.template.spec.containers[0]?.image).toBe("registry.example/game-service:1.0.0");
    expect(primary.spec.template.metadata.labels["tollgate.dev/track"]).toBe("primary");
    expect((await s.deployment("game-service")).spec.template.metadata.labels["tollgate.dev/track"]).toBe("canary");
    const dr = await kubectlJson<{ spec: { subsets: Array<{ name: string; labels: Record<string, string> }>; trafficPolicy: { outlierDetection: { consecutive5xxErrors: number } } } }>(
      ["-n", s.ns, "get", "destinationrule", "game-service"],
    );
    expect(dr.spec.subsets).toEqual([
      { name: "primary", labels: { "tollgate.dev/track": "primary" } },
      { name: "canary", labels: { "tollgate.dev/track": "canary" } },
    ]);
    expect(dr.spec.trafficPolicy.outlierDetection.consecutive5xxErrors).toBe(5);
    const hpa = await kubectlJson<{ spec: { scaleTargetRef: { name: string }; minReplicas: number; maxReplicas: number } }>(["-n", s.ns, "get", "hpa", "game-service-primary"]);
    expect(hpa.spec.scaleTargetRef.name).toBe("game-service-primary");
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 4]);
    const st = await s.status();
    expect(s.condition(st, "CanaryProgressing")).toMatchObject({ status: "False", reason: "NoNewRevision" });
  });

  let recorder: { stop: () => number[] };

  it("a new image becomes the canary at 10 %, then 20 %, and another manager's VirtualService fields coexist", async () => {
    recorder = recordWeights(s);
    await s.setImage("registry.example/game-service:2.0.0");
    const started = await s.canary((c) => c.phase === "Progressing" && c.step === 1 && c.weight === 10, "the canary at step 1, 10 %");
    expect(started.phase).toBe("Progressing");
    expect(s.condition(started, "CanaryProgressing")?.status).toBe("True");
    expect((await s.deployment("game-service")).spec.replicas).toBe(2);

    // An Argo CD sync of the user's own VirtualService fields: its labels, annotation and exportTo.
    const sync = await kubectl(["apply", "-n", s.ns, "--server-side", "--field-manager=argocd-controller", "-f", "-"], { input: argocdVs });
    expect(sync.stderr).toBe("");
    expect(await s.weights()).toEqual({ primary: 90, canary: 10 });

    await s.canary((c) => c.step === 2 && c.weight === 20, "step 2, 20 %");
    await waitFor("the VirtualService at 20 %", async () => ((await s.weights())?.canary === 20 ? true : undefined));
    const vs = await s.virtualService();
    expect(vs.metadata.labels?.["app.kubernetes.io/instance"]).toBe("shop");
    expect(vs.metadata.annotations?.["example.com/owner"]).toBe("games-team");
    expect(vs.spec.exportTo).toEqual(["."]);
    expect(owns(vs, "argocd-controller", ["f:spec", "f:exportTo"])).toBe(true);
    expect(owns(vs, "tollgate", ["f:spec", "f:http"])).toBe(true);

    // And the reverse: Argo CD syncing again leaves Tollgate's weights alone.
    await kubectlOk(["apply", "-n", s.ns, "--server-side", "--field-manager=argocd-controller", "-f", "-"], argocdVs.replace("games-team", "games-team-2"));
    expect((await s.weights())?.canary).toBe(20);
  }, 120_000);

  it("an operator killed at step 3 resumes at step 3 without jumping weights", async () => {
    await s.canary((c) => c.step === 3 && c.weight === 30, "step 3, 30 %");
    await s.operator.stop("SIGKILL");
    const atKill = await s.status();
    expect(atKill.canary).toMatchObject({ step: 3, weight: 30, failedChecks: 0 });

    const restarted = s.startOperator();
    await restarted.metricsPort();
    await waitFor("the new operator to reconcile the profile", () => (restarted.logs().some((l) => l.msg === "caches synced") ? true : undefined));
    await sleep(1_500);
    const resumed = await s.status();
    expect(resumed.canary?.step).toBe(3);
    expect(resumed.canary?.weight).toBe(30);
    expect(resumed.canary?.lastCheck).toBe(atKill.canary?.lastCheck);
    expect(await s.weights()).toEqual({ primary: 70, canary: 30 });
    await s.canary((c) => c.step === 4 && c.weight === 40, "step 4, 40 %");
  }, 120_000);

  it("passes 50 %, copies the template to primary and returns all traffic to it", async () => {
    const done = await s.canary((c) => c.phase === "Succeeded", "the canary to be promoted", 120_000);
    expect(done.canary).toMatchObject({ weight: 0, failedChecks: 0 });
    expect(done.phase).toBe("Healthy");
    await waitFor("the VirtualService back at 0 %", async () => ((await s.weights())?.canary === 0 ? true : undefined));
    await sleep(500); // one more sample for the recorder
    const seen = recorder.stop();
    expect(seen).toEqual([0, 10, 20, 30, 40, 50, 0]);
    const primary = await s.deployment("game-service-primary");
    expect(primary.spec.template.spec.containers[0]?.image).toBe("registry.example/game-service:2.0.0");
    expect(primary.spec.template.metadata.labels["tollgate.dev/track"]).toBe("primary");
    await waitFor("the canary scaled to 0", async () => ((await s.deployment("game-service")).spec.replicas === 0 ? true : undefined));
    const reasons = (await s.events()).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["CanaryStarted", "CanaryAdvanced", "CanaryPromoting", "CanaryPromoted"]));
    expect(reasons).not.toContain("CanaryCheckFailed");
  }, 150_000);
});

describe("a canary that burns its budget is aborted", () => {
  const s = new CanaryScenario();
  beforeAll(async () => {
    // The canary fails 10 % of its requests: burn rate 20 against a 99.5 % objective, maxBurnRate 2.
    // Its share of all requests is small enough that the service's own budget stays healthy.
    await s.setUp("e2e-canary-abort", canaryProfileYaml({ stepWeight: 10, maxWeight: 50, interval: `${INTERVAL_S}s`, maxBurnRate: 2, failureLimit: 2 }), {
      primary: 2000,
      canary: 10,
      canaryErrors: 0.1,
    });
  }, 120_000);
  afterAll(() => s.tearDown());

  it("fails failureLimit checks, scales primary up before moving the traffic back, then scales the canary down", async () => {
    await s.initialized();
    await s.setImage("registry.example/game-service:2.0.0");
    await s.canary((c) => c.phase === "Progressing" && c.weight === 10, "the canary at 10 %");
    // Primary shed a replica while the canary took part of the load (as its HPA may): the abort must
    // give it back before the traffic moves.
    await kubectlOk(["-n", s.ns, "scale", "deployment/game-service-primary", "--replicas=1"]);
    const first = await s.canary((c) => c.failedChecks === 1, "the first failed check");
    expect(first.canary).toMatchObject({ phase: "Progressing", weight: 10, step: 1 });
    const failed = await s.canary((c) => c.phase === "Failed" && c.weight === 0, "the canary aborted");
    expect(failed.canary?.failedChecks).toBe(2);
    expect(s.condition(failed, "CanaryProgressing")).toMatchObject({ status: "False", reason: "Failed" });
    expect(await s.weights()).toEqual({ primary: 100, canary: 0 });
    expect((await s.deployment("game-service-primary")).spec.replicas).toBe(2);
    expect((await s.deployment("game-service-primary")).spec.template.spec.containers[0]?.image).toBe("registry.example/game-service:1.0.0");
    await waitFor("the canary scaled to 0", async () => ((await s.deployment("game-service")).spec.replicas === 0 ? true : undefined));

    // The order, from the operator's own log: primary scaled up, then the weights, then the canary.
    const log = s.operator.logs().map((l) => (l.msg === "action taken" ? String(l.action) : ""));
    const scaledUp = log.indexOf("scale Deployment game-service-primary");
    const weightsBack = log.findIndex((m, i) => i > scaledUp && m === "apply VirtualService game-service");
    const canaryDown = log.findIndex((m, i) => i > weightsBack && m === "scale Deployment game-service");
    expect(scaledUp).toBeGreaterThanOrEqual(0);
    expect(weightsBack).toBeGreaterThan(scaledUp);
    expect(canaryDown).toBeGreaterThan(weightsBack);
    const reasons = (await s.events()).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["CanaryCheckFailed", "CanaryFailed", "CanaryRolledBack"]));
    expect(reasons).not.toContain("CanaryPromoted");
  }, 150_000);
});

describe("a canary nobody calls", () => {
  const s = new CanaryScenario();
  beforeAll(async () => {
    await s.setUp("e2e-canary-idle", canaryProfileYaml({ stepWeight: 10, maxWeight: 50, interval: `${INTERVAL_S}s`, failureLimit: 1 }), { primary: 200, canary: 0 });
  }, 120_000);
  afterAll(() => s.tearDown());

  it("holds its step and never counts a failure", async () => {
    await s.initialized();
    await s.setImage("registry.example/game-service:2.0.0");
    const started = await s.canary((c) => c.phase === "Progressing" && c.step === 1, "the canary at step 1");
    const firstCheck = started.canary?.lastCheck;
    // Three intervals: three checks with no data.
    await s.canary((c) => c.lastCheck !== firstCheck, "a check");
    await sleep(2 * INTERVAL_S * 1000 + 1_000);
    const held = await s.status();
    expect(held.canary).toMatchObject({ phase: "Progressing", step: 1, weight: 10, failedChecks: 0 });
    expect(held.canary?.lastVerdict?.verdict).toBe("NoData");
    expect(s.condition(held, "CanaryProgressing")).toMatchObject({ status: "True", reason: "NoData" });
    expect(s.condition(held, "CanaryProgressing")?.message).toContain("0 requests");
    expect(await s.weights()).toEqual({ primary: 90, canary: 10 });
    expect((await s.events()).map((e) => e.reason)).not.toContain("CanaryCheckFailed");
  }, 120_000);
});

describe("a frozen target", () => {
  const s = new CanaryScenario();
  beforeAll(async () => {
    await s.setUp("e2e-canary-frozen", canaryProfileYaml({ interval: `${INTERVAL_S}s` }), { primary: 500, canary: 0 });
  }, 120_000);
  afterAll(() => s.tearDown());

  it("does not start a canary, and the condition says why", async () => {
    await s.initialized();
    // The operator is away while the budget burns and a new image lands: the first reconcile back
    // sees both at once, the freeze and a new revision.
    await s.operator.stop();
    await s.sim.setWorkload(s.ns, "game-service-primary", { rate: 500, errorRatio: 0.05 });
    await s.setImage("registry.example/game-service:2.0.0");
    await sleep(12_000);
    s.startOperator();

    const frozen = await waitFor("the profile frozen", async () => {
      const st = await s.status();
      return st.phase === "Frozen" ? st : undefined;
    }, { timeoutMs: 60_000 });
    const blocked = await s.canary((c) => c.phase === "Waiting", "the canary held back");
    const cond = s.condition(blocked, "CanaryProgressing");
    expect(cond).toMatchObject({ status: "False", reason: "BudgetExhausted" });
    expect(cond?.message).toContain("does not start: rollouts are frozen");
    expect(frozen.phase).toBe("Frozen");

    await sleep(2 * INTERVAL_S * 1000);
    expect(await s.weights()).toEqual({ primary: 100, canary: 0 });
    expect((await s.deployment("game-service")).spec.replicas).toBe(0);
    const reasons = (await s.events()).map((e) => e.reason);
    expect(reasons).toContain("CanaryBlocked");
    expect(reasons).not.toContain("CanaryStarted");
    // And a further push is refused at admission while the freeze holds.
    const push = await kubectl(["-n", s.ns, "set", "image", "deployment/game-service", "app=registry.example/game-service:3.0.0"]);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain("tollgate-freeze");
  }, 150_000);
});

describe("a promoted revision that burns the budget", () => {
  const s = new CanaryScenario();
  beforeAll(async () => {
    await s.setUp(
      "e2e-canary-rollback",
      canaryProfileYaml({ stepWeight: 50, maxWeight: 50, interval: "10s" }, "", { window: "1m", policy: "{evaluationInterval: 2s, minEvents: 20, stableAfter: 10s}" }),
      { primary: 200, canary: 20 },
    );
  }, 120_000);
  afterAll(() => s.tearDown());

  it("is rolled back on primary, where the traffic is, not through a canary", async () => {
    await s.initialized();
    const lkg = await waitFor("a last known good revision", async () => {
      const st = (await kubectlJson<{ status?: { lastKnownGood?: { revision: number; templateHash: string } } }>(["-n", s.ns, "get", "pp", "game-service"])).status;
      return st?.lastKnownGood;
    }, { timeoutMs: 60_000 });
    await s.setImage("registry.example/game-service:2.0.0");
    await s.canary((c) => c.phase === "Succeeded", "the canary promoted", 90_000);
    expect(await s.image("game-service-primary")).toBe("registry.example/game-service:2.0.0");

    // The promoted revision fails 5 % of requests: burn rate 10, past rollbackAt (150 %) in seconds.
    await s.sim.setWorkload(s.ns, "game-service-primary", { rate: 200, errorRatio: 0.05 });
    const rolled = await waitFor("the rollback", async () => {
      const st = (await kubectlJson<{ status?: { rollback?: { revision: number; from: number } } }>(["-n", s.ns, "get", "pp", "game-service"])).status;
      return st?.rollback;
    }, { timeoutMs: 90_000 });
    expect(rolled.revision).toBe(lkg.revision);
    await waitFor("primary back on 1.0.0", async () => ((await s.image("game-service-primary")) === "registry.example/game-service:1.0.0" ? true : undefined));
    expect(await s.image("game-service")).toBe("registry.example/game-service:1.0.0");
    const primary = await s.deployment("game-service-primary");
    expect(primary.metadata.annotations?.["tollgate.dev/source-template-hash"]).toBe(lkg.templateHash);
    // Target and primary agree again: no canary of the old template, traffic stays on primary.
    await sleep(6_000);
    const st = await s.status();
    expect(st.canary?.phase).not.toBe("Progressing");
    expect(await s.weights()).toEqual({ primary: 100, canary: 0 });
  }, 240_000);
});
