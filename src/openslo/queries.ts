import { WINDOW_PLACEHOLDER } from "../api/slo.ts";
import { parseSelector, SloConfigError } from "../slo/promql.ts";

/**
 * The PromQL of OpenSLO metric sources and Sloth queries, turned into the ratio queries Tollgate
 * reads. OpenSLO has no window placeholder: a Prometheus counter is given as its value (`counter:
 * true`) and the reader takes its rate over each window. Tollgate's ratio queries take the rate
 * themselves over `{{window}}`, so a counter becomes `sum(rate(<selector>[{{window}}]))`, and a
 * query that already holds `{{window}}` (Tollgate's own) or Sloth's `{{.window}}` is taken as written.
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** A series selector as written: a metric name and its label matchers in braces (possibly none). */
export interface SeriesSelector {
  metric: string;
  /** `{...}` exactly as written, or "" when the query names the metric alone. */
  matchers: string;
}

/** `metric` or `metric{a="b"}`, or undefined when `query` is anything else (a function, an operator, a range). */
export function seriesSelector(query: string): SeriesSelector | undefined {
  const q = query.trim();
  const name = METRIC_NAME.exec(q);
  if (!name) return undefined;
  const rest = q.slice(name[0].length).trim();
  if (rest === "") return { metric: name[0], matchers: "" };
  try {
    // parseSelector reads quoted values, so a brace or comma inside one is no end of the selector.
    parseSelector(rest);
  } catch (err) {
    if (err instanceof SloConfigError) return undefined;
    throw err;
  }
  return { metric: name[0], matchers: rest };
}

/** The selector inside `sum(<selector>)`, or `<selector>` alone; undefined for any other query. */
function summedSelector(query: string): SeriesSelector | undefined {
  const q = query.trim();
  const m = /^sum\s*\(([\s\S]*)\)$/.exec(q);
  // The inner part must be a whole selector, so `sum(a) + sum(b)` is not taken for sum of `a) + sum(b`.
  return m ? seriesSelector(m[1] ?? "") : seriesSelector(q);
}

function text(s: SeriesSelector): string {
  return `${s.metric}${s.matchers}`;
}

/** `sum(rate(<selector>[{{window}}]))` for a counter given as `<selector>` or `sum(<selector>)`; undefined otherwise. */
export function rateOfCounter(query: string): string | undefined {
  const s = summedSelector(query);
  return s && `sum(rate(${text(s)}[${WINDOW_PLACEHOLDER}]))`;
}

/**
 * The counter a ratio part reads, `sum(<selector>)`, when the part is exactly
 * `sum(rate(<selector>[{{window}}]))`: the spelling rateOfCounter gives back, so export and import
 * return the same query. Undefined for any other query.
 */
export function counterOfRate(expr: string): string | undefined {
  const prefix = "sum(rate(";
  const suffix = `[${WINDOW_PLACEHOLDER}]))`;
  if (!expr.startsWith(prefix) || !expr.endsWith(suffix)) return undefined;
  const s = seriesSelector(expr.slice(prefix.length, expr.length - suffix.length));
  if (!s || `sum(rate(${text(s)}${suffix}` !== expr) return undefined;
  return `sum(${text(s)})`;
}

/** Whether `expr` is one call of `sum(...)` as a whole, so wrapping it in another sum would add nothing. */
export function isSum(expr: string): boolean {
  const q = expr.trim();
  const open = /^sum\s*\(/.exec(q);
  if (!open) return false;
  let depth = 0;
  for (let i = open[0].length - 1; i < q.length; i++) {
    const c = q[i];
    if (c === '"' || c === "'" || c === "`") {
      // Skip a quoted string; a backslash escapes the next character except in backticks.
      for (i++; i < q.length && q[i] !== c; i++) if (q[i] === "\\" && c !== "`") i++;
      continue;
    }
    if (c === "(") depth++;
    if (c === ")" && --depth === 0) return i === q.length - 1;
  }
  return false;
}

function summed(expr: string): string {
  return isSum(expr) ? expr.trim() : `sum(${expr.trim()})`;
}

/**
 * Bad events from good ones: all events less the good ones. Good events may have no series at all
 * (a service that never succeeded), which must count as zero good events, not as no data.
 */
export function errorsFromGood(good: string, total: string): string {
  return `${summed(total)} - (${summed(good)} or vector(0))`;
}

// Go templates allow spaces inside the braces, so Sloth reads `{{ .window }}` too.
const ANY_WINDOW_PLACEHOLDER = /\{\{\s*\.?window\s*\}\}/g;

/**
 * `query` with its window placeholders spelled as Tollgate's `{{window}}` (Sloth writes `{{.window}}`),
 * or undefined when it has none: then it reads no window, and Tollgate cannot put one on it.
 */
export function withWindowPlaceholder(query: string): string | undefined {
  const out = query.replace(ANY_WINDOW_PLACEHOLDER, WINDOW_PLACEHOLDER);
  return out.includes(WINDOW_PLACEHOLDER) ? out : undefined;
}
