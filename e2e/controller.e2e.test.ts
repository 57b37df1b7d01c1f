import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyYaml, installCrds, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { waitFor } from "./support/wait.ts";
import { loadClusterEnv } from "./support/env.ts";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import { deploymentYaml } from "./support/workloads.ts";

interface Profile {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string; reason: string; observedGeneration?: number; lastTransitionTime: string }>;
  };
}

const profile = (target: string) => `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: game-service}
spec:
  targetRef: {name: ${target}}
  slos:
    - name: availability
      objective: 99.5
      window: 2m
      indicator: {istio: {kind: availability}}
  policy: {evaluationInterval: 2s, minEvents: 10}
`;

describe("tollgate controller", () => {
  let ns: string;
  let operator: OperatorProcess;
  let sim: Simulator;
  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-controller");
    sim = await startSimulator({ targetsDir: loadClusterEnv().PROMETHEUS_TARGETS_DIR });
    for (const name of ["game-service", "other"]) {
      await applyYaml(deploymentYaml(name, "registry.example/app:1"), ns);
      await sim.setWorkload(ns, name, { rate: 100, errorRatio: 0.001 });
    }
    operator = startOperator(["--namespace", ns, "--prometheus-url", loadClusterEnv().PROMETHEUS_URL]);
  });
  afterAll(async () => {
    const code = await operator?.stop();
    await sim?.stop();
    await deleteOperatorNamespace(ns);
    expect(code).toBe(0);
  });

  it("sets Ready=True with the observed generation on a profile", async () => {
    await applyYaml(profile("game-service"), ns);
    const ready = await waitFor("Ready=True once the SLO has data", async () => {
      const p = await kubectlJson<Profile>(["-n", ns, "get", "pp", "game-service"]);
      const c = p.status?.conditions?.find((x) => x.type === "Ready");
      return c?.status === "True" ? { p, c } : undefined;
    });
    expect(ready.c.reason).toBe("Reconciled");
    expect(ready.c.observedGeneration).toBe(ready.p.metadata.generation);
    expect(ready.p.status?.observedGeneration).toBe(ready.p.metadata.generation);
  });

  it("follows a spec change to the new generation, keeping lastTransitionTime while Ready holds", async () => {
    const before = await kubectlJson<Profile>(["-n", ns, "get", "pp", "game-service"]);
    const since = before.status?.conditions?.find((x) => x.type === "Ready")?.lastTransitionTime;
    await kubectlOk(["-n", ns, "patch", "pp", "game-service", "--type=merge", "-p", '{"spec":{"targetRef":{"name":"other"}}}']);
    const after = await waitFor("observedGeneration to follow", async () => {
      const p = await kubectlJson<Profile>(["-n", ns, "get", "pp", "game-service"]);
      return p.metadata.generation > before.metadata.generation && p.status?.observedGeneration === p.metadata.generation ? p : undefined;
    });
    const ready = after.status?.conditions?.find((x) => x.type === "Ready");
    // The whole condition in the failure: its reason and message say which check refused the profile.
    expect(ready?.status, JSON.stringify(ready)).toBe("True");
    expect(ready?.observedGeneration).toBe(after.metadata.generation);
    expect(ready?.lastTransitionTime).toBe(since);
  });
});

describe("a profile the API server admits but Prometheus cannot parse", () => {
  let ns: string;
  let operator: OperatorProcess;
  let sim: Simulator;
  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-invalid");
    sim = await startSimulator({ targetsDir: loadClusterEnv().PROMETHEUS_TARGETS_DIR });
    for (const name of ["checkout", "cart"]) await applyYaml(deploymentYaml(name, "registry.example/app:1"), ns);
    await sim.setWorkload(ns, "cart", { rate: 100, errorRatio: 0.001 });
    operator = startOperator(["--namespace", ns, "--prometheus-url", loadClusterEnv().PROMETHEUS_URL]);
  });
  afterAll(async () => {
    await operator?.stop();
    await sim?.stop();
    await deleteOperatorNamespace(ns);
  });

  it("is reported Ready=False with the field and Prometheus's parse error, while other profiles are served", async () => {
    await applyYaml(
      `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: broken-query}
spec:
  targetRef: {name: checkout}
  slos:
    - name: availability
      objective: 99.9
      indicator:
        ratio:
          errors: 'sum(rate(http_requests_total{code=~"5.."}[{{window}}])'
          total: 'sum(rate(http_requests_total[{{window}}]))'
---
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: healthy}
spec:
  targetRef: {name: cart}
  slos:
    - name: availability
      objective: 99.5
      window: 2m
      indicator: {istio: {kind: availability}}
  policy: {evaluationInterval: 2s, minEvents: 10}
`,
      ns,
    );
    const broken = await waitFor("Ready=False on the broken profile", async () => {
      const p = await kubectlJson<Profile>(["-n", ns, "get", "pp", "broken-query"]);
      const c = p.status?.conditions?.find((x) => x.type === "Ready");
      return c?.status === "False" ? c : undefined;
    });
    expect(broken.reason).toBe("InvalidSpec");
    expect((broken as { message?: string }).message).toMatch(/^spec\.slos\[0\]\.indicator\.ratio\.errors: PromQL does not parse: .*parse error/);
    const healthy = await waitFor("Ready=True on the healthy profile", async () => {
      const p = await kubectlJson<Profile>(["-n", ns, "get", "pp", "healthy"]);
      return p.status?.conditions?.find((x) => x.type === "Ready" && x.status === "True");
    });
    expect(healthy.reason).toBe("Reconciled");
    const events = await kubectlJson<{ items: Array<{ reason: string; type: string; involvedObject: { name: string }; message: string }> }>([
      "-n", ns, "get", "events", "--field-selector", "involvedObject.name=broken-query",
    ]);
    expect(events.items.some((e) => e.reason === "InvalidSpec" && e.type === "Warning" && e.message.includes("PromQL does not parse"))).toBe(true);

    // Fixing the query ends the refusal (this PromQL has no series here, so the profile waits for
    // data instead), and the operator kept running all along.
    await kubectlOk(["-n", ns, "patch", "pp", "broken-query", "--type=json", "-p",
      '[{"op":"replace","path":"/spec/slos/0/indicator/ratio/errors","value":"sum(rate(http_requests_total{code=~\\"5..\\"}[{{window}}]))"}]']);
    const fixed = await waitFor("the refusal to end after the fix", async () => {
      const p = await kubectlJson<Profile>(["-n", ns, "get", "pp", "broken-query"]);
      const c = p.status?.conditions?.find((x) => x.type === "Ready");
      return c && c.reason !== "InvalidSpec" ? c : undefined;
    });
    expect(fixed.reason).toBe("MetricsUnavailable");
    expect(operator.logs().some((l) => l.level === 50 || l.level === 60)).toBe(false);
  });
});
