import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardQueries, interpolate, labelValuesQuery, type Dashboard, type QueryVariable } from "../src/dashboard/grafana.ts";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import { removeTargetsFile, writeTargetsFile } from "./simulator/targets-file.ts";
import { loadClusterEnv, ROOT } from "./support/env.ts";
import { applyYaml, installCrds, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { promQuery } from "./support/prometheus.ts";
import { waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";

// The Grafana dashboard against the test Prometheus while Tollgate runs. The test cluster's Prometheus
// scrapes only what registers in its file_sd directory, so the suite registers the operator's /metrics
// there, as the simulator registers itself. Two profiles give every panel something to show: one that
// burns 20× its budget and freezes (phase and action annotations), one with a canary that a new image
// sets moving (the canary weight), both in RecordingRules mode (the recorded-series panels). Then each
// query of dashboards/tollgate.json, with its variables put in as Grafana would for this namespace, this
// operator and both profiles, must parse and return series, as Grafana asks for it: a range query over
// the suite's run, or an instant query for the panels that show now.

const DASHBOARD = JSON.parse(readFileSync(join(ROOT, "dashboards/tollgate.json"), "utf8")) as Dashboard;
const PROFILES = ["burning", "game-service"];
const STEP_S = 2;

const burningYaml = `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: burning}
spec:
  targetRef: {name: burning}
  slos:
    - {name: availability, objective: 99.5, window: 1m, indicator: {istio: {kind: availability}}}
  policy: {evaluationInterval: 2s, minEvents: 10}
`;

// The canary's own budget is an hour's, with no rollback, so only the canary moves.
const canaryYaml = `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: game-service}
spec:
  targetRef: {name: game-service}
  slos:
    - {name: availability, objective: 99.5, window: 1h, indicator: {istio: {kind: availability}}}
  policy: {evaluationInterval: 2s, minEvents: 20, rollback: {enabled: false}}
  canary:
    service: {name: game-service, port: 8080}
    stepWeight: 10
    maxWeight: 50
    interval: 10s
    maxBurnRate: 2
    failureLimit: 2
`;

interface ProfileStatus {
  phase?: string;
  canary?: { phase: string; weight: number; step: number };
}

interface PromAnswer<T> {
  status: string;
  errorType?: string;
  error?: string;
  data?: T;
}

/** What an instant or a range query answers, as far as this suite reads it: each series' labels. */
type QueryData = { resultType: string; result: Array<{ metric: Record<string, string> }> };

describe("the Grafana dashboard on the test Prometheus", () => {
  const env = loadClusterEnv();
  let ns: string;
  let job: string;
  let sim: Simulator;
  let operator: OperatorProcess;
  let targetsFile: string | undefined;
  let since = 0;

  const status = async (name: string) => (await kubectlJson<{ status?: ProfileStatus }>(["-n", ns, "get", "pp", name])).status ?? {};
  /** A query of the dashboard as Grafana sends it for this suite's namespace, profiles and operator. */
  const values = () => ({ namespace: ns, profile: PROFILES.join("|"), job, __rate_interval: "10s", __interval: `${STEP_S}s`, __range: "5m" });

  /** GET an API path of the test Prometheus; the answer whatever its status, so a refusal can be reported. */
  async function prometheus<T = QueryData>(path: string, params: Record<string, string>): Promise<PromAnswer<T>> {
    const url = new URL(path, env.PROMETHEUS_URL);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return (await (await fetch(url)).json()) as PromAnswer<T>;
  }

  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-dashboard");
    job = `tollgate-${ns}`;
    since = Date.now();
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    await sim.setWorkload(ns, "burning", { rate: 1000, errorRatio: 0.1 });
    await sim.setWorkload(ns, "game-service-primary", { rate: 200, errorRatio: 0 });
    await sim.setWorkload(ns, "game-service", { rate: 20, errorRatio: 0 });
    await applyYaml(deploymentYaml("burning", "registry.example/burning:1.0.0"), ns);
    await applyYaml(deploymentYaml("game-service", "registry.example/game-service:1.0.0"), ns);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
    operator = startOperator([
      "--namespace", ns,
      "--prometheus-url", env.PROMETHEUS_URL,
      "--read-mode", "RecordingRules",
      "--rules-dir", env.PROMETHEUS_RULES_DIR,
    ]);
    const port = await operator.metricsPort();
    targetsFile = writeTargetsFile(env.PROMETHEUS_TARGETS_DIR, port, `127.0.0.1:${port}`, job, "tollgate");
    await applyYaml(burningYaml + "---\n" + canaryYaml, ns);
  });

  afterAll(async () => {
    if (targetsFile) removeTargetsFile(targetsFile);
    await operator?.stop();
    await sim?.stop();
    await deleteOperatorNamespace(ns);
    for (const name of PROFILES) rmSync(join(env.PROMETHEUS_RULES_DIR, `tollgate_${ns}_${name}.yaml`), { force: true });
    // Let Prometheus drop the deleted groups; best effort.
    await fetch(`${env.PROMETHEUS_URL}/-/reload`, { method: "POST" }).catch(() => undefined);
  });

  it("has Prometheus scrape the operator's /metrics, with the profiles' namespace kept in namespace", async () => {
    await waitFor("the operator's target up", async () => ((await promQuery(`up{job="${job}"}`))[0]?.value === 1 ? true : undefined), { timeoutMs: 30_000 });
    // 0 until the operator has taken the leader lease.
    await waitFor("tollgate_leader 1 scraped", async () => ((await promQuery(`tollgate_leader{job="${job}"}`))[0]?.value === 1 ? true : undefined), { timeoutMs: 30_000 });
    // honor_labels, as the chart's monitors set it: the series' own namespace label wins over the target's.
    // One phase series per profile, whatever its phase.
    const phases = await waitFor("both profiles' phases scraped", async () => {
      const s = await promQuery(`tollgate_profile_phase{job="${job}"}`);
      return s.length === PROFILES.length ? s : undefined;
    }, { timeoutMs: 60_000 });
    expect(phases.map((s) => [s.metric.namespace, s.metric.profile]).sort()).toEqual(PROFILES.map((p) => [ns, p]));
  });

  it("exports the canary's weight as the VirtualService carries it", { timeout: 180_000 }, async () => {
    await waitFor("the canary set up", async () => {
      const s = await status("game-service");
      return s.canary?.phase === "Waiting" ? s : undefined;
    }, { timeoutMs: 90_000 });
    await kubectlOk(["-n", ns, "set", "image", "deployment/game-service", "app=registry.example/game-service:2.0.0"]);
    // The weight steps every 10 s; Prometheus scrapes every second, so they agree between steps.
    const seen = await waitFor("Prometheus and the VirtualService on the same weight above 0", async () => {
      const vs = await kubectl(["-n", ns, "get", "virtualservice", "game-service", "-o", "json"]);
      if (vs.code !== 0) return undefined;
      const route = (JSON.parse(vs.stdout) as { spec: { http: Array<{ route: Array<{ destination: { subset: string }; weight: number }> }> } }).spec.http[0]?.route ?? [];
      const routed = route.find((r) => r.destination.subset === "canary")?.weight ?? 0;
      const exported = (await promQuery(`tollgate_canary_weight{job="${job}",namespace="${ns}",profile="game-service"}`))[0]?.value;
      return routed > 0 && exported === routed ? routed : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    // A step of stepWeight, the VirtualService's number exactly, not a share computed elsewhere.
    expect(seen % 10).toBe(0);
  });

  it("sees the burning profile freeze: its phase and its action in Prometheus", async () => {
    await waitFor("burning frozen", async () => ((await status("burning")).phase === "Frozen" ? true : undefined), { timeoutMs: 90_000 });
    await waitFor("the Frozen phase scraped", async () => ((await promQuery(`tollgate_profile_phase{job="${job}",namespace="${ns}",profile="burning",phase="Frozen"}`))[0]?.value === 1 ? true : undefined), {
      timeoutMs: 30_000,
    });
    const freeze = await waitFor("the freeze action scraped", async () => (await promQuery(`tollgate_actions_total{job="${job}",namespace="${ns}",profile="burning",action="freeze"}`))[0], { timeoutMs: 30_000 });
    expect(freeze.value).toBeGreaterThanOrEqual(1);
  });

  it("offers this namespace, both profiles and this operator in its variables", async () => {
    const want: Record<string, string[]> = { namespace: [ns], profile: PROFILES, job: [job] };
    const variables = DASHBOARD.templating.list.filter((v): v is QueryVariable => v.type === "query");
    expect(variables.map((v) => v.name).sort()).toEqual(Object.keys(want).sort());
    for (const v of variables) {
      const { selector, label } = labelValuesQuery(v.query);
      const answer = await prometheus<string[]>(`/api/v1/label/${label}/values`, { "match[]": interpolate(selector, { namespace: ns }), start: String(since / 1000) });
      expect(answer.status, `${v.name}: ${answer.error ?? ""}`).toBe("success");
      for (const value of want[v.name] ?? []) expect(answer.data, `$${v.name}`).toContain(value);
    }
  });

  it("runs every panel's and annotation's query: each parses and returns series", { timeout: 180_000 }, async () => {
    const queries = dashboardQueries(DASHBOARD).map((q) => ({ ...q, expr: interpolate(q.expr, values()) }));
    expect(queries.length).toBeGreaterThan(20);
    const problems = new Map<string, string>();
    const pending = new Set(queries.map((q) => q.where));
    // The rate windows and the recorded series take some scrapes and rule evaluations to fill: ask again
    // until every query has series, for at most two minutes. A query Prometheus refuses fails at once.
    await waitFor("every query to return series", async () => {
      const end = Date.now() / 1000;
      for (const q of queries.filter((x) => pending.has(x.where))) {
        const answer = q.instant
          ? await prometheus("/api/v1/query", { query: q.expr, time: String(end) })
          : await prometheus("/api/v1/query_range", { query: q.expr, start: String(Math.floor(since / 1000)), end: String(end), step: String(STEP_S) });
        if (answer.status !== "success") {
          problems.set(q.where, `${answer.errorType ?? "error"}: ${answer.error ?? ""} in ${q.expr}`);
          pending.delete(q.where);
          continue;
        }
        const series = answer.data?.result ?? [];
        if (series.length === 0) {
          problems.set(q.where, `no series for ${q.expr}`);
          continue;
        }
        // Per-profile series belong to this suite's namespace: the selection took.
        const foreign = series.filter((s) => s.metric.namespace !== undefined && s.metric.namespace !== ns);
        if (foreign.length > 0) problems.set(q.where, `series of other namespaces: ${JSON.stringify(foreign.map((s) => s.metric))}`);
        else problems.delete(q.where);
        pending.delete(q.where);
      }
      return pending.size === 0 ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 2_000 }).catch(() => undefined);
    expect(Object.fromEntries(problems)).toEqual({});
    expect([...pending]).toEqual([]);
  });

  it("shows the freeze as an action and the Frozen phase as a region, for the burning profile", async () => {
    const range = { start: String(Math.floor(since / 1000)), end: String(Date.now() / 1000), step: String(STEP_S) };
    const annotation = (name: string) => interpolate(DASHBOARD.annotations.list.find((a) => a.name === name)?.expr ?? "", values());
    const actions = await prometheus("/api/v1/query_range", { query: annotation("Actions"), ...range });
    expect(actions.data?.result.map((s) => s.metric)).toContainEqual({ namespace: ns, profile: "burning", action: "freeze" });
    const phases = await prometheus("/api/v1/query_range", { query: annotation("Phase"), ...range });
    expect(phases.data?.result.map((s) => [s.metric.profile, s.metric.phase])).toContainEqual(["burning", "Frozen"]);
  });
});
