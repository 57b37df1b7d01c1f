import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import { loadClusterEnv } from "./support/env.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { applyYaml, installCrds, kubectlJson } from "./support/kubectl.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { promQuery } from "./support/prometheus.ts";
import { waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";
import type { Condition } from "./support/conditions.ts";

// A ratio SLO whose PromQL selects two workloads' series and does not sum them, on a Deployment with no
// traffic of its own. Tollgate sums the user's expressions itself, so such a profile used to be measured
// on the other workloads' errors and froze a Deployment that served nothing. It must be refused, naming
// the field and the series count, in both read modes, while the same query in sum(...) is measured as
// its author asked (and freezes its own target: the data would have frozen the refused one too) and a
// healthy profile beside them is served.

interface ProfileStatus {
  phase?: string;
  conditions?: Condition[];
}
interface Deployment {
  metadata: { labels?: Record<string, string> };
  spec: { paused?: boolean };
}

const errorsOf = (ns: string) =>
  `rate(istio_requests_total{destination_workload_namespace="${ns}",destination_workload=~"noisy-a|noisy-b",reporter="destination",response_code=~"5.."}[{{window}}])`;
const totalOf = (ns: string) =>
  `rate(istio_requests_total{destination_workload_namespace="${ns}",destination_workload=~"noisy-a|noisy-b",reporter="destination"}[{{window}}])`;

const ratioProfile = (name: string, target: string, errors: string, total: string) => `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: ${name}}
spec:
  targetRef: {name: ${target}}
  slos:
    - name: availability
      objective: 99.5
      window: 1m
      indicator:
        ratio:
          errors: '${errors}'
          total: '${total}'
  policy: {evaluationInterval: 2s, minEvents: 10}
`;

const healthyProfile = `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: healthy}
spec:
  targetRef: {name: steady}
  slos:
    - name: availability
      objective: 99.5
      window: 1m
      indicator: {istio: {kind: availability}}
  policy: {evaluationInterval: 2s, minEvents: 10}
`;

const MODES = [
  { mode: "Direct", args: () => [] as string[] },
  { mode: "RecordingRules", args: () => ["--read-mode", "RecordingRules", "--rules-dir", loadClusterEnv().PROMETHEUS_RULES_DIR] },
] as const;

describe.each(MODES)("a ratio query that returns several series, read $mode", ({ mode, args }) => {
  const env = loadClusterEnv();
  let ns: string;
  let sim: Simulator;
  let operator: OperatorProcess;

  const status = async (name: string) => (await kubectlJson<{ status?: ProfileStatus }>(["-n", ns, "get", "pp", name])).status ?? {};
  const condition = (s: ProfileStatus, type: string) => s.conditions?.find((c) => c.type === type);
  const deployment = (name: string) => kubectlJson<Deployment>(["-n", ns, "get", "deployment", name]);

  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace(mode === "Direct" ? "e2e-series" : "e2e-series-rules");
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    // Two workloads failing a fifth of their requests, and one within its budget.
    await sim.setWorkload(ns, "noisy-a", { rate: 200, errorRatio: 0.2 });
    await sim.setWorkload(ns, "noisy-b", { rate: 200, errorRatio: 0.2 });
    await sim.setWorkload(ns, "steady", { rate: 200, errorRatio: 0.001 });
    for (const name of ["idle", "idle-summed", "steady"]) await applyYaml(deploymentYaml(name, "registry.example/app:1"), ns);
    // Both workloads' 5xx series are in Prometheus before any profile reads them.
    await waitFor("both workloads' error series", async () => ((await promQuery(errorsOf(ns).replace("{{window}}", "10s"))).length === 2 ? true : undefined), {
      timeoutMs: 30_000,
    });
    operator = startOperator(["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL, ...args()]);
    await applyYaml(
      [
        ratioProfile("unsummed", "idle", errorsOf(ns), totalOf(ns)),
        ratioProfile("summed", "idle-summed", `sum(${errorsOf(ns)})`, `sum(${totalOf(ns)})`),
        healthyProfile,
      ].join("---\n"),
      ns,
    );
  });
  afterAll(async () => {
    const code = await operator?.stop();
    await sim?.stop();
    await deleteOperatorNamespace(ns);
    for (const p of ["unsummed", "summed", "healthy"]) rmSync(join(env.PROMETHEUS_RULES_DIR, `tollgate_${ns}_${p}.yaml`), { force: true });
    if (mode === "RecordingRules") await fetch(`${env.PROMETHEUS_URL}/-/reload`, { method: "POST" }).catch(() => undefined);
    expect(code).toBe(0);
  });

  it("refuses the unsummed profile with Ready=False naming the field and the series count", { timeout: 120_000 }, async () => {
    const ready = await waitFor("Ready=False on the unsummed profile", async () => {
      const c = condition(await status("unsummed"), "Ready");
      return c?.status === "False" && c.reason === "InvalidSpec" ? c : undefined;
    }, { timeoutMs: 90_000 });
    expect(ready.message).toBe("spec.slos[0].indicator.ratio.errors: the query returned 2 series over the last 10s; wrap it in sum(...) so it returns one");
    const events = await kubectlJson<{ items: Array<{ reason: string; type: string; message: string }> }>([
      "-n", ns, "get", "events", "--field-selector", "involvedObject.name=unsummed",
    ]);
    expect(events.items.some((e) => e.type === "Warning" && e.reason === "InvalidSpec" && e.message.includes("returned 2 series"))).toBe(true);
  });

  it("measures the same query in sum(...) and freezes its target, as its author asked", { timeout: 120_000 }, async () => {
    await waitFor("idle-summed frozen", async () => ((await deployment("idle-summed")).spec.paused ? true : undefined), { timeoutMs: 90_000 });
    const s = await status("summed");
    expect(s.phase).toBe("Frozen");
    expect(condition(s, "Ready")?.reason).toBe("Reconciled");
  });

  it("serves the healthy profile beside them", async () => {
    const s = await waitFor("the healthy profile measured", async () => {
      const st = await status("healthy");
      return condition(st, "MetricsAvailable")?.reason === "Measured" ? st : undefined;
    });
    expect(s.phase).toBe("Healthy");
    expect(condition(s, "Ready")).toMatchObject({ status: "True", reason: "Reconciled" });
  });

  it("never froze the Deployment with no traffic of its own, while the same numbers froze the summed profile's", async () => {
    const idle = await deployment("idle");
    expect(idle.spec.paused ?? false).toBe(false);
    expect(idle.metadata.labels?.["tollgate.dev/frozen"]).toBeUndefined();
    const s = await status("unsummed");
    expect(s.phase).not.toBe("Frozen");
    expect(condition(s, "DeploymentsFrozen")?.status).not.toBe("True");
    expect(condition(s, "Ready")?.reason).toBe("InvalidSpec");
    expect(operator.logs().some((l) => l.level === 50 || l.level === 60)).toBe(false);
  });
});
