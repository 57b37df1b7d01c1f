import { parseDuration } from "../api/duration.ts";
import { WINDOW_PLACEHOLDER, type Indicator } from "../api/slo.ts";

/**
 * PromQL for one SLO. Every expression yields at most one series without labels (so the recording
 * rules can label it and the reader needs no matching logic), and NaN when the window holds no events
 * (0/0), which the reader turns into "no data". The user's own ratio expressions are summed to get
 * there, so each must return one series itself: ratioSeriesCounts says how many they do.
 */

/** A spec that cannot be turned into PromQL (e.g. a latency metric whose unit cannot be known). */
export class SloConfigError extends Error {
  override name = "SloConfigError";
}

/** The workload an Istio preset measures: the profile's namespace and targetRef name. */
export interface Workload {
  namespace: string;
  name: string;
  /**
   * Other Deployments serving the same workload, measured together with it: `<name>-primary` in canary
   * mode, where the service's budget is spent by primary and canary alike.
   */
  also?: readonly string[];
}

export interface SloQueries {
  /** Bad events over all events in `window`, as one series; NaN with no events, no series without data. */
  errorRatio(window: string): string;
  /** Events (requests) counted over `window`. */
  events(window: string): string;
  /**
   * Bad events counted over `window`, as one series: 0 when there were none, no series when good
   * events cannot be told (a histogram without a bucket at the threshold). errors / events is the
   * error ratio, so sums of both over adjacent windows give the ratio over their union.
   */
  badEvents(window: string): string;
}

export const ISTIO_REQUESTS = "istio_requests_total";
export const ISTIO_DURATION = "istio_request_duration_milliseconds";

export type LatencyUnit = "seconds" | "milliseconds";

const NEEDS_ESCAPE = /[\\"\n]/;

/** Quotes a label value as a PromQL double-quoted string. */
export function quoteLabelValue(v: string): string {
  // Most values (names, namespaces, windows) need no escape; planning quotes thousands a pass.
  if (!NEEDS_ESCAPE.test(v)) return `"${v}"`;
  return `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`;
}

// ---------------------------------------------------------------------------------------------------
// Label selectors

export interface Matcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  /** The value as written, quotes included, so escapes survive untouched. */
  rawValue: string;
}

const IDENT = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const OP = /=~|!~|!=|=/y;

/** Reads a quoted PromQL string starting at `i`; returns the index after its closing quote. */
function endOfString(s: string, i: number): number {
  const quote = s[i];
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === "\\" && quote !== "`") {
      j++;
      continue;
    }
    if (c === quote) return j + 1;
  }
  throw new SloConfigError(`unterminated string in label selector ${s}`);
}

function isQuote(c: string | undefined): boolean {
  return c === '"' || c === "'" || c === "`";
}

/**
 * Parses `{a="b", c=~"d.*"}` into its matchers. Enough of PromQL's grammar to merge selectors safely
 * (quoted values may hold commas and braces); Prometheus itself remains the judge of the regexes.
 */
export function parseSelector(selector: string): Matcher[] {
  const s = selector.trim();
  if (!s.startsWith("{") || !s.endsWith("}")) throw new SloConfigError(`label selector must be matchers in braces, like {job="api"}: ${selector}`);
  const body = s.slice(1, -1);
  const out: Matcher[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < body.length && /\s/.test(body[i] ?? "")) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= body.length) break;
    let name: string;
    if (isQuote(body[i])) {
      const end = endOfString(body, i);
      name = body.slice(i, end);
      i = end;
    } else {
      IDENT.lastIndex = i;
      const m = IDENT.exec(body);
      if (!m) throw new SloConfigError(`expected a label name at "${body.slice(i)}" in selector ${selector}`);
      name = m[0];
      i = IDENT.lastIndex;
    }
    skipSpace();
    OP.lastIndex = i;
    const op = OP.exec(body);
    if (!op) throw new SloConfigError(`expected =, !=, =~ or !~ after ${name} in selector ${selector}`);
    i = OP.lastIndex;
    skipSpace();
    if (!isQuote(body[i])) throw new SloConfigError(`expected a quoted value after ${name}${op[0]} in selector ${selector}`);
    const end = endOfString(body, i);
    out.push({ name, op: op[0] as Matcher["op"], rawValue: body.slice(i, end) });
    i = end;
    skipSpace();
    if (i >= body.length) break;
    if (body[i] !== ",") throw new SloConfigError(`expected , between matchers at "${body.slice(i)}" in selector ${selector}`);
    i++;
  }
  return out;
}

export function formatSelector(matchers: readonly Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.op}${m.rawValue}`).join(",")}}`;
}

/** The user's selector with extra matchers appended; refuses a selector that already constrains one of them. */
export function mergeSelector(selector: string, extra: readonly Matcher[]): string {
  const own = parseSelector(selector);
  for (const e of extra) {
    const clash = own.find((m) => m.name === e.name || m.name === `"${e.name}"`);
    if (clash) throw new SloConfigError(`the selector ${selector} must not match the ${e.name} label: Tollgate adds that matcher itself`);
  }
  return formatSelector([...own, ...extra]);
}

// ---------------------------------------------------------------------------------------------------
// Histogram bucket labels

/** The shortest digits that round-trip `x`, and the decimal exponent of the first. */
function shortestDigits(x: number): { digits: string; exp: number } {
  const [mantissa = "", exponent = "0"] = x.toExponential().split("e");
  return { digits: mantissa.replace(".", ""), exp: Number(exponent) };
}

/** Plain positional decimal, never an exponent: 1800000, 0.25, 0.00001. */
export function plainDecimal(x: number): string {
  const { digits, exp } = shortestDigits(x);
  if (exp < 0) return `0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return digits + "0".repeat(exp + 1 - digits.length);
  return `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** Go's strconv.FormatFloat(x, 'g', -1, 64), which Go exporters and Prometheus use for `le`: 1e+06, 0.25, 500. */
export function goFloat(x: number): string {
  const { digits, exp } = shortestDigits(x);
  // Shortest formatting switches to an exponent from 1e6 up and below 1e-4 (strconv's eprec 6).
  if (exp < -4 || exp >= 6) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const sign = exp < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return plainDecimal(x);
}

/** Prometheus 3's normalised form (OpenMetrics): Go's form with ".0" added to integers: 1.0, 500.0, 1e+06. */
export function openMetricsFloat(x: number): string {
  const g = goFloat(x);
  return /[.e]/.test(g) ? g : `${g}.0`;
}

/**
 * Every spelling a histogram bucket boundary may have as an `le` label: what Prometheus 2 stored as
 * exposed (Istio's `500`, Go clients' `1e+06`), what Prometheus 3 normalises it to (`500.0`), and the
 * plain decimal with `.0`.
 */
export function leSpellings(bound: number): string[] {
  if (!Number.isFinite(bound) || bound < 0) throw new SloConfigError(`histogram bound must be a finite non-negative number, not ${bound}`);
  const plain = plainDecimal(bound);
  const forms = [plain, goFloat(bound), openMetricsFloat(bound)];
  if (Number.isInteger(bound)) forms.push(`${plain}.0`);
  return [...new Set(forms)];
}

const REGEX_META = /[.*+?^${}()|[\]\\]/g;

/** The matcher that selects the bucket at `bound` in any of its spellings. */
export function leMatcher(bound: number): Matcher {
  const forms = leSpellings(bound);
  if (forms.length === 1) return { name: "le", op: "=", rawValue: quoteLabelValue(forms[0] ?? "") };
  const regex = forms.map((f) => f.replace(REGEX_META, "\\$&")).join("|");
  return { name: "le", op: "=~", rawValue: quoteLabelValue(regex) };
}

/** The histogram's unit: the spec's, else from the metric name's unit suffix. */
export function latencyUnit(metric: string, unit?: LatencyUnit): LatencyUnit {
  if (unit) return unit;
  if (metric.endsWith("_milliseconds")) return "milliseconds";
  if (metric.endsWith("_seconds")) return "seconds";
  throw new SloConfigError(
    `cannot tell the unit of ${metric}: its name ends in neither _seconds nor _milliseconds; set latency.unit to seconds or milliseconds`,
  );
}

/** The threshold as a bucket boundary in the histogram's unit: 500ms → 0.5 (seconds) or 500 (milliseconds). */
export function thresholdBound(threshold: string, unit: LatencyUnit): number {
  const ms = parseDuration(threshold);
  return unit === "milliseconds" ? ms : ms / 1000;
}

// ---------------------------------------------------------------------------------------------------
// Indicators

function seconds(window: string): number {
  return parseDuration(window) / 1000;
}

/**
 * errors/total, both summed to one unlabelled series. A service that never failed has no error series
 * at all (counters appear on the first error), so missing errors count as zero; missing or zero total
 * still gives no data.
 */
function ratioOf(errors: string, total: string): string {
  return `(sum(${errors}) or vector(0)) / sum(${total})`;
}

/**
 * Whether the user's total query counts events (increase) rather than a per-second rate; the API asks
 * for rates, but increase() gives the same error ratio, so both are accepted and only the event count
 * needs to know.
 */
export function countsIncrease(expr: string): boolean {
  return /\bincrease\s*\(/.test(expr) && !/\b(i?rate)\s*\(/.test(expr);
}

export type RatioPart = "errors" | "total";

/**
 * How many series the user's errors and total return over `window`, as written. ratioOf sums each, so
 * an expression of several series (no sum, or a sum by some label) would be added up silently: a
 * selector that also matches another workload's series measures that workload's errors.
 */
export function ratioSeriesCounts(errors: string, total: string, window: string): Array<{ part: RatioPart; expr: string }> {
  return [
    { part: "errors", expr: `count(${errors.replaceAll(WINDOW_PLACEHOLDER, window)})` },
    { part: "total", expr: `count(${total.replaceAll(WINDOW_PLACEHOLDER, window)})` },
  ];
}

export function ratioQueries(errors: string, total: string): SloQueries {
  const fill = (q: string, w: string) => q.replaceAll(WINDOW_PLACEHOLDER, w);
  // increase() is rate() × range in Prometheus, so a rate times the window is the same count.
  const count = (q: string, w: string) => (countsIncrease(q) ? `sum(${fill(q, w)})` : `sum(${fill(q, w)}) * ${seconds(w)}`);
  return {
    errorRatio: (w) => ratioOf(fill(errors, w), fill(total, w)),
    events: (w) => count(total, w),
    badEvents: (w) => `(${count(errors, w)}) or vector(0)`,
  };
}

export interface LatencySpec {
  metric: string;
  selector: string;
  threshold: string;
  unit?: LatencyUnit;
}

export function latencyQueries(spec: LatencySpec): SloQueries {
  const bound = thresholdBound(spec.threshold, latencyUnit(spec.metric, spec.unit));
  const countSelector = mergeSelector(spec.selector, []);
  const bucketSelector = mergeSelector(spec.selector, [leMatcher(bound)]);
  const good = (w: string) => `sum(rate(${spec.metric}_bucket${bucketSelector}[${w}]))`;
  const total = (w: string) => `sum(rate(${spec.metric}_count${countSelector}[${w}]))`;
  const events = (w: string) => `sum(increase(${spec.metric}_count${countSelector}[${w}]))`;
  return {
    errorRatio: (w) => `1 - (${good(w)} / ${total(w)})`,
    events,
    badEvents: (w) => `${events(w)} - sum(increase(${spec.metric}_bucket${bucketSelector}[${w}]))`,
  };
}

/** The destination-side matchers of Istio's standard metrics for a workload. */
export function istioSelector(target: Workload): string {
  const names = [target.name, ...(target.also ?? [])];
  const workload: Matcher =
    names.length === 1
      ? { name: "destination_workload", op: "=", rawValue: quoteLabelValue(target.name) }
      : { name: "destination_workload", op: "=~", rawValue: quoteLabelValue(names.map((n) => n.replace(REGEX_META, "\\$&")).join("|")) };
  return formatSelector([
    workload,
    { name: "destination_workload_namespace", op: "=", rawValue: quoteLabelValue(target.namespace) },
    { name: "reporter", op: "=", rawValue: quoteLabelValue("destination") },
  ]);
}

export function istioAvailabilityQueries(target: Workload): SloQueries {
  const all = istioSelector(target);
  const failed = mergeSelector(all, [{ name: "response_code", op: "=~", rawValue: quoteLabelValue("5..") }]);
  return {
    errorRatio: (w) => ratioOf(`rate(${ISTIO_REQUESTS}${failed}[${w}])`, `rate(${ISTIO_REQUESTS}${all}[${w}])`),
    events: (w) => `sum(increase(${ISTIO_REQUESTS}${all}[${w}]))`,
    badEvents: (w) => `sum(increase(${ISTIO_REQUESTS}${failed}[${w}])) or vector(0)`,
  };
}

export function istioLatencyQueries(target: Workload, threshold: string): SloQueries {
  return latencyQueries({ metric: ISTIO_DURATION, selector: istioSelector(target), threshold, unit: "milliseconds" });
}

/** The queries of an SLO's indicator; `target` is the profile's namespace and targetRef name. Throws SloConfigError. */
export function sloQueries(indicator: Indicator, target: Workload): SloQueries {
  if (indicator.ratio) return ratioQueries(indicator.ratio.errors, indicator.ratio.total);
  if (indicator.latency) return latencyQueries(indicator.latency);
  if (indicator.istio) {
    if (indicator.istio.kind === "availability") return istioAvailabilityQueries(target);
    if (!indicator.istio.threshold) throw new SloConfigError("istio.threshold is required when istio.kind is latency");
    return istioLatencyQueries(target, indicator.istio.threshold);
  }
  throw new SloConfigError("indicator sets none of ratio, latency, istio");
}
