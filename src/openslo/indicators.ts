import { formatDuration } from "../api/duration.ts";
import type { Indicator } from "../api/slo.ts";
import {
  ISTIO_DURATION,
  ISTIO_REQUESTS,
  istioSelector,
  latencyUnit,
  leMatcher,
  mergeSelector,
  quoteLabelValue,
  SloConfigError,
  thresholdBound,
  type LatencyUnit,
  type Workload,
} from "../slo/promql.ts";
import { decimal, fail, objectAt, optionalBoolean, optionalObject, optionalString, stringAt, sub, type Field, type Obj } from "./fields.ts";
import { counterOfRate, errorsFromGood, rateOfCounter, seriesSelector, withWindowPlaceholder } from "./queries.ts";
import { PROMETHEUS_TYPE, type MetricSourceHolder, type Objective, type SliSpec } from "./types.ts";

/**
 * One SLO's indicator both ways: a Tollgate indicator as an OpenSLO SLI (export), and an OpenSLO SLI
 * with its objective as a Tollgate indicator (import).
 *
 * - ratio → ratioMetric bad/total, as counters (`counter: true`, `sum(<selector>)`) when each part is
 *   `sum(rate(<selector>[{{window}}]))`, else as written with {{window}} (`counter: false`: the query
 *   is a rate, not a counter).
 * - istio → ratioMetric of the PromQL Tollgate reads for the preset, as counters: bad/total of
 *   istio_requests_total for availability, good (the bucket at the threshold) over total of the
 *   duration histogram for latency.
 * - latency → thresholdMetric on the histogram, `op: lte` and the threshold in the histogram's unit:
 *   each observation is an occurrence, good when at or below the value, which is what the bucket at
 *   `le` counts.
 */

/** Where an SLI's metric sources read from, for the caller to check against the DataSources. */
export interface SourceUse {
  field: Field;
  ref: string | undefined;
  type: string | undefined;
}

export type SliReading =
  | {
      kind: "ratio";
      numerator: "good" | "bad";
      numeratorQuery: string;
      totalQuery: string;
      counter: boolean | undefined;
      fields: { numerator: Field; total: Field; counter: Field };
      sources: SourceUse[];
    }
  | {
      kind: "threshold";
      query: string;
      unit: LatencyUnit | undefined;
      fields: { query: Field; unit: Field };
      sources: SourceUse[];
    };

/** An objective's comparison, which only a thresholdMetric uses. */
export interface ObjectiveComparison {
  op: string | undefined;
  value: number | undefined;
  fields: { op: Field; value: Field };
}

// ---------------------------------------------------------------------------------------------------
// Export

export interface ExportedSli {
  spec: SliSpec;
  comparison: Pick<Objective, "op" | "value">;
  /** Whether the SLI's queries lose what the indicator says (a preset's link to targetRef), so it needs the annotation. */
  preset: boolean;
}

function source(query: string, metricSourceRef: string | undefined, unit?: LatencyUnit): MetricSourceHolder {
  return {
    metricSource: {
      ...(metricSourceRef === undefined ? {} : { metricSourceRef }),
      type: PROMETHEUS_TYPE,
      spec: { query, ...(unit === undefined ? {} : { unit }) },
    },
  };
}

function counterRatio(numerator: "good" | "bad", numeratorQuery: string, totalQuery: string, ref: string | undefined): SliSpec {
  return { ratioMetric: { counter: true, [numerator]: source(numeratorQuery, ref), total: source(totalQuery, ref) } };
}

/** The OpenSLO SLI of `indicator`; `workload` is what the Istio presets measure, `ref` the DataSource the metric sources name. */
export function sliOfIndicator(indicator: Indicator, workload: Workload, ref: string | undefined): ExportedSli {
  if (indicator.ratio) {
    const errors = counterOfRate(indicator.ratio.errors);
    const total = counterOfRate(indicator.ratio.total);
    const spec: SliSpec =
      errors !== undefined && total !== undefined
        ? counterRatio("bad", errors, total, ref)
        : { ratioMetric: { counter: false, bad: source(indicator.ratio.errors, ref), total: source(indicator.ratio.total, ref) } };
    return { spec, comparison: {}, preset: false };
  }
  if (indicator.latency) {
    const { metric, selector, threshold, unit } = indicator.latency;
    const value = decimal(thresholdBound(threshold, latencyUnit(metric, unit)));
    return { spec: { thresholdMetric: source(`${metric}${selector}`, ref, unit) }, comparison: { op: "lte", value }, preset: false };
  }
  if (indicator.istio) {
    const all = istioSelector(workload);
    if (indicator.istio.kind === "availability") {
      const failed = mergeSelector(all, [{ name: "response_code", op: "=~", rawValue: quoteLabelValue("5..") }]);
      return { spec: counterRatio("bad", `sum(${ISTIO_REQUESTS}${failed})`, `sum(${ISTIO_REQUESTS}${all})`, ref), comparison: {}, preset: true };
    }
    const threshold = indicator.istio.threshold;
    if (threshold === undefined) throw new SloConfigError("istio.threshold is required when istio.kind is latency");
    const bucket = mergeSelector(all, [leMatcher(thresholdBound(threshold, "milliseconds"))]);
    return {
      spec: counterRatio("good", `sum(${ISTIO_DURATION}_bucket${bucket})`, `sum(${ISTIO_DURATION}_count${all})`, ref),
      comparison: {},
      preset: true,
    };
  }
  throw new SloConfigError("indicator sets none of ratio, latency, istio");
}

// ---------------------------------------------------------------------------------------------------
// Import

function readSource(f: Field, holder: unknown, sources: SourceUse[]): { query: string; queryField: Field; unit: unknown; unitField: Field } {
  const ms = objectAt(sub(f, "metricSource"), objectAt(f, holder).metricSource);
  const msField = sub(f, "metricSource");
  const ref = optionalString(sub(msField, "metricSourceRef"), ms.metricSourceRef);
  const type = optionalString(sub(msField, "type"), ms.type);
  if (ref === undefined && type === undefined) fail(msField, "names neither a type nor a metricSourceRef: give type: Prometheus or the name of a Prometheus DataSource");
  sources.push({ field: msField, ref, type });
  const specField = sub(msField, "spec");
  const spec = objectAt(specField, ms.spec);
  // `query` is the spec's own example; `promql` is how some tools spell the same field.
  if (spec.query !== undefined && spec.promql !== undefined) fail(specField, "sets both query and promql; give one");
  const key = spec.promql !== undefined ? "promql" : "query";
  const queryField = sub(specField, key);
  return { query: stringAt(queryField, spec[key]), queryField, unit: spec.unit, unitField: sub(specField, "unit") };
}

/** Reads an SLI's `spec` (of an SLI document, or inline as an SLO's indicator.spec). */
export function readSli(f: Field, spec: Obj): SliReading {
  const ratio = optionalObject(sub(f, "ratioMetric"), spec.ratioMetric);
  const threshold = spec.thresholdMetric;
  if (ratio !== undefined && threshold !== undefined) fail(f, "sets both ratioMetric and thresholdMetric; an SLI has one");
  const sources: SourceUse[] = [];
  if (ratio !== undefined) {
    const rf = sub(f, "ratioMetric");
    if (ratio.raw !== undefined) {
      fail(sub(rf, "raw"), "a precomputed ratio cannot be expressed: Tollgate weighs the budget by events and needs their counts (good or bad, and total)");
    }
    const hasGood = ratio.good !== undefined && ratio.good !== null;
    const hasBad = ratio.bad !== undefined && ratio.bad !== null;
    if (hasGood === hasBad) fail(rf, hasGood ? "sets both good and bad; give one of them with total" : "needs good or bad, and total");
    const numerator = hasGood ? "good" : "bad";
    const n = readSource(sub(rf, numerator), ratio[numerator], sources);
    const t = readSource(sub(rf, "total"), ratio.total, sources);
    return {
      kind: "ratio",
      numerator,
      numeratorQuery: n.query,
      totalQuery: t.query,
      counter: optionalBoolean(sub(rf, "counter"), ratio.counter),
      fields: { numerator: n.queryField, total: t.queryField, counter: sub(rf, "counter") },
      sources,
    };
  }
  if (threshold !== undefined && threshold !== null) {
    const tf = sub(f, "thresholdMetric");
    const s = readSource(tf, threshold, sources);
    const unit = optionalString(s.unitField, s.unit);
    if (unit !== undefined && unit !== "seconds" && unit !== "milliseconds") fail(s.unitField, `must be seconds or milliseconds, not ${JSON.stringify(unit)}`);
    return { kind: "threshold", query: s.query, unit, fields: { query: s.queryField, unit: s.unitField }, sources };
  }
  return fail(f, "needs ratioMetric or thresholdMetric");
}

/**
 * One ratio part as Tollgate's PromQL over {{window}}: a query with a window placeholder as written
 * (Sloth's spelling turned into Tollgate's), a counter as the sum of its rate.
 */
function ratioPart(query: string, counter: boolean | undefined, f: Field, counterField: Field): string {
  const windowed = withWindowPlaceholder(query);
  if (windowed !== undefined) return windowed;
  // A counter unless said otherwise: event counts in Prometheus are counters, and the spec's own
  // Prometheus example leaves nothing else to read.
  if (counter === false) {
    fail(counterField, "counter: false (a gauge) cannot be counted over a window; give counters (counter: true), or queries that take the rate themselves over {{window}}");
  }
  const rate = rateOfCounter(query);
  if (rate === undefined) {
    fail(
      f,
      `a counter query must be a series selector such as http_requests_total{job="api"}, or its sum(...), so that Tollgate can take its rate over each window; for anything else write the rate yourself over {{window}}, e.g. sum(rate(http_requests_total{job="api"}[{{window}}])), not ${JSON.stringify(query)}`,
    );
  }
  return rate;
}

function latencyFromThreshold(reading: Extract<SliReading, { kind: "threshold" }>, cmp: ObjectiveComparison): Indicator {
  const s = seriesSelector(reading.query);
  if (!s) {
    fail(
      reading.fields.query,
      `a threshold SLI must be a Prometheus histogram given as its series selector, such as http_request_duration_seconds{job="api"}: Tollgate counts each observation as an occurrence; a gauge or a quantile (histogram_quantile) is sampled, not counted, not ${JSON.stringify(reading.query)}`,
    );
  }
  if (/_(count|sum)$/.test(s.metric)) fail(reading.fields.query, `must name the histogram (its base name or _bucket), not its ${s.metric.slice(s.metric.lastIndexOf("_"))} series`);
  const metric = s.metric.replace(/_bucket$/, "");
  const selector = s.matchers === "" ? "{}" : s.matchers;
  if (cmp.op !== "lte") {
    fail(
      cmp.fields.op,
      cmp.op === undefined
        ? "a threshold objective needs op: lte (good when at or below value)"
        : `${cmp.op} cannot be expressed: a histogram's buckets count observations at or below a bound, so only op: lte can be read`,
    );
  }
  if (cmp.value === undefined) fail(cmp.fields.value, "a threshold objective needs the value to compare with");
  let unit: LatencyUnit;
  try {
    unit = latencyUnit(metric, reading.unit);
  } catch {
    return fail(reading.fields.unit, `cannot tell the unit of ${metric}, whose name ends in neither _seconds nor _milliseconds: set unit: seconds or milliseconds beside the query`);
  }
  const ms = decimal(unit === "seconds" ? cmp.value * 1000 : cmp.value);
  if (!Number.isInteger(ms) || ms < 1) fail(cmp.fields.value, `${cmp.value} ${unit} is not a whole number of milliseconds, the finest threshold Tollgate takes`);
  return { latency: { metric, selector, threshold: formatDuration(ms), ...(reading.unit === undefined ? {} : { unit: reading.unit }) } };
}

/** The Tollgate indicator an SLI and its objective's comparison describe. Throws ConversionError naming the field. */
export function indicatorOfSli(reading: SliReading, cmp: ObjectiveComparison): Indicator {
  if (reading.kind === "threshold") return latencyFromThreshold(reading, cmp);
  const numerator = ratioPart(reading.numeratorQuery, reading.counter, reading.fields.numerator, reading.fields.counter);
  const total = ratioPart(reading.totalQuery, reading.counter, reading.fields.total, reading.fields.counter);
  return { ratio: { errors: reading.numerator === "bad" ? numerator : errorsFromGood(numerator, total), total } };
}
