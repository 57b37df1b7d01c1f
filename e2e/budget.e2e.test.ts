import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator, type WorkloadView } from "./simulator/client.ts";
import { loadClusterEnv, ROOT } from "./support/env.ts";
import { applyYaml, installCrds, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { promRawSamples, type Series } from "./support/prometheus.ts";
import { startReceiver, type Receiver } from "./support/receiver.ts";
import { sleep, waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";
import type { Condition } from "./support/conditions.ts";

// The seed's error-budget policy on the seed's game service (99.5 % availability), with a one-minute
// SLO window so the whole incident plays out in a few minutes: Healthy → Warning (90 %) → Frozen
// (100 %) → rolled back (150 %) → recovery → unfrozen (< 70 %).
const WINDOW_S = 60;
const BUDGET = 0.005;
const RATE = 2000;

interface ProfileStatus {
  phase?: string;
  budget?: { consumedPercent: number };
  slos?: Array<{ name: string; consumedPercent?: number; verdict: string; lastEvaluated?: string }>;
  lastKnownGood?: { revision: number; templateHash: string };
  freeze?: { since: string; override?: { by: string } };
  rollback?: { revision: number; from: number };
  conditions?: Condition[];
}
interface Deployment {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { paused?: boolean; template: { spec: { containers: Array<{ image: string }> } } };
}
interface ReplicaSet {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: { template: { spec: { containers: Array<{ image: string }> } } };
}
interface Event {
  reason: string;
  type: string;
  message: string;
  involvedObject: { kind: string; name: string };
}

const profileYaml = `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: game-service}
spec:
  targetRef: {name: game-service}
  slos:
    - name: availability
      objective: 99.5
      window: 1m
      indicator: {istio: {kind: availability}}
  policy:
    evaluationInterval: 2s
    minEvents: 100
    stableAfter: 10s
    notifications:
      - {name: team-slack, type: slack, events: [Warning, Recovered, Unfrozen], secretRef: {name: alerting, key: slack}}
      - {name: oncall, type: pagerduty, events: [Frozen, RolledBack, RollbackSkipped, Unfrozen], secretRef: {name: alerting, key: pagerduty}}
      - {name: audit, type: webhook, events: [Warning, Recovered, Frozen, Unfrozen, RolledBack, RollbackSkipped], secretRef: {name: alerting, key: webhook}}
`;

describe("the error-budget policy on a real Deployment", () => {
  let ns: string;
  let sim: Simulator;
  let receiver: Receiver;
  let operator: OperatorProcess;
  const snapshots: Array<{ at: number; view: WorkloadView }> = [];
  let sampling: NodeJS.Timeout | undefined;

  const status = async () => (await kubectlJson<{ status?: ProfileStatus }>(["-n", ns, "get", "pp", "game-service"])).status ?? {};
  const condition = (s: ProfileStatus, type: string) => s.conditions?.find((c) => c.type === type);
  const deployment = () => kubectlJson<Deployment>(["-n", ns, "get", "deployment", "game-service"]);
  const events = async () => (await kubectlJson<{ items: Event[] }>(["-n", ns, "get", "events"])).items.filter((e) => e.involvedObject.kind === "PerformanceProfile");
  const phase = (want: string, timeoutMs = 120_000) =>
    waitFor(`phase ${want}`, async () => {
      const s = await status();
      return s.phase === want ? s : undefined;
    }, { timeoutMs, intervalMs: 500 });
  const templateHash = async (image: string) => {
    const rs = await kubectlJson<{ items: ReplicaSet[] }>(["-n", ns, "get", "replicasets", "-l", "app=game-service"]);
    return rs.items.find((r) => r.spec.template.spec.containers[0]?.image === image)?.metadata.labels["pod-template-hash"];
  };

  beforeAll(async () => {
    await installCrds();
    const env = loadClusterEnv();
    ns = await createOperatorNamespace("e2e-budget");
    receiver = await startReceiver();
    await kubectlOk([
      "-n", ns, "create", "secret", "generic", "alerting",
      `--from-literal=slack=${receiver.url}/slack`,
      "--from-literal=pagerduty=routing-key-e2e",
      `--from-literal=webhook=${receiver.url}/webhook`,
    ]);
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    await sim.setWorkload(ns, "game-service", { rate: RATE, errorRatio: 0.001 });
    // Keep a second-by-second record of the simulator's counters, for the hand computation.
    sampling = setInterval(() => {
      void sim.getWorkload(ns, "game-service").then((view) => view && snapshots.push({ at: Date.now(), view }));
    }, 1_000);
    await applyYaml(deploymentYaml("game-service", "registry.example/game-service:1.0.0"), ns);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
    operator = startOperator(["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL, "--pagerduty-url", `${receiver.url}/pd`, "--notification-allowed-url", `${receiver.url}/`]);
    await applyYaml(profileYaml, ns);
  });
  afterAll(async () => {
    if (sampling) clearInterval(sampling);
    await operator?.stop();
    await sim?.stop();
    await receiver?.close();
    await deleteOperatorNamespace(ns);
  });

  it("is Healthy at 20 % and makes the running revision last known good after stableAfter", async () => {
    const healthy = await phase("Healthy");
    expect(condition(healthy, "Ready")?.status).toBe("True");
    expect(condition(healthy, "MetricsAvailable")).toMatchObject({ status: "True", reason: "Measured" });
    const v1 = await templateHash("registry.example/game-service:1.0.0");
    const lkg = await waitFor("v1 to become last known good", async () => {
      const s = await status();
      return s.lastKnownGood?.templateHash === v1 ? s.lastKnownGood : undefined;
    }, { timeoutMs: 60_000 });
    expect(lkg.revision).toBe(1);
  });

  it("warns at 90 %: BudgetHealthy=False, an event and a Slack message", async () => {
    // v2 burns from the start (1.2× the budget rate), so it never becomes last known good.
    await kubectlOk(["-n", ns, "set", "image", "deployment/game-service", "app=registry.example/game-service:2.0.0"]);
    await sim.setWorkload(ns, "game-service", { errorRatio: 0.006 });
    const warning = await phase("Warning");
    expect(condition(warning, "BudgetHealthy")).toMatchObject({ status: "False", reason: "BudgetLow" });
    expect(condition(warning, "BudgetHealthy")?.message).toMatch(/^availability consumed 9\d(\.\d)? % of its 1m budget \(warn at 90 %, freeze at 100 %\)/);
    await waitFor("the Slack message", () => receiver.on("/slack").find((b) => String(b.text).includes("*Warning*")));
    expect((await events()).some((e) => e.reason === "BudgetLow" && e.type === "Warning")).toBe(true);
  });

  it("freezes at 100 %: the Deployment is paused and labelled, PagerDuty is paged", async () => {
    const frozen = await phase("Frozen");
    expect(condition(frozen, "DeploymentsFrozen")).toMatchObject({ status: "True", reason: "BudgetExhausted" });
    const d = await waitFor("the Deployment paused", async () => {
      const dep = await deployment();
      return dep.spec.paused ? dep : undefined;
    });
    expect(d.metadata.labels?.["tollgate.dev/frozen"]).toBe("true");
    expect(d.metadata.annotations?.["tollgate.dev/freeze-reason"]).toMatch(/availability consumed 1\d\d(\.\d)? % of its 1m budget/);
    const page = await waitFor("the PagerDuty trigger", () => receiver.on("/pd").find((b) => b.event_action === "trigger"));
    expect(page).toMatchObject({ routing_key: "routing-key-e2e", payload: expect.objectContaining({ severity: "critical", class: "Frozen" }) });
    expect(String(page.dedup_key)).toMatch(new RegExp(`^tollgate/${ns}/game-service/`));
    expect((await events()).some((e) => e.reason === "BudgetExhausted" && e.type === "Warning")).toBe(true);
    expect(receiver.on("/webhook").map((b) => b.event)).toEqual(["Warning", "Frozen"]);
  });

  it("refuses an image update by kubectl with the policy's message", async () => {
    const res = await kubectl(["-n", ns, "set", "image", "deployment/game-service", "app=registry.example/game-service:2.0.1"]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("Deployment game-service is frozen by PerformanceProfile game-service: availability consumed");
    expect(res.stderr).toContain("New pod templates do not roll out until the freeze lifts");
  });

  it("reports the budget the simulator's counters give, to the hundredth of a point", async () => {
    // Steady at 0.6 % errors for a full window: consumption is 120 %, by Prometheus and by hand.
    const since = Date.now();
    await sleep(Math.max(0, WINDOW_S * 1_000 + 5_000 - (since - snapshots.find((s) => s.view.params.errorRatio === 0.006)!.at)));
    const s = await status();
    const slo = s.slos?.find((x) => x.name === "availability");
    // The counters exactly as Prometheus held them at the instant of that evaluation (Tollgate queries at
    // the time it records as lastEvaluated), over the SLO's window: the samples its rate() saw.
    const at = new Date(slo!.lastEvaluated!);
    const series = await promRawSamples(`istio_requests_total{destination_workload="game-service",destination_workload_namespace="${ns}",reporter="destination"}`, WINDOW_S, at);
    // One scrape takes every series of the simulator at once, so they share their first and last sample
    // times, and rate()'s extrapolation scales errors and requests alike: the ratio is the ratio of the
    // increases between those samples.
    const span = (x: Series) => `${x.samples[0]![0]}-${x.samples.at(-1)![0]}`;
    expect(new Set(series.map(span)).size).toBe(1);
    const increase = (x: Series) => x.samples.at(-1)![1] - x.samples[0]![1];
    const errors = series.filter((x) => /^5..$/.test(x.metric.response_code ?? "")).reduce((sum, x) => sum + increase(x), 0);
    const total = series.reduce((sum, x) => sum + increase(x), 0);
    const byHand = (100 * errors) / total / BUDGET;
    process.stdout.write(
      `budget consumed: status ${slo!.consumedPercent} % (evaluated ${((Date.now() - at.getTime()) / 1000).toFixed(1)} s ago), ` +
        `by hand ${byHand.toFixed(4)} % (${errors}/${total} between the samples of ${span(series[0]!)})\n`,
    );
    // Status keeps two decimals, truncated; 1e-6 covers float rounding in Prometheus and here.
    expect(byHand - slo!.consumedPercent!).toBeGreaterThanOrEqual(-1e-6);
    expect(byHand - slo!.consumedPercent!).toBeLessThan(0.01 + 1e-6);
  });

  it("rolls back to the last known good template at 150 % while burning, and the rollout completes", { timeout: 240_000 }, async () => {
    await sim.setWorkload(ns, "game-service", { errorRatio: 0.01 });
    const rolled = await waitFor("the rollback", async () => {
      const s = await status();
      return s.rollback ? s : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    expect(condition(rolled, "RolledBack")?.status).toBe("True");
    expect(rolled.rollback?.from).toBe(2);
    process.stdout.write(`rolled back: ${JSON.stringify(rolled.rollback)}, phase ${rolled.phase}\n`);
    await waitFor("the rollout to finish on v1's template", async () => {
      const d = await deployment();
      return d.spec.template.spec.containers[0]?.image === "registry.example/game-service:1.0.0" ? d : undefined;
    });
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=90s"]);
    // Back on v1 the errors drop to 0.45 %: consumption settles at 90 %, between the unfreeze and the
    // freeze levels, so the freeze holds (hysteresis) through the next two tests.
    await sim.setWorkload(ns, "game-service", { errorRatio: 0.0045 });
    const after = await waitFor("re-frozen after the rollout", async () => {
      const [s, d] = await Promise.all([status(), deployment()]);
      return s.phase === "Frozen" && d.spec.paused ? { s, d } : undefined;
    }).catch(async (err: unknown) => {
      const [s, d] = await Promise.all([status(), deployment()]);
      throw new Error(`${String(err)}; phase ${s.phase}, paused ${d.spec.paused}, conditions ${JSON.stringify(s.conditions?.map((c) => [c.type, c.status, c.reason]))}`);
    });
    expect(after.d.metadata.labels?.["tollgate.dev/frozen"]).toBe("true");
    await waitFor("the RolledBack page", () => receiver.on("/pd").find((b) => (b.payload as { class?: string } | undefined)?.class === "RolledBack"));
    const evs = await events();
    expect(evs.some((e) => e.reason === "RolledBack" && e.type === "Warning")).toBe(true);
    expect(evs.some((e) => e.reason === "RollbackComplete")).toBe(true);
  });

  it("causes no action while Prometheus is down, says MetricsAvailable=False, and recovers when it returns", async () => {
    const before = await status();
    const pagesBefore = receiver.received.length;
    const deploymentBefore = await deployment();
    expect(spawnSync("bash", [`${ROOT}/e2e/cluster/cluster.sh`, "stop", "prometheus"]).status).toBe(0);
    try {
      const down = await waitFor("MetricsAvailable=False", async () => {
        const s = await status();
        return condition(s, "MetricsAvailable")?.status === "False" ? s : undefined;
      }, { timeoutMs: 30_000 });
      expect(condition(down, "MetricsAvailable")?.reason).toBe("PrometheusUnavailable");
      expect(condition(down, "MetricsAvailable")?.message).toMatch(/unreachable/);
      await sleep(6_000); // three evaluation intervals without data
      const still = await status();
      expect(still.phase).toBe(before.phase);
      expect(still.freeze?.since).toBe(before.freeze?.since);
      expect(still.rollback).toEqual(before.rollback);
      const d = await deployment();
      expect(d.spec).toEqual(deploymentBefore.spec);
      expect(receiver.received.length).toBe(pagesBefore);
    } finally {
      expect(spawnSync("bash", [`${ROOT}/e2e/cluster/cluster.sh`, "up"]).status).toBe(0);
    }
    await waitFor("MetricsAvailable=True again", async () => {
      const s = await status();
      return condition(s, "MetricsAvailable")?.status === "True" ? s : undefined;
    }, { timeoutMs: 60_000 });
  });

  it("lets a frozen Deployment be updated under an override annotation until it expires", async () => {
    const expires = new Date(Date.now() + 20_000).toISOString().replace(/\.\d+Z$/, "Z");
    const override = JSON.stringify({ by: "alice", reason: "hotfix INC-42", expires });
    await kubectlOk(["-n", ns, "annotate", "pp", "game-service", `tollgate.dev/override-freeze=${override}`]);
    await waitFor("the override to lift the freeze", async () => {
      const [s, d] = await Promise.all([status(), deployment()]);
      return condition(s, "DeploymentsFrozen")?.reason === "FreezeOverridden" && !d.spec.paused ? s : undefined;
    });
    await kubectlOk(["-n", ns, "set", "image", "deployment/game-service", "app=registry.example/game-service:1.0.1"]);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
    expect((await status()).freeze?.override?.by).toBe("alice");
    // At expiry the freeze applies again, and kubectl is refused again.
    await waitFor("the freeze back after expiry", async () => {
      const d = await deployment();
      return d.spec.paused && d.metadata.labels?.["tollgate.dev/frozen"] === "true" ? d : undefined;
    }, { timeoutMs: 40_000 });
    const res = await kubectl(["-n", ns, "set", "image", "deployment/game-service", "app=registry.example/game-service:1.0.2"]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("is frozen by PerformanceProfile game-service");
    await kubectlOk(["-n", ns, "annotate", "pp", "game-service", "tollgate.dev/override-freeze-"]);
  });

  it("unfreezes below 70 %, resolves the page and posts to Slack", { timeout: 180_000 }, async () => {
    expect((await status()).phase).toBe("Frozen");
    await sim.setWorkload(ns, "game-service", { errorRatio: 0.001 });
    const unfrozen = await waitFor("the freeze to lift", async () => {
      const s = await status();
      return condition(s, "DeploymentsFrozen")?.reason === "Unfrozen" ? s : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    expect(unfrozen.budget!.consumedPercent).toBeLessThan(70);
    const d = await deployment();
    expect(d.spec.paused ?? false).toBe(false);
    expect(d.metadata.labels?.["tollgate.dev/frozen"]).toBeUndefined();
    const resolve = await waitFor("the PagerDuty resolve", () => receiver.on("/pd").find((b) => b.event_action === "resolve"));
    const trigger = receiver.on("/pd").find((b) => b.event_action === "trigger");
    expect(resolve.dedup_key).toBe(trigger?.dedup_key);
    await waitFor("the Slack Unfrozen message", () => receiver.on("/slack").find((b) => String(b.text).includes("*Unfrozen*")));
    await kubectlOk(["-n", ns, "set", "image", "deployment/game-service", "app=registry.example/game-service:1.1.0"]);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
    // One message per transition, never per cycle: the override lifted the freeze and its expiry froze again.
    expect(receiver.on("/webhook").map((b) => b.event)).toEqual(["Warning", "Frozen", "RolledBack", "Unfrozen", "Frozen", "Unfrozen"]);
  });
});
