import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { exportedMetricNames, RECORDED_SERIES, tollgateNamesIn } from "../metrics/exported.ts";
import { PHASES } from "../metrics/slo-metrics.ts";
import { HAS_PROMTOOL, PROMTOOL_TIMEOUT_MS, promtoolCheckRules } from "../slo/test-builders.ts";
import {
  dashboardJson,
  dashboardQueries,
  DATASOURCE,
  grafanaDashboard,
  interpolate,
  labelValuesQuery,
  variablesIn,
  type Dashboard,
  type QueryPanel,
  type QueryVariable,
} from "./grafana.ts";

// The dashboard as it ships: dashboards/tollgate.json, which must be what the generator prints, read
// back as Grafana reads it.
const FILE = new URL("../../dashboards/tollgate.json", import.meta.url);
const FIX = "run `npm run chart:render` (scripts/chart-render.sh) and commit the result";
const shipped = JSON.parse(readFileSync(FILE, "utf8")) as Dashboard;

const queryPanels = shipped.panels.filter((p): p is QueryPanel => p.type !== "row");
const queryVariables = shipped.templating.list.filter((v): v is QueryVariable => v.type === "query");
/** Grafana's own variables the expressions may use; everything else must be the dashboard's. */
const GRAFANA_VARIABLES = ["__rate_interval", "__interval", "__range"];
/** Values for every variable, as Grafana would put them in with All selected. */
const ALL: Record<string, string> = { namespace: ".*", profile: ".*", job: ".*", __rate_interval: "1m", __interval: "15s", __range: "6h" };

describe("the dashboard", () => {
  it("is in dashboards/tollgate.json as `tollgate dashboard` prints it", () => {
    expect(readFileSync(FILE, "utf8"), `dashboards/tollgate.json is stale: ${FIX}`).toBe(dashboardJson());
  });

  it("reads every panel, query, annotation and variable through the datasource variable", () => {
    expect(shipped.templating.list[0]).toMatchObject({ name: "datasource", type: "datasource", query: "prometheus" });
    expect(DATASOURCE.uid).toBe("${datasource}");
    expect(queryPanels.length).toBeGreaterThan(10);
    for (const p of queryPanels) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) expect(t.datasource, `${p.title} ${t.refId}`).toEqual({ type: "prometheus", uid: "${datasource}" });
    }
    for (const a of shipped.annotations.list) expect(a.datasource, a.name).toEqual({ type: "prometheus", uid: "${datasource}" });
    for (const v of queryVariables) expect(v.datasource, v.name).toEqual({ type: "prometheus", uid: "${datasource}" });
  });

  it("selects profiles by namespace and profile and the operator by job, from Tollgate's own series", () => {
    expect(queryVariables.map((v) => [v.name, v.query])).toEqual([
      ["namespace", "label_values(tollgate_profile_phase, namespace)"],
      ["profile", 'label_values(tollgate_profile_phase{namespace=~"$namespace"}, profile)'],
      ["job", "label_values(tollgate_leader, job)"],
    ]);
    // Every per-profile panel and annotation follows the selection.
    for (const q of dashboardQueries(shipped)) {
      if (/tollgate_(slo|profile|canary|actions)/.test(q.expr)) expect(q.expr, q.where).toContain('namespace=~"$namespace",profile=~"$profile"');
      else expect(q.expr, q.where).toContain('job=~"$job"');
    }
  });

  it("uses only its own variables and Grafana's", () => {
    const declared = new Set([...shipped.templating.list.map((v) => v.name), ...GRAFANA_VARIABLES]);
    const used = [...dashboardQueries(shipped).map((q) => q.expr), ...queryVariables.map((v) => v.query)].flatMap(variablesIn);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(declared, `$${name}`).toContain(name);
  });

  it("reads only series the operator exports or its recording rules record", () => {
    const known = new Set([...exportedMetricNames(), ...RECORDED_SERIES]);
    const exprs = [...dashboardQueries(shipped).map((q) => q.expr), ...queryVariables.map((v) => labelValuesQuery(v.query).selector)];
    for (const expr of exprs) {
      const names = tollgateNamesIn(expr);
      expect(names.length, `${expr} reads no series of Tollgate's`).toBeGreaterThan(0);
      for (const name of names) expect(known, `${name} in ${expr}`).toContain(name);
    }
    const read = new Set(exprs.flatMap(tollgateNamesIn));
    // The panels the issue asks for: budget, burn rates, phase, actions, canary weight, operator health.
    for (const name of [
      "tollgate_slo_budget_consumed_ratio",
      "tollgate_slo_burn_rate",
      "tollgate_profile_phase",
      "tollgate_actions_total",
      "tollgate_canary_weight",
      "tollgate_prometheus_queries_total",
      "tollgate_prometheus_query_errors_total",
      "tollgate_reconcile_errors_total",
      "tollgate_reconcile_duration_seconds_bucket",
      "tollgate_leader",
      "tollgate_slo:error_ratio:rate",
    ]) {
      expect(read, name).toContain(name);
    }
  });

  it("shows phases and actions as annotations", () => {
    expect(shipped.annotations.list.map((a) => [a.name, a.enable, a.titleFormat])).toEqual([
      ["Phase", true, "{{phase}}"],
      ["Actions", true, "{{action}}"],
    ]);
    expect(shipped.annotations.list[1]?.expr).toContain('action=~"freeze|unfreeze|rollback|promote"');
  });

  it("names every phase of tollgate_profile_phase in the phase timeline, by the code its query gives it", () => {
    const phase = queryPanels.find((p) => p.title === "Phase");
    const mappings = phase?.fieldConfig.defaults.mappings as Array<{ options: Record<string, { text: string }> }>;
    const byCode = Object.fromEntries(Object.entries(mappings[0]?.options ?? {}).map(([code, o]) => [code, o.text]));
    expect(byCode).toEqual(Object.fromEntries(PHASES.map((p, i) => [String(i + 1), p])));
    for (const [code, p] of Object.entries(byCode)) expect(phase?.targets[0]?.expr).toContain(`phase="${p}"} * ${code}`);
  });

  it("lays panels on the 24-column grid without overlaps, each with its own id", () => {
    const ids = shipped.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of shipped.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  it("interpolates variables as Grafana does, and refuses one without a value", () => {
    expect(interpolate('x{a=~"$namespace"}[$__rate_interval] ${job}', { namespace: "shop", __rate_interval: "1m", job: "t" })).toBe('x{a=~"shop"}[1m] t');
    expect(() => interpolate("x[$__range]", {})).toThrow(/no value for \$__range/);
    expect(grafanaDashboard().uid).toBe("tollgate");
  });
});

describe.skipIf(!HAS_PROMTOOL)("the dashboard's PromQL, by Prometheus's own parser", { timeout: PROMTOOL_TIMEOUT_MS }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tollgate-dashboard-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("parses every query and variable selector with the variables put in", async () => {
    // promtool has no command that parses a bare expression; as recording rules, check rules parses each.
    const exprs = [...dashboardQueries(shipped).map((q) => q.expr), ...queryVariables.map((v) => labelValuesQuery(v.query).selector)].map((e) => interpolate(e, ALL));
    const file = join(dir, "dashboard-rules.yaml");
    await writeFile(file, stringify({ groups: [{ name: "dashboard", rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }] }));
    expect(await promtoolCheckRules(file)).toContain(`SUCCESS: ${exprs.length} rules found`);
  });

  it("would have caught an expression that does not parse", async () => {
    const file = join(dir, "broken-rules.yaml");
    await writeFile(file, stringify({ groups: [{ name: "broken", rules: [{ record: "dashboard:broken", expr: "sum by (mode (rate(x[1m]))" }] }] }));
    await expect(promtoolCheckRules(file)).rejects.toThrow(/parse error/);
  });
});
