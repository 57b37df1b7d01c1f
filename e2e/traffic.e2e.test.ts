import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import { loadClusterEnv } from "./support/env.ts";
import { applyYaml, installCrds, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";

// Guard mode (no canary): the profile's circuit breaker and connection pool become the
// DestinationRule's trafficPolicy, its autoscaling the target's HPA, with the SLO boost. The seed's
// numbers: 5 errors / 30s / 30s / 50 %, pool 100 / 64 / 1000 / 10 / 3, HPA 2–10 at 70 % CPU.

const PROFILE = `apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: game-service}
spec:
  targetRef: {name: game-service}
  slos:
    - {name: latency-p95, objective: 95, window: 1h, indicator: {istio: {kind: latency, threshold: 100ms}}}
  policy: {evaluationInterval: 2s, minEvents: 20, rollback: {enabled: false}}
  trafficPolicy:
    circuitBreaker: {consecutiveErrors: 5, interval: 30s, baseEjectionTime: 30s, maxEjectionPercent: 50}
    connectionPool: {maxConnections: 100, http1MaxPendingRequests: 64, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3}
  autoscaling:
    minReplicas: 2
    maxReplicas: 10
    cpuUtilization: 70
    memoryUtilization: 80
    behavior: {scaleUpStabilization: 30s, scaleDownStabilization: 300s}
    sloBoost: {minCpuUtilization: 50, step: 10, coolDown: 10s}
`;

interface DestinationRule {
  spec: { host: string; subsets?: unknown[]; trafficPolicy?: { outlierDetection?: Record<string, unknown>; connectionPool?: unknown; loadBalancer?: unknown } };
}
interface Hpa {
  spec: {
    scaleTargetRef: { name: string };
    minReplicas: number;
    maxReplicas: number;
    metrics: Array<{ resource: { name: string; target: { averageUtilization: number } } }>;
    behavior: { scaleUp: { stabilizationWindowSeconds: number }; scaleDown: { stabilizationWindowSeconds: number } };
  };
}

describe("traffic policy and autoscaling from the profile, without a canary", () => {
  let ns: string;
  let sim: Simulator;
  let operator: OperatorProcess;
  const dr = () => kubectlJson<DestinationRule>(["-n", ns, "get", "destinationrule", "game-service"]);
  const hpa = () => kubectlJson<Hpa>(["-n", ns, "get", "hpa", "game-service"]);
  const cpu = (h: Hpa) => h.spec.metrics.find((m) => m.resource.name === "cpu")?.resource.target.averageUtilization;
  const cpuTarget = async () => (await kubectlJson<{ status?: { autoscaling?: { cpuTarget: number } } }>(["-n", ns, "get", "pp", "game-service"])).status?.autoscaling?.cpuTarget;

  beforeAll(async () => {
    await installCrds();
    const env = loadClusterEnv();
    ns = await createOperatorNamespace("e2e-traffic");
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    await sim.setWorkload(ns, "game-service", { rate: 200, latencies: [{ ms: 50, weight: 1 }] });
    await applyYaml(deploymentYaml("game-service", "registry.example/game-service:1.0.0"), ns);
    operator = startOperator(["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL]);
    await applyYaml(PROFILE, ns);
  }, 120_000);
  afterAll(async () => {
    await operator?.stop();
    await sim?.stop();
    await deleteOperatorNamespace(ns);
  });

  it("writes the DestinationRule and the HPA the profile describes", async () => {
    const rule = await waitFor("the DestinationRule", () => dr());
    expect(rule.spec).toEqual({
      host: "game-service",
      trafficPolicy: {
        outlierDetection: { consecutive5xxErrors: 5, interval: "30s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
        connectionPool: { tcp: { maxConnections: 100 }, http: { http1MaxPendingRequests: 64, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3 } },
      },
    });
    const h = await waitFor("the HPA", () => hpa());
    expect(h.spec.scaleTargetRef.name).toBe("game-service");
    expect([h.spec.minReplicas, h.spec.maxReplicas]).toEqual([2, 10]);
    expect(h.spec.metrics.map((m) => [m.resource.name, m.resource.target.averageUtilization])).toEqual([["cpu", 70], ["memory", 80]]);
    expect([h.spec.behavior.scaleUp.stabilizationWindowSeconds, h.spec.behavior.scaleDown.stabilizationWindowSeconds]).toEqual([30, 300]);
    expect(await waitFor("status.autoscaling", () => cpuTarget())).toBe(70);
  });

  it("follows a profile change, drops what the profile dropped, and keeps another manager's fields", async () => {
    // Argo CD owns the load balancer of the same DestinationRule.
    await kubectlOk(
      ["apply", "-n", ns, "--server-side", "--field-manager=argocd-controller", "-f", "-"],
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: game-service}
spec:
  host: game-service
  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
`,
    );
    await kubectlOk([
      "-n", ns, "patch", "pp", "game-service", "--type", "merge",
      "-p", JSON.stringify({ spec: { trafficPolicy: { circuitBreaker: { maxEjectionPercent: 60 }, connectionPool: null }, autoscaling: { maxReplicas: 12 } } }),
    ]);
    const rule = await waitFor("the DestinationRule to follow", async () => {
      const r = await dr();
      return r.spec.trafficPolicy?.outlierDetection?.maxEjectionPercent === 60 && r.spec.trafficPolicy.connectionPool === undefined ? r : undefined;
    });
    expect(rule.spec.trafficPolicy?.loadBalancer).toEqual({ simple: "LEAST_REQUEST" });
    await waitFor("the HPA to follow", async () => ((await hpa()).spec.maxReplicas === 12 ? true : undefined));
  });

  it("puts hand edits back", async () => {
    let started = Date.now();
    await kubectlOk(["-n", ns, "patch", "destinationrule", "game-service", "--type", "merge", "-p", '{"spec":{"trafficPolicy":{"outlierDetection":{"consecutive5xxErrors":99}}}}']);
    await waitFor("consecutive5xxErrors restored", async () => ((await dr()).spec.trafficPolicy?.outlierDetection?.consecutive5xxErrors === 5 ? true : undefined), { intervalMs: 100 });
    const drMs = Date.now() - started;
    started = Date.now();
    await kubectlOk(["-n", ns, "patch", "hpa", "game-service", "--type", "merge", "-p", '{"spec":{"minReplicas":7}}']);
    await waitFor("minReplicas restored", async () => ((await hpa()).spec.minReplicas === 2 ? true : undefined), { intervalMs: 100 });
    const hpaMs = Date.now() - started;
    console.log(`hand edit restored: DestinationRule in ${drMs} ms, HPA in ${hpaMs} ms (evaluationInterval 2000 ms)`);
    // A deleted object comes back too.
    await kubectlOk(["-n", ns, "delete", "destinationrule", "game-service"]);
    await waitFor("the DestinationRule recreated", async () => ((await kubectl(["-n", ns, "get", "destinationrule", "game-service"])).code === 0 ? true : undefined));
  });

  it("lowers the CPU target step by step while latency burns, and restores it after the cool-down", async () => {
    await sim.setWorkload(ns, "game-service", { rate: 200, latencies: [{ ms: 500, weight: 1 }] });
    const seen: number[] = [];
    await waitFor("the CPU target at the floor", async () => {
      const t = await cpuTarget();
      if (t !== undefined && seen.at(-1) !== t) seen.push(t);
      return t === 50 ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    expect(seen).toEqual([70, 60, 50]);
    await waitFor("the HPA at 50 %", async () => (cpu(await hpa()) === 50 ? true : undefined));

    await sim.setWorkload(ns, "game-service", { rate: 200, latencies: [{ ms: 50, weight: 1 }] });
    const calm = Date.now();
    await waitFor("the CPU target restored", async () => ((await cpuTarget()) === 70 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
    // Calm needs the 10 s burn windows to clear, then the 10 s cool-down.
    expect(Date.now() - calm).toBeGreaterThanOrEqual(10_000);
    await waitFor("the HPA back at 70 %", async () => (cpu(await hpa()) === 70 ? true : undefined));
    const reasons = (await kubectlJson<{ items: Array<{ reason: string }> }>(["-n", ns, "get", "events"])).items.map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["AutoscalingBoosted", "AutoscalingRestored"]));
  }, 120_000);

  it("deletes the DestinationRule and the HPA when the profile drops them", async () => {
    await kubectlOk(["-n", ns, "patch", "pp", "game-service", "--type", "merge", "-p", JSON.stringify({ spec: { trafficPolicy: null, autoscaling: null } })]);
    await waitFor("the DestinationRule gone", async () => ((await kubectl(["-n", ns, "get", "destinationrule", "game-service"])).code !== 0 ? true : undefined));
    await waitFor("the HPA gone", async () => ((await kubectl(["-n", ns, "get", "hpa", "game-service"])).code !== 0 ? true : undefined));
    expect(await waitFor("status.autoscaling cleared", async () => ((await cpuTarget()) === undefined ? true : undefined))).toBe(true);
  });
});
