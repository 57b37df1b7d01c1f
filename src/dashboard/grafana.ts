import type { DeploymentAction } from "../kube/actuators/actions.ts";
import { PHASES } from "../metrics/slo-metrics.ts";
import { ERROR_RATIO_RECORD, EVENTS_RECORD } from "../slo/rules.ts";

/**
 * Tollgate's Grafana dashboard, built here rather than kept as hand-edited JSON so that its queries sit
 * beside the names the operator exports (the phases, the actions, the recorded series are the code's
 * own constants) and one test checks every name against the operator's registries. `tollgate dashboard`
 * prints it; dashboards/tollgate.json and the chart's copy are that output (scripts/chart-render.sh).
 *
 * Every panel reads through the `datasource` variable, so the same JSON works on any Grafana and any
 * Prometheus, imported by hand or provisioned by Grafana's dashboard sidecar from the chart's ConfigMap.
 */

export const DASHBOARD_UID = "tollgate";

/** Grafana's reference to the data source the `datasource` variable selects. */
export interface DatasourceRef {
  type: "prometheus";
  uid: string;
}

export const DATASOURCE: DatasourceRef = { type: "prometheus", uid: "${datasource}" };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Target {
  refId: string;
  datasource: DatasourceRef;
  expr: string;
  legendFormat: string;
  /** Grafana runs an instant query for the panel's time (a stat of now), else a range query. */
  instant: boolean;
  range: boolean;
  editorMode: "code";
}

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

export interface QueryPanel {
  id: number;
  type: "stat" | "state-timeline" | "timeseries" | "bargauge";
  title: string;
  description: string;
  gridPos: GridPos;
  datasource: DatasourceRef;
  targets: Target[];
  fieldConfig: { defaults: { [key: string]: Json }; overrides: Json[] };
  options: { [key: string]: Json };
}

export interface RowPanel {
  id: number;
  type: "row";
  title: string;
  collapsed: false;
  gridPos: GridPos;
  panels: [];
}

export type Panel = QueryPanel | RowPanel;

/** A Prometheus annotation: each run of steps where expr has a positive value is one annotation. */
export interface Annotation {
  name: string;
  datasource: DatasourceRef;
  enable: boolean;
  hide: boolean;
  iconColor: string;
  expr: string;
  titleFormat: string;
  textFormat: string;
  tagKeys: string;
  useValueForTime: false;
}

export interface DatasourceVariable {
  name: "datasource";
  label: string;
  type: "datasource";
  query: "prometheus";
  current: Record<string, never>;
  hide: 0;
  refresh: 1;
  regex: "";
  options: [];
}

export interface QueryVariable {
  name: string;
  label: string;
  type: "query";
  datasource: DatasourceRef;
  /** label_values(<selector>, <label>): Grafana's own function, not PromQL; the selector is PromQL. */
  query: string;
  definition: string;
  refresh: 2;
  multi: true;
  includeAll: true;
  allValue: ".*";
  current: { selected: true; text: ["All"]; value: ["$__all"] };
  sort: 1;
  hide: 0;
  regex: "";
  options: [];
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  editable: boolean;
  graphTooltip: 1;
  schemaVersion: number;
  version: 1;
  refresh: string;
  time: { from: string; to: string };
  timepicker: Record<string, never>;
  timezone: "";
  templating: { list: Array<DatasourceVariable | QueryVariable> };
  annotations: { list: Annotation[] };
  links: [];
  panels: Panel[];
}

// ---------------------------------------------------------------------------------------------------
// The selections every query shares

/** The profiles the namespace and profile variables select; regex matches, so All and several work. */
const PROFILES = 'namespace=~"$namespace",profile=~"$profile"';
/** The operator installs the job variable selects, for the panels about the operator itself. */
const OPERATOR = 'job=~"$job"';
/**
 * A replica that lost the lease keeps exporting the last profile gauges it set (only the leader
 * reconciles), so per-profile gauges count only where the same target leads, as the operator's
 * frozen-too-long alert does.
 */
const LEADING = "and on (job, instance) (tollgate_leader == 1)";
const RATE = "$__rate_interval";
/** Grafana has no unit for a multiple; a custom suffix it is. */
const BURN_UNIT = "suffix:×";

/** The actions worth a mark on every graph: the budget policy's and a canary's promotion. */
const ANNOTATED_ACTIONS: ReadonlyArray<DeploymentAction["op"]> = ["freeze", "unfreeze", "rollback", "promote"];

type Phase = (typeof PHASES)[number];
const PHASE_COLORS: Record<Phase, string> = {
  Healthy: "green",
  Warning: "orange",
  Frozen: "blue",
  RollingBack: "red",
  Progressing: "purple",
  Degraded: "dark-orange",
  Unknown: "text",
};

/**
 * Each profile's phase as one number (1 + its index in PHASES), for a state timeline: the phase gauge
 * has one series per profile, at 1, labelled with its current phase, so Σ code × value is that code.
 */
function phaseCodeExpr(): string {
  const terms = PHASES.map((p, i) => `tollgate_profile_phase{${PROFILES},phase="${p}"} * ${i + 1}`);
  return `sum by (namespace, profile) ((${terms.join(" or ")}) ${LEADING})`;
}

/**
 * Failures per second of a counter that only has series once something failed, with a 0 for each
 * `by` group that did work without failing, so a healthy operator draws a line at 0 instead of "No data".
 */
function failuresOrZero(failures: string, work: string, by: string, extra?: { label: string; value: string }): string {
  const zero = `0 * sum by (${by}) (rate(${work}[${RATE}]))`;
  const zeroLabelled = extra ? `label_replace(${zero}, "${extra.label}", "${extra.value}", "", "")` : zero;
  const failed = `sum by (${extra ? `${by}, ${extra.label}` : by}) (rate(${failures}[${RATE}]))`;
  return `${failed} or on (${by}) ${zeroLabelled}`;
}

const quantile = (q: number, histogram: string, by: string) => `histogram_quantile(${q}, sum by (${by}, le) (rate(${histogram}_bucket{${OPERATOR}}[${RATE}])))`;

// ---------------------------------------------------------------------------------------------------
// Panels

type PanelSpec = Omit<QueryPanel, "id" | "gridPos" | "datasource" | "targets"> & {
  w: number;
  h: number;
  targets: Array<{ expr: string; legendFormat: string; instant?: boolean }>;
};

const legendTable = (calcs: string[]): Json => ({ displayMode: "table", placement: "bottom", showLegend: true, calcs });
const tooltip: Json = { mode: "multi", sort: "desc" };

function timeseries(
  o: { title: string; description: string; unit: string; w: number; h?: number; min?: number; max?: number; stepped?: boolean; thresholds?: Array<[string, number]> },
  targets: PanelSpec["targets"],
): PanelSpec {
  const steps: Json[] = [{ color: "green", value: null }, ...(o.thresholds ?? []).map(([color, value]) => ({ color, value }))];
  return {
    type: "timeseries",
    title: o.title,
    description: o.description,
    w: o.w,
    h: o.h ?? 8,
    targets,
    fieldConfig: {
      defaults: {
        unit: o.unit,
        ...(o.min !== undefined ? { min: o.min } : {}),
        ...(o.max !== undefined ? { max: o.max } : {}),
        color: { mode: "palette-classic" },
        custom: {
          drawStyle: "line",
          lineInterpolation: o.stepped ? "stepAfter" : "linear",
          lineWidth: 1,
          fillOpacity: 0,
          showPoints: "never",
          spanNulls: false,
          thresholdsStyle: { mode: o.thresholds ? "dashed" : "off" },
        },
        thresholds: { mode: "absolute", steps },
      },
      overrides: [],
    },
    options: { legend: legendTable(["lastNotNull", "max"]), tooltip },
  };
}

const valueMappings = (entries: Array<[number, string, string]>): Json => [
  { type: "value", options: Object.fromEntries(entries.map(([value, text, color], index) => [String(value), { text, color, index }])) },
];

function stateTimeline(o: { title: string; description: string; w: number; h: number; mappings: Array<[number, string, string]> }, targets: PanelSpec["targets"]): PanelSpec {
  return {
    type: "state-timeline",
    title: o.title,
    description: o.description,
    w: o.w,
    h: o.h,
    targets,
    fieldConfig: {
      defaults: { color: { mode: "thresholds" }, thresholds: { mode: "absolute", steps: [{ color: "text", value: null }] }, mappings: valueMappings(o.mappings), custom: { fillOpacity: 80, lineWidth: 0 } },
      overrides: [],
    },
    options: { showValue: "never", mergeValues: true, rowHeight: 0.9, alignValue: "left", legend: { displayMode: "list", placement: "bottom", showLegend: false }, tooltip: { mode: "single", sort: "none" } },
  };
}

const PROFILE_SLO = "{{namespace}}/{{profile}} {{slo}}";

function panelSpecs(): Array<{ row: string; panels: PanelSpec[] }> {
  const consumed = `tollgate_slo_budget_consumed_ratio{${PROFILES}}`;
  const burnRate = `tollgate_slo_burn_rate{${PROFILES}}`;
  // The default policy's levels, drawn on the budget panels; a profile's own are in its spec.
  const policyLevels: Array<[string, number]> = [
    ["yellow", 0.7],
    ["orange", 0.9],
    ["red", 1],
    ["dark-red", 1.5],
  ];
  return [
    {
      row: "Error budget",
      panels: [
        {
          type: "stat",
          title: "Budget consumed now",
          description:
            "Error budget consumed over each SLO's window, now (tollgate_slo_budget_consumed_ratio; 100 % is all of it). Coloured at the default policy's levels: " +
            "warn at 90 %, freeze at 100 %, roll back at 150 %; a profile's own levels are in its spec.policy. An SLO without a verdict (too few events, no data) has no value.",
          w: 6,
          h: 8,
          targets: [{ expr: `${consumed} ${LEADING}`, legendFormat: PROFILE_SLO, instant: true }],
          fieldConfig: {
            defaults: {
              unit: "percentunit",
              decimals: 1,
              color: { mode: "thresholds" },
              thresholds: { mode: "absolute", steps: [{ color: "green", value: null }, { color: "orange", value: 0.9 }, { color: "red", value: 1 }, { color: "dark-red", value: 1.5 }] },
            },
            overrides: [],
          },
          options: { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, colorMode: "background", graphMode: "none", justifyMode: "auto", orientation: "auto", textMode: "value_and_name" },
        },
        stateTimeline(
          {
            title: "Phase",
            description:
              "Each profile's phase over time (tollgate_profile_phase): Healthy, Warning (budget past warnAt), Frozen (deployments paused), RollingBack, Progressing (a canary runs), Degraded, Unknown.",
            w: 18,
            h: 8,
            mappings: PHASES.map((p, i) => [i + 1, p, PHASE_COLORS[p]]),
          },
          [{ expr: phaseCodeExpr(), legendFormat: "{{namespace}}/{{profile}}" }],
        ),
        timeseries(
          {
            title: "Budget remaining",
            description: "Error budget left over each SLO's window (1 − tollgate_slo_budget_consumed_ratio, at least 0). At 0 the budget is spent and the profile freezes its deployments.",
            unit: "percentunit",
            w: 12,
            h: 9,
            min: 0,
            max: 1,
          },
          [{ expr: `clamp_min(1 - ${consumed}, 0) ${LEADING}`, legendFormat: PROFILE_SLO }],
        ),
        timeseries(
          {
            title: "Budget consumed",
            description:
              "Error budget consumed over each SLO's window (tollgate_slo_budget_consumed_ratio), which goes past 100 % where remaining stops at 0. " +
              "Dashed: the default policy's levels, unfreeze below 70 %, warn at 90 %, freeze at 100 %, roll back at 150 %.",
            unit: "percentunit",
            w: 12,
            h: 9,
            min: 0,
            thresholds: policyLevels,
          },
          [{ expr: `${consumed} ${LEADING}`, legendFormat: PROFILE_SLO }],
        ),
      ],
    },
    {
      row: "Burn rates",
      panels: [
        timeseries(
          {
            title: "Burn rate by window",
            description:
              "How fast each SLO spends its budget over each window (tollgate_slo_burn_rate): 1 spends exactly the budget in the SLO window. " +
              "The windows are the SRE Workbook's, scaled to the SLO window; the burn-rate alerts page at 14.4× over the 1h- and 5m-role windows.",
            unit: BURN_UNIT,
            w: 12,
            h: 9,
            min: 0,
            thresholds: [["red", 1]],
          },
          [{ expr: `${burnRate} ${LEADING}`, legendFormat: `${PROFILE_SLO} {{window}}` }],
        ),
        {
          type: "bargauge",
          title: "Burn rate now",
          description: "Each SLO's burn rate per window, now (tollgate_slo_burn_rate). Red past 1: that window spends the budget faster than the SLO window allows.",
          w: 12,
          h: 9,
          targets: [{ expr: `${burnRate} ${LEADING}`, legendFormat: `${PROFILE_SLO} {{window}}`, instant: true }],
          fieldConfig: {
            defaults: {
              unit: BURN_UNIT,
              min: 0,
              decimals: 2,
              color: { mode: "thresholds" },
              thresholds: { mode: "absolute", steps: [{ color: "green", value: null }, { color: "red", value: 1 }] },
            },
            overrides: [],
          },
          options: { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, orientation: "horizontal", displayMode: "gradient", showUnfilled: true, minVizHeight: 10, minVizWidth: 0, valueMode: "color" },
        },
        timeseries(
          {
            title: "Error ratio by window (recorded)",
            description:
              `The error ratio of each SLO over each window as Tollgate's recording rules record it (${ERROR_RATIO_RECORD}): ` +
              "profiles read in RecordingRules mode, or rules loaded from `tollgate rules`. Empty for profiles read Direct.",
            unit: "percentunit",
            w: 12,
            min: 0,
          },
          [{ expr: `${ERROR_RATIO_RECORD}{${PROFILES}}`, legendFormat: `${PROFILE_SLO} {{window}}` }],
        ),
        timeseries(
          {
            title: "Events in the SLO window (recorded)",
            description:
              `Events each SLO counted over its window (${EVENTS_RECORD}); fewer than the policy's minEvents is no verdict. ` +
              "Recorded by the same rules as the error ratios: empty for profiles read Direct.",
            unit: "short",
            w: 12,
            min: 0,
          },
          [{ expr: `${EVENTS_RECORD}{${PROFILES}}`, legendFormat: `${PROFILE_SLO} ({{window}})` }],
        ),
      ],
    },
    {
      row: "Canary",
      panels: [
        timeseries(
          {
            title: "Canary weight",
            description:
              "Percent of each profile's traffic on its canary, as Tollgate last routed it on the VirtualService (tollgate_canary_weight). " +
              "It steps by stepWeight each interval while the canary's burn rate stays under maxBurnRate, and drops to 0 on a promotion or a rollback.",
            unit: "percent",
            w: 24,
            min: 0,
            max: 100,
            stepped: true,
          },
          [{ expr: `tollgate_canary_weight{${PROFILES}} ${LEADING}`, legendFormat: "{{namespace}}/{{profile}}" }],
        ),
      ],
    },
    {
      row: "Operator",
      panels: [
        stateTimeline(
          {
            title: "Leader",
            description: "Which replica holds the leader lease and reconciles (tollgate_leader); the others stand by.",
            w: 8,
            h: 8,
            mappings: [
              [1, "leading", "green"],
              [0, "standby", "blue"],
            ],
          },
          [{ expr: `tollgate_leader{${OPERATOR}}`, legendFormat: "{{instance}}" }],
        ),
        timeseries(
          {
            title: "Prometheus queries",
            description: "Instant queries Tollgate sends to Prometheus per second, by what reads (tollgate_prometheus_queries_total): Direct per SLO and window, RecordingRules per batch, Canary per check.",
            unit: "reqps",
            w: 8,
            min: 0,
          },
          [{ expr: `sum by (mode) (rate(tollgate_prometheus_queries_total{${OPERATOR}}[${RATE}]))`, legendFormat: "{{mode}}" }],
        ),
        timeseries(
          {
            title: "Prometheus read failures",
            description:
              "Failed reads from Prometheus per second, by mode and kind (tollgate_prometheus_query_errors_total: unreachable, timeout, bad_query, server, ...); " +
              "0 (kind none) for a mode whose reads all succeed. Without measurements no SLO has a verdict and the policy holds.",
            unit: "ops",
            w: 8,
            min: 0,
          },
          [
            {
              expr: failuresOrZero(`tollgate_prometheus_query_errors_total{${OPERATOR}}`, `tollgate_prometheus_queries_total{${OPERATOR}}`, "mode", { label: "kind", value: "none" }),
              legendFormat: "{{mode}}: {{kind}}",
            },
          ],
        ),
        timeseries(
          {
            title: "Prometheus read latency",
            description: "Time to read measurements from Prometheus (tollgate_prometheus_query_duration_seconds), per reconcile in Direct mode and per batch in RecordingRules mode.",
            unit: "s",
            w: 8,
            min: 0,
          },
          [
            { expr: quantile(0.99, "tollgate_prometheus_query_duration_seconds", "mode"), legendFormat: "p99 {{mode}}" },
            { expr: quantile(0.5, "tollgate_prometheus_query_duration_seconds", "mode"), legendFormat: "p50 {{mode}}" },
          ],
        ),
        timeseries(
          {
            title: "Reconciles",
            description: "Reconciles per second by controller and outcome (tollgate_reconcile_duration_seconds_count): success, requeue, error.",
            unit: "ops",
            w: 8,
            min: 0,
          },
          [{ expr: `sum by (controller, outcome) (rate(tollgate_reconcile_duration_seconds_count{${OPERATOR}}[${RATE}]))`, legendFormat: "{{controller}} {{outcome}}" }],
        ),
        timeseries(
          {
            title: "Reconcile errors",
            description:
              "Share of reconciles that failed (tollgate_reconcile_errors_total over all reconciles); they are retried with backoff. " +
              "The TollgateReconcileErrors alert fires above 10 % for 10 minutes; the operator's log says why.",
            unit: "percentunit",
            w: 8,
            min: 0,
            thresholds: [["red", 0.1]],
          },
          [
            {
              expr:
                `(${failuresOrZero(`tollgate_reconcile_errors_total{${OPERATOR}}`, `tollgate_reconcile_duration_seconds_count{${OPERATOR}}`, "controller")}) ` +
                `/ on (controller) sum by (controller) (rate(tollgate_reconcile_duration_seconds_count{${OPERATOR}}[${RATE}]))`,
              legendFormat: "{{controller}}",
            },
          ],
        ),
        timeseries(
          {
            title: "Reconcile latency",
            description: "Time one reconcile takes, Prometheus reads included (tollgate_reconcile_duration_seconds).",
            unit: "s",
            w: 8,
            min: 0,
          },
          [
            { expr: quantile(0.99, "tollgate_reconcile_duration_seconds", "controller"), legendFormat: "p99 {{controller}}" },
            { expr: quantile(0.5, "tollgate_reconcile_duration_seconds", "controller"), legendFormat: "p50 {{controller}}" },
          ],
        ),
        timeseries(
          {
            title: "Work queue depth",
            description: "Profiles waiting for a worker on the leader (tollgate_workqueue_depth). A queue that does not drain needs more --workers.",
            unit: "short",
            w: 8,
            min: 0,
          },
          [{ expr: `max by (controller) (tollgate_workqueue_depth{${OPERATOR}} ${LEADING})`, legendFormat: "{{controller}}" }],
        ),
        timeseries(
          {
            title: "Memory",
            description: "Resident memory and V8 heap in use per replica (tollgate_process_resident_memory_bytes, tollgate_nodejs_heap_size_used_bytes), against the chart's 512Mi limit.",
            unit: "bytes",
            w: 8,
            min: 0,
          },
          [
            { expr: `tollgate_process_resident_memory_bytes{${OPERATOR}}`, legendFormat: "resident {{instance}}" },
            { expr: `tollgate_nodejs_heap_size_used_bytes{${OPERATOR}}`, legendFormat: "heap {{instance}}" },
          ],
        ),
      ],
    },
  ];
}

/** Places the rows and their panels on Grafana's 24-column grid, left to right and top to bottom. */
function layout(sections: Array<{ row: string; panels: PanelSpec[] }>): Panel[] {
  const panels: Panel[] = [];
  let id = 1;
  let y = 0;
  for (const section of sections) {
    panels.push({ id: id++, type: "row", title: section.row, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const spec of section.panels) {
      if (x + spec.w > 24) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      const { w, h, targets, ...rest } = spec;
      panels.push({
        ...rest,
        id: id++,
        gridPos: { h, w, x, y },
        datasource: DATASOURCE,
        targets: targets.map((t, i) => ({
          refId: String.fromCharCode(65 + i),
          datasource: DATASOURCE,
          expr: t.expr,
          legendFormat: t.legendFormat,
          instant: t.instant ?? false,
          range: !(t.instant ?? false),
          editorMode: "code",
        })),
      });
      x += w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  return panels;
}

function queryVariable(name: string, label: string, query: string): QueryVariable {
  return {
    name,
    label,
    type: "query",
    datasource: DATASOURCE,
    query,
    definition: query,
    refresh: 2,
    multi: true,
    includeAll: true,
    allValue: ".*",
    current: { selected: true, text: ["All"], value: ["$__all"] },
    sort: 1,
    hide: 0,
    regex: "",
    options: [],
  };
}

function annotations(): Annotation[] {
  const actions = `tollgate_actions_total{${PROFILES},action=~"${ANNOTATED_ACTIONS.join("|")}"}`;
  return [
    {
      name: "Phase",
      datasource: DATASOURCE,
      enable: true,
      hide: false,
      iconColor: "orange",
      // A region for as long as a profile is out of Healthy.
      expr: `tollgate_profile_phase{${PROFILES},phase!="Healthy"} == 1 ${LEADING}`,
      titleFormat: "{{phase}}",
      textFormat: "{{namespace}}/{{profile}} is {{phase}}",
      tagKeys: "namespace,profile,phase",
      useValueForTime: false,
    },
    {
      name: "Actions",
      datasource: DATASOURCE,
      enable: true,
      hide: false,
      iconColor: "red",
      // A counter's series appears with its first action at 1, which increase() cannot see (there is no
      // sample before it): a series newer than the window counts as an action of its own.
      expr: `sum by (namespace, profile, action) ((${actions} unless ${actions} offset ${RATE}) or increase(${actions}[${RATE}])) > 0`,
      titleFormat: "{{action}}",
      textFormat: "{{action}} of {{namespace}}/{{profile}}",
      tagKeys: "namespace,profile,action",
      useValueForTime: false,
    },
  ];
}

export function grafanaDashboard(): Dashboard {
  return {
    uid: DASHBOARD_UID,
    title: "Tollgate",
    description: "Error budgets, burn rates, phases, actions and canaries of Tollgate's PerformanceProfiles, and the health of the operator.",
    tags: ["tollgate", "slo"],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    timepicker: {},
    timezone: "",
    templating: {
      list: [
        { name: "datasource", label: "Prometheus", type: "datasource", query: "prometheus", current: {}, hide: 0, refresh: 1, regex: "", options: [] },
        queryVariable("namespace", "Namespace", "label_values(tollgate_profile_phase, namespace)"),
        queryVariable("profile", "Profile", 'label_values(tollgate_profile_phase{namespace=~"$namespace"}, profile)'),
        queryVariable("job", "Operator job", "label_values(tollgate_leader, job)"),
      ],
    },
    annotations: { list: annotations() },
    links: [],
    panels: layout(panelSpecs()),
  };
}

/** The dashboard as dashboards/tollgate.json holds it. */
export function dashboardJson(): string {
  return `${JSON.stringify(grafanaDashboard(), null, 2)}\n`;
}

/** Every query the dashboard runs, with where it is: panels' targets and annotations. */
export function dashboardQueries(d: Dashboard): Array<{ where: string; expr: string; instant: boolean }> {
  return [
    ...d.panels.flatMap((p) => (p.type === "row" ? [] : p.targets.map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr, instant: t.instant })))),
    ...d.annotations.list.map((a) => ({ where: `annotation "${a.name}"`, expr: a.expr, instant: false })),
  ];
}

/** The Grafana variables an expression names ($name or ${name}). */
export function variablesIn(expr: string): string[] {
  return [...expr.matchAll(/\$\{(\w+)\}|\$(\w+)/g)].map((m) => m[1] ?? m[2] ?? "");
}

/** An expression with its variables replaced as Grafana would, from `values`; a variable without a value is an error. */
export function interpolate(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (_match, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? "";
    const value = values[name];
    if (value === undefined) throw new Error(`no value for $${name} in ${expr}`);
    return value;
  });
}

/** label_values(<selector>, <label>) of a query variable: the selector is PromQL, the rest is Grafana's. */
export function labelValuesQuery(query: string): { selector: string; label: string } {
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query);
  if (!m?.[1] || !m[2]) throw new Error(`not a label_values query: ${query}`);
  return { selector: m[1], label: m[2] };
}
