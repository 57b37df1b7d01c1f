import { burnRate, errorBudget } from "../slo/budget.ts";
import { isPlanError, planProfile, type SloProfile } from "../slo/plan.ts";
import { ERROR_RATIO_RECORD, EVENTS_RECORD } from "../slo/rules.ts";
import type { BurnRole } from "../slo/types.ts";

/**
 * `kubectl tollgate explain`: the PromQL the operator runs for each SLO, from the same plan it reads
 * with (slo/plan.ts), so what is printed cannot drift from what runs. Pure: values, when given, come
 * from the shell, which runs each query once.
 */

export type QueryKind = "errorRatio" | "events" | "seriesCount";

export interface ExplainedQuery {
  kind: QueryKind;
  /** The range the query reads, e.g. 5m, or the SLO window. */
  window: string;
  /** The burn-rate roles read from this window (several share it when the SLO window is short). */
  roles: BurnRole[];
  /** What a Direct-mode operator sends each evaluation; what RecordingRules mode records. */
  expr: string;
  /** The series RecordingRules mode reads instead; null where it records none by that name. */
  recorded: string | null;
  /** For a ratio's series count: which part (errors, total) is counted. */
  part: string | null;
}

export interface ExplainedSlo {
  name: string;
  objective: number;
  window: string;
  /** The error budget as a fraction of events. */
  budget: number;
  /** Why the SLO cannot be measured; its queries are then empty. */
  error: string | null;
  queries: ExplainedQuery[];
}

export interface Explained {
  namespace: string;
  name: string;
  slos: ExplainedSlo[];
}

function selector(namespace: string, profile: string, slo: string, window: string): string {
  return `{namespace="${namespace}",profile="${profile}",slo="${slo}",window="${window}"}`;
}

export function explainProfile(profile: SloProfile): Explained {
  const plan = planProfile(profile);
  return {
    namespace: profile.namespace,
    name: profile.name,
    slos: plan.slos.map((p): ExplainedSlo => {
      const base = { name: p.slo.name, objective: p.slo.objective, budget: errorBudget(p.slo.objective) };
      if (isPlanError(p)) return { ...base, window: p.slo.window, error: p.error, queries: [] };
      const sel = (w: string) => selector(profile.namespace, profile.name, p.slo.name, w);
      return {
        ...base,
        window: p.window,
        error: null,
        queries: [
          ...p.errorRatios.map((r): ExplainedQuery => ({
            kind: "errorRatio",
            window: r.window,
            roles: p.burnWindows.filter((b) => b.window === r.window).map((b) => b.role),
            expr: r.expr,
            recorded: `${ERROR_RATIO_RECORD}${sel(r.window)}`,
            part: null,
          })),
          { kind: "events", window: p.window, roles: [], expr: p.events, recorded: `${EVENTS_RECORD}${sel(p.window)}`, part: null },
          ...p.seriesCounts.map((c): ExplainedQuery => ({ kind: "seriesCount", window: c.window, roles: [], expr: c.expr, recorded: null, part: c.part })),
        ],
      };
    }),
  };
}

/** What Prometheus answered to one query: a number, no data (no series, NaN), or why it failed. */
export type QueryValue = { value: number | undefined } | { error: string };

/** The value's words: the error ratio with its burn rate, the events, or the series counted. */
function valueText(q: ExplainedQuery, slo: ExplainedSlo, v: QueryValue | undefined): string {
  if (v === undefined) return "";
  if ("error" in v) return `: error: ${v.error}`;
  if (v.value === undefined) return ": no data";
  if (q.kind === "errorRatio") {
    const br = burnRate(v.value, slo.objective);
    return `: ${v.value.toPrecision(4)}${br === undefined ? "" : ` (burn rate ${br.toFixed(2)}x${q.window === slo.window ? `, ${(br * 100).toFixed(1)} % of the budget consumed` : ""})`}`;
  }
  if (q.kind === "events") return `: ${Math.round(v.value)} events`;
  return `: ${v.value} series${v.value > 1 ? " (more than one: Tollgate gives this SLO no verdict; wrap it in sum(...))" : ""}`;
}

function title(q: ExplainedQuery, slo: ExplainedSlo): string {
  if (q.kind === "events") return `events over ${q.window} (the SLO window; fewer than policy.minEvents is no verdict)`;
  if (q.kind === "seriesCount") return `series of the ratio's ${q.part} over ${q.window} (must be at most one)`;
  const roles = q.roles.length > 0 ? `burn-rate role${q.roles.length > 1 ? "s" : ""} ${q.roles.join(", ")}` : "";
  const sloWindow = q.window === slo.window ? "the SLO window: budget consumed" : "";
  return `error ratio over ${q.window} (${[roles, sloWindow].filter((s) => s !== "").join("; ")})`;
}

/**
 * The explanation as text: per SLO its objective and budget, then each query with what it is for, the
 * PromQL, the recorded series of RecordingRules mode, and the value now when `values` (by expression)
 * are given.
 */
export function explainText(e: Explained, values?: ReadonlyMap<string, QueryValue>): string {
  const lines: string[] = [`PerformanceProfile ${e.namespace}/${e.name}`];
  for (const slo of e.slos) {
    lines.push("", `SLO ${slo.name}: ${slo.objective} % good over ${slo.window} (error budget ${+(slo.budget * 100).toPrecision(6)} % of events)`);
    if (slo.error !== null) {
      lines.push(`  cannot be measured: ${slo.error}`);
      continue;
    }
    for (const q of slo.queries) {
      lines.push(`  ${title(q, slo)}${valueText(q, slo, values?.get(q.expr))}`);
      lines.push(`    ${q.expr}`);
      if (q.recorded !== null) lines.push(`    recorded as ${q.recorded}`);
    }
  }
  lines.push(
    "",
    "Direct mode sends these queries each evaluation; RecordingRules mode has Prometheus record them (tollgate rules -f prints the",
    "rules) and reads the recorded series, with windows longer than twelve tiles summed from the tiles once they cover the window.",
  );
  return `${lines.join("\n")}\n`;
}

/** The JSON of `-o json`: the explanation with each query's value (null without --prometheus or data). */
export function explainJson(e: Explained, values?: ReadonlyMap<string, QueryValue>): unknown {
  return {
    namespace: e.namespace,
    name: e.name,
    slos: e.slos.map((s) => ({
      ...s,
      queries: s.queries.map((q) => {
        const v = values?.get(q.expr);
        return { ...q, value: v && "value" in v && v.value !== undefined ? v.value : null, error: v && "error" in v ? v.error : null };
      }),
    })),
  };
}
