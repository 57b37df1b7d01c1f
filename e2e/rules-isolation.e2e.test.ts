import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import type { Condition } from "./support/conditions.ts";
import { loadClusterEnv } from "./support/env.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { applyYaml, installCrds, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";

// Two RecordingRules profiles sharing the test Prometheus's rules directory. One has a ratio indicator
// the API server admits and Prometheus parses on its own, but whose trailing "# comment" swallows the
// closing parenthesis of every rule Tollgate wraps it in. Prometheus refuses a reload as a whole when
// one rule file is bad, so that profile's rules must never land where they stop everyone's from loading:
// it is refused (Ready=False, RulesRejected, naming the problem), the other profile's rules load and it
// reads its budget, later rule changes keep loading, and Prometheus's reloads keep succeeding.

interface ProfileStatus {
  budget?: { consumedPercent: number };
  conditions?: Condition[];
}

const SELECTOR = (ns: string) => `destination_workload="bad",destination_workload_namespace="${ns}",reporter="destination"`;

const goodYaml = (window: string) => `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: good}
spec:
  targetRef: {name: good}
  slos:
    - name: availability
      objective: 99.5
      window: ${window}
      indicator: {istio: {kind: availability}}
  policy:
    evaluationInterval: 2s
    minEvents: 10
`;

const badYaml = (ns: string, comment: string) => `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: bad}
spec:
  targetRef: {name: bad}
  slos:
    - name: errors
      objective: 99.5
      window: 1m
      indicator:
        ratio:
          errors: 'sum(rate(istio_requests_total{${SELECTOR(ns)},response_code=~"5.."}[{{window}}]))${comment}'
          total: 'sum(rate(istio_requests_total{${SELECTOR(ns)}}[{{window}}]))'
  policy:
    evaluationInterval: 2s
    minEvents: 10
`;

describe("one profile's recording rules never stop another's from loading", () => {
  const env = loadClusterEnv();
  let ns: string;
  let sim: Simulator;
  let operator: OperatorProcess;
  const file = (name: string) => join(env.PROMETHEUS_RULES_DIR, `tollgate_${ns}_${name}.yaml`);

  const status = async (name: string) => (await kubectlJson<{ status?: ProfileStatus }>(["-n", ns, "get", "pp", name])).status ?? {};
  const condition = async (name: string, type: string) => (await status(name)).conditions?.find((c) => c.type === type);
  /** The labels of every rule Prometheus has loaded for a profile, from /api/v1/rules. */
  const loadedRules = async (name: string) => {
    const res = await fetch(`${env.PROMETHEUS_URL}/api/v1/rules?type=record`);
    const body = (await res.json()) as { data: { groups: Array<{ name: string; rules: Array<{ labels?: Record<string, string> }> }> } };
    return body.data.groups.filter((g) => g.name === `tollgate/${ns}/${name}`).flatMap((g) => g.rules.map((r) => r.labels ?? {}));
  };
  /** Prometheus's own gauge on its last reload: it does not scrape itself here, so read /metrics. */
  const lastReloadSuccessful = async () => {
    const text = await (await fetch(`${env.PROMETHEUS_URL}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith("prometheus_config_last_reload_successful "));
    return line === undefined ? undefined : Number(line.split(" ")[1]);
  };

  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-isolation");
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    await sim.setWorkload(ns, "good", { rate: 1000, errorRatio: 0.001 });
    await sim.setWorkload(ns, "bad", { rate: 1000, errorRatio: 0.001 });
    await applyYaml(deploymentYaml("good", "registry.example/good:1.0.0"), ns);
    await applyYaml(deploymentYaml("bad", "registry.example/bad:1.0.0"), ns);
    operator = startOperator(["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL, "--read-mode", "RecordingRules", "--rules-dir", env.PROMETHEUS_RULES_DIR]);
    // Both at once: their rules reach the directory within one reload.
    await applyYaml(badYaml(ns, " # server errors") + "---\n" + goodYaml("1m"), ns);
  });
  afterAll(async () => {
    await operator?.stop();
    await sim?.stop();
    await deleteOperatorNamespace(ns);
    for (const n of ["good", "bad"]) rmSync(file(n), { force: true });
    // Whatever happened here, leave Prometheus loading the directory as the next suite finds it.
    await fetch(`${env.PROMETHEUS_URL}/-/reload`, { method: "POST" }).catch(() => undefined);
  });

  it("the good profile's rules load and it reads its budget", { timeout: 120_000 }, async () => {
    await waitFor("the good profile's rules loaded by Prometheus", async () => ((await loadedRules("good")).length > 0 ? true : undefined), { timeoutMs: 45_000 });
    const s = await waitFor("a budget for the good profile", async () => {
      const st = await status("good");
      return st.budget !== undefined && st.conditions?.some((c) => c.type === "MetricsAvailable" && c.status === "True") ? st : undefined;
    }, { timeoutMs: 60_000 });
    expect(s.budget?.consumedPercent).toBeGreaterThanOrEqual(0);
    expect(s.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("the bad profile is refused with RulesRejected naming the problem, and its rules never reach the directory", async () => {
    const ready = await waitFor("the bad profile refused with RulesRejected", async () => {
      const c = await condition("bad", "Ready");
      return c?.reason === "RulesRejected" ? c : undefined;
    }, { timeoutMs: 30_000 });
    process.stdout.write(`bad profile: Ready=${ready.status} ${ready.reason}: ${ready.message}\n`);
    expect(ready.status).toBe("False");
    expect(ready.message).toMatch(/^spec\.slos\[0\]\.indicator: Prometheus cannot parse the recording rule tollgate_slo:\S+ of SLO errors .*parse error/);
    expect(existsSync(file("bad"))).toBe(false);
    expect(await loadedRules("bad")).toEqual([]);
  });

  it("later rule changes keep loading, and Prometheus's reloads keep succeeding", { timeout: 90_000 }, async () => {
    await kubectlOk(["-n", ns, "patch", "pp", "good", "--type=merge", "-p", JSON.stringify({ spec: { slos: [{ name: "availability", objective: 99.5, window: "2m", indicator: { istio: { kind: "availability" } } }] } })]);
    await waitFor("the good profile's new rules (window 2m) loaded", async () =>
      (await loadedRules("good")).some((l) => l.window === "2m") ? true : undefined, { timeoutMs: 45_000 });
    expect(await lastReloadSuccessful()).toBe(1);
    const info = (await (await fetch(`${env.PROMETHEUS_URL}/api/v1/status/runtimeinfo`)).json()) as { data: { reloadConfigSuccess: boolean } };
    expect(info.data.reloadConfigSuccess).toBe(true);
  });

  it("once fixed, the bad profile's rules load and the refusal is over", { timeout: 90_000 }, async () => {
    await applyYaml(badYaml(ns, ""), ns);
    await waitFor("the fixed profile's rules loaded", async () => ((await loadedRules("bad")).length > 0 ? true : undefined), { timeoutMs: 45_000 });
    await waitFor("the fixed profile no longer refused", async () => {
      const c = await condition("bad", "Ready");
      return c && c.reason !== "RulesRejected" ? c : undefined;
    }, { timeoutMs: 30_000 });
    expect(await lastReloadSuccessful()).toBe(1);
  });
});
