import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { profileSpecSchema } from "../src/api/profile.ts";
import { renderRules } from "../src/cli/rules.ts";
import { BURN_ALERT, OPERATOR_ALERT_GROUP, profileAlertGroup } from "../src/slo/alerts.ts";
import type { SloProfile } from "../src/slo/plan.ts";
import { ERROR_RATIO_RECORD, type AlertingRule } from "../src/slo/rules.ts";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import { loadClusterEnv } from "./support/env.ts";
import { applyYaml, installCrds } from "./support/kubectl.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { minuteAvailabilitySpec, minuteAvailabilityYaml } from "./support/profiles.ts";
import { promQuery } from "./support/prometheus.ts";
import { sleep, waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";

// The burn-rate alerts on the test Prometheus. The operator writes each profile's alerts into its rules
// file beside its recording rules; with a one-minute SLO window every burn window scales onto the 10 s
// floor, so a service failing 10 % of requests (20× a 0.5 % budget) pages within seconds, and one
// failing 0.1 % (0.2×) never does. Prometheus's own /api/v1/alerts must show the page firing with the
// labels an Alertmanager routes on, and drop it once the burn stops. (That without a rules directory the
// alerts go into the profile's PrometheusRule, e2e/recording-rules.e2e.test.ts shows.)
const RATE = 1000;

/** The profile as the operator sees the one minuteAvailabilityYaml applies, defaults filled in. */
const sloProfile = (namespace: string, name: string): SloProfile => ({ namespace, name, spec: profileSpecSchema.parse(minuteAvailabilitySpec(name)) });

/** A rule as read back from YAML: either kind. */
interface ReadRule {
  record?: string;
  alert?: string;
  expr: string;
  labels: Record<string, string>;
}

interface RulesFile {
  groups: Array<{ name: string; interval?: string; rules: ReadRule[] }>;
}

interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing";
}

interface PromRuleGroup {
  name: string;
  rules: Array<{ name: string; type: "alerting" | "recording"; health: string }>;
}

async function prometheusApi<T>(path: string): Promise<T> {
  const res = await fetch(new URL(path, loadClusterEnv().PROMETHEUS_URL));
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== "success") throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.data;
}

const activeAlerts = async () => (await prometheusApi<{ alerts: PromAlert[] }>("/api/v1/alerts")).alerts;
const loadedGroups = async () => (await prometheusApi<{ groups: PromRuleGroup[] }>("/api/v1/rules")).groups;

describe("burn-rate alerts from the rules directory", () => {
  const env = loadClusterEnv();
  let ns: string;
  let sim: Simulator;
  let operator: OperatorProcess;
  const file = (name: string) => join(env.PROMETHEUS_RULES_DIR, `tollgate_${ns}_${name}.yaml`);
  const rules = (name: string): RulesFile | undefined => (existsSync(file(name)) ? (parse(readFileSync(file(name), "utf8")) as RulesFile) : undefined);
  const burnAlertsOf = async (name: string) => (await activeAlerts()).filter((a) => a.labels.alertname === BURN_ALERT && a.labels.namespace === ns && a.labels.profile === name);
  const generated = (name: string) => profileAlertGroup(sloProfile(ns, name)).group;

  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-alerts");
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    await sim.setWorkload(ns, "burning", { rate: RATE, errorRatio: 0.1 });
    await sim.setWorkload(ns, "steady", { rate: RATE, errorRatio: 0.001 });
    await applyYaml(deploymentYaml("burning", "registry.example/burning:1.0.0"), ns);
    await applyYaml(deploymentYaml("steady", "registry.example/steady:1.0.0"), ns);
    operator = startOperator([
      "--namespace", ns,
      "--prometheus-url", env.PROMETHEUS_URL,
      "--read-mode", "RecordingRules",
      "--rules-dir", env.PROMETHEUS_RULES_DIR,
    ]);
    await applyYaml(minuteAvailabilityYaml("burning") + "---\n" + minuteAvailabilityYaml("steady"), ns);
  });
  afterAll(async () => {
    await operator?.stop();
    await sim?.stop();
    await deleteOperatorNamespace(ns);
    for (const name of ["burning", "steady"]) rmSync(file(name), { force: true });
    // Let Prometheus drop the deleted groups and their alerts; best effort.
    await fetch(`${env.PROMETHEUS_URL}/-/reload`, { method: "POST" }).catch(() => undefined);
  });

  it("writes each profile's alert group into its rules file, after its recording rules", async () => {
    for (const name of ["burning", "steady"]) {
      const written = await waitFor(`${file(name)} with its alerts`, () => {
        const f = rules(name);
        return f?.groups.some((g) => g.name.endsWith("/alerts")) ? f : undefined;
      }, { timeoutMs: 30_000 });
      const names = written.groups.map((g) => g.name);
      expect(names.at(-1)).toBe(`tollgate/${ns}/${name}/alerts`);
      expect(names).toContain(`tollgate/${ns}/${name}`);
      expect(written.groups.at(-1)).toEqual(generated(name));
      // Every ratio an alert reads is recorded in the same file.
      const recorded = new Set(written.groups.flatMap((g) => g.rules).filter((r) => r.record === ERROR_RATIO_RECORD).map((r) => r.labels.window));
      for (const r of generated(name).rules) for (const m of r.expr.matchAll(/window="([^"]+)"/g)) expect(recorded).toContain(m[1]);
    }
  });

  it("has Prometheus page for the burning profile, with the labels to route it on", { timeout: 150_000 }, async () => {
    const pageRule = generated("burning").rules.find((r) => r.alert === BURN_ALERT && r.labels.severity === "page") as AlertingRule;
    expect(pageRule.labels).toEqual({ severity: "page", namespace: ns, profile: "burning", slo: "availability", long_window: "10s", short_window: "10s" });
    const page = await waitFor("the page firing", async () => (await burnAlertsOf("burning")).find((a) => a.state === "firing" && a.labels.severity === "page"), { timeoutMs: 120_000 });
    expect(page.labels).toEqual({ alertname: BURN_ALERT, ...pageRule.labels });
    expect(page.annotations).toEqual(pageRule.annotations);
    process.stdout.write(`page: ${page.annotations.summary}\n`);
    // 20× also passes the ticket's 1× on the same windows: both fire, and nothing else of this SLO burns.
    const firing = await waitFor("the ticket firing too", async () => {
      const alerts = (await burnAlertsOf("burning")).filter((a) => a.state === "firing");
      return alerts.length === 2 ? alerts : undefined;
    }, { timeoutMs: 30_000 });
    expect(firing.map((a) => a.labels.severity).sort()).toEqual(["page", "ticket"]);
  });

  it("has no burn alert for the steady profile, whose alerts Prometheus evaluates on a recorded ratio", async () => {
    // Loaded and evaluated, so the absence below is a verdict, not rules not yet read.
    await waitFor("steady's alerts evaluated", async () => {
      const group = (await loadedGroups()).find((g) => g.name === `tollgate/${ns}/steady/alerts`);
      return group && group.rules.length > 0 && group.rules.every((r) => r.type === "alerting" && r.health === "ok") ? group : undefined;
    }, { timeoutMs: 30_000 });
    const ratio = await waitFor("steady's recorded ratio", async () => (await promQuery(`${ERROR_RATIO_RECORD}{namespace="${ns}",profile="steady",window="10s"}`))[0], { timeoutMs: 30_000 });
    // 0.1 % of a 0.5 % budget: 0.2×.
    expect(ratio.value).toBeGreaterThan(0.0005);
    expect(ratio.value).toBeLessThan(0.002);
    await sleep(6_000);
    expect(await burnAlertsOf("steady")).toEqual([]);
  });

  it("drops the page once the burn stops", { timeout: 90_000 }, async () => {
    await sim.setWorkload(ns, "burning", { rate: RATE, errorRatio: 0 });
    // Both windows are 10 s: the page stops within a couple of evaluations after they are clean.
    await waitFor("no burn alert for the burning profile", async () => ((await burnAlertsOf("burning")).length === 0 ? true : undefined), { timeoutMs: 60_000 });
  });
});

describe("Tollgate's own alerts as `tollgate rules --operator` prints them", () => {
  const env = loadClusterEnv();
  const file = join(env.PROMETHEUS_RULES_DIR, "tollgate-e2e-operator-alerts.yaml");
  afterAll(async () => {
    rmSync(file, { force: true });
    await fetch(`${env.PROMETHEUS_URL}/-/reload`, { method: "POST" }).catch(() => undefined);
  });

  it("load into Prometheus and evaluate", async () => {
    writeFileSync(file, renderRules([], { operator: true, output: "yaml", tile: null, labels: {}, namespace: undefined }));
    const reload = await fetch(`${env.PROMETHEUS_URL}/-/reload`, { method: "POST" });
    expect(reload.status, await reload.text()).toBe(200);
    const group = await waitFor("the operator alerts evaluated", async () => {
      const g = (await loadedGroups()).find((x) => x.name === OPERATOR_ALERT_GROUP);
      return g && g.rules.every((r) => r.health === "ok") ? g : undefined;
    }, { timeoutMs: 30_000 });
    expect(group.rules.map((r) => [r.name, r.type])).toEqual([
      ["TollgatePrometheusReadsFailing", "alerting"],
      ["TollgateReconcileErrors", "alerting"],
      ["TollgateProfileFrozenLong", "alerting"],
    ]);
  });
});
