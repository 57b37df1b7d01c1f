import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ABSENT_ALERT, BURN_ALERT } from "../src/slo/alerts.ts";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import { loadClusterEnv } from "./support/env.ts";
import { applyYaml, installCrds, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { minuteAvailabilityYaml } from "./support/profiles.ts";
import { sleep, waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";

// Two profiles in RecordingRules mode with their rules as files in the test Prometheus's rules
// directory (it runs no prometheus-operator, so a PrometheusRule would load nowhere): both must read
// the right budget from the recorded series, and the operator must read them together, two queries
// per batch rather than per profile.
const RATE = 1000;
const WINDOW_MS = 60_000;

interface ProfileStatus {
  phase?: string;
  budget?: { consumedPercent: number };
  slos?: Array<{ name: string; consumedPercent?: number; verdict: string; lastEvaluated?: string }>;
  conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
}


function counter(metrics: string, name: string, labels: string): number {
  const line = metrics.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("recording-rule mode with a rules directory", () => {
  const env = loadClusterEnv();
  let ns: string;
  let sim: Simulator;
  let operator: OperatorProcess;
  let trafficSince = 0;
  const files: string[] = [];

  const status = async (name: string) => (await kubectlJson<{ status?: ProfileStatus }>(["-n", ns, "get", "pp", name])).status ?? {};
  const consumed = async (name: string) => (await status(name)).slos?.find((s) => s.name === "availability")?.consumedPercent;
  const queries = async () => {
    const { body } = await operator.http("/metrics");
    return { recorded: counter(body, "tollgate_prometheus_queries_total", 'mode="RecordingRules"'), direct: counter(body, "tollgate_prometheus_queries_total", 'mode="Direct"') };
  };

  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-rules");
    files.push(join(env.PROMETHEUS_RULES_DIR, `tollgate_${ns}_steady.yaml`), join(env.PROMETHEUS_RULES_DIR, `tollgate_${ns}_burning.yaml`));
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    await sim.setWorkload(ns, "steady", { rate: RATE, errorRatio: 0.001 });
    await sim.setWorkload(ns, "burning", { rate: RATE, errorRatio: 0.006 });
    trafficSince = Date.now();
    await applyYaml(deploymentYaml("steady", "registry.example/steady:1.0.0"), ns);
    await applyYaml(deploymentYaml("burning", "registry.example/burning:1.0.0"), ns);
    operator = startOperator([
      "--namespace", ns,
      "--prometheus-url", env.PROMETHEUS_URL,
      "--read-mode", "RecordingRules",
      "--rules-dir", env.PROMETHEUS_RULES_DIR,
    ]);
    await applyYaml(minuteAvailabilityYaml("steady") + "---\n" + minuteAvailabilityYaml("burning"), ns);
  });
  afterAll(async () => {
    await operator?.stop();
    await sim?.stop();
    await deleteOperatorNamespace(ns);
    for (const f of files) rmSync(f, { force: true });
    // Let Prometheus drop the deleted groups; best effort.
    await fetch(`${env.PROMETHEUS_URL}/-/reload`, { method: "POST" }).catch(() => undefined);
  });

  it("writes one rules file per profile", async () => {
    for (const f of files) await waitFor(`${f} to exist`, () => (existsSync(f) ? true : undefined), { timeoutMs: 30_000 });
    const text = readFileSync(files[0]!, "utf8");
    expect(text).toContain("tollgate_slo:error_ratio:rate");
    expect(text).toContain(`namespace: ${ns}`);
    expect(text).toContain("profile: steady");
  });

  it("reads both budgets from the recorded series: ≈20 % and ≈120 % once the window is full", { timeout: 180_000 }, async () => {
    await sleep(Math.max(0, trafficSince + WINDOW_MS + 10_000 - Date.now()));
    const [steady, burning] = await waitFor("both profiles measured", async () => {
      const [a, b] = await Promise.all([consumed("steady"), consumed("burning")]);
      return a !== undefined && b !== undefined ? [a, b] : undefined;
    }, { timeoutMs: 60_000 });
    process.stdout.write(`recorded budgets: steady ${steady} %, burning ${burning} %\n`);
    expect(Math.abs(steady - 20)).toBeLessThan(2);
    expect(Math.abs(burning - 120)).toBeLessThan(2);
    expect((await status("steady")).phase).toBe("Healthy");
  });

  it("freezes the burning Deployment", async () => {
    await waitFor("burning paused", async () => {
      const d = await kubectlJson<{ spec: { paused?: boolean } }>(["-n", ns, "get", "deployment", "burning"]);
      return d.spec.paused ? d : undefined;
    });
    expect((await status("burning")).phase).toBe("Frozen");
    const steady = await kubectlJson<{ spec: { paused?: boolean } }>(["-n", ns, "get", "deployment", "steady"]);
    expect(steady.spec.paused ?? false).toBe(false);
  });

  it("reads both profiles with two queries per batch, not two per profile", async () => {
    const before = await queries();
    const t0 = Date.now();
    await sleep(20_000);
    const after = await queries();
    const seconds = (Date.now() - t0) / 1000;
    const recorded = after.recorded - before.recorded;
    // Two profiles every 2 s read one by one would be 2 × 2 queries per 2 s; batched, 2 per 2 s.
    const perCycle = recorded / (seconds / 2);
    process.stdout.write(`recorded-mode queries: ${recorded} in ${seconds.toFixed(1)} s = ${perCycle.toFixed(2)} per 2 s cycle for 2 profiles; direct ${after.direct - before.direct}\n`);
    expect(after.direct - before.direct).toBe(0);
    expect(recorded).toBeGreaterThan(0);
    expect(perCycle).toBeLessThanOrEqual(2.6);
  });
});

describe("recording-rule mode without a rules directory", () => {
  const env = loadClusterEnv();
  let ns: string;
  let operator: OperatorProcess;

  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-prule");
    await applyYaml(deploymentYaml("svc", "registry.example/svc:1.0.0"), ns);
    operator = startOperator(["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL, "--read-mode", "RecordingRules"]);
    await applyYaml(minuteAvailabilityYaml("svc"), ns);
  });
  afterAll(async () => {
    await operator?.stop();
    await deleteOperatorNamespace(ns);
  });

  it("applies a PrometheusRule owned by the profile", async () => {
    const uid = (await kubectlJson<{ metadata: { uid: string } }>(["-n", ns, "get", "pp", "svc"])).metadata.uid;
    const rule = await waitFor("the PrometheusRule", () =>
      kubectlJson<{
        metadata: { ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }>; managedFields?: Array<{ manager: string }> };
        spec: { groups: Array<{ name: string; rules: Array<{ record?: string; alert?: string; labels: Record<string, string> }> }> };
      }>(["-n", ns, "get", "prometheusrule", "svc-tollgate-slos", "--show-managed-fields"]),
    );
    expect(rule.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "PerformanceProfile", name: "svc", uid, controller: true })]);
    expect(rule.metadata.managedFields?.some((f) => f.manager === "tollgate")).toBe(true);
    expect(rule.spec.groups[0]?.name).toBe(`tollgate/${ns}/svc`);
    expect(rule.spec.groups[0]?.rules.some((r) => r.record === "tollgate_slo:events:increase" && r.labels.profile === "svc")).toBe(true);
    // The alerts that read those rules come last, in a group of their own.
    const alerts = rule.spec.groups.at(-1);
    expect(alerts?.name).toBe(`tollgate/${ns}/svc/alerts`);
    expect(new Set(alerts?.rules.map((r) => `${r.alert}/${r.labels.slo}`))).toEqual(new Set([`${BURN_ALERT}/availability`, `${ABSENT_ALERT}/availability`]));
    // No series recorded (nothing loads the object here): no data, never a spec error.
    const s = await waitFor("a status", async () => {
      const st = (await kubectlJson<{ status?: ProfileStatus }>(["-n", ns, "get", "pp", "svc"])).status;
      return st?.conditions?.length ? st : undefined;
    });
    expect(s.conditions?.find((c) => c.type === "Ready")?.reason).not.toBe("InvalidSpec");
    await kubectlOk(["-n", ns, "get", "prometheusrule", "svc-tollgate-slos"]);
  });
});
