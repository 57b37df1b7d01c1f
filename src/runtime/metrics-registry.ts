import { Registry, type Metric } from "prom-client";
import { quoteLabelValue } from "../slo/promql.ts";

/** A metric that writes its own lines of the text exposition format, a slice of its series at a time. */
export interface WritesOwnText {
  writeText(): Promise<string>;
}

function writesOwnText(metric: Metric): metric is Metric & WritesOwnText {
  return typeof (metric as Partial<WritesOwnText>).writeText === "function";
}

type FormatMetric = (this: Registry, metric: Metric) => Promise<string>;

/**
 * prom-client's registry, except that a metric with writeText() gives its own text. prom-client formats
 * each metric's series in one piece: the per-profile families of 10,000 profiles with data (16 MB) held
 * the event loop for 0.6-1.7 s at each scrape, and every pass in flight waited that long. Written a
 * slice at a time, the longest stretch is the joining of the text, 40-80 ms.
 */
export class MetricsRegistry extends Registry {
  // getMetricsAsString is what Registry.metrics() formats each metric with; prom-client's types leave it out.
  getMetricsAsString(metric: Metric): Promise<string> {
    if (writesOwnText(metric)) return metric.writeText();
    return (Registry.prototype as unknown as { getMetricsAsString: FormatMetric }).getMetricsAsString.call(this, metric);
  }
}

/** Series written between two turns of the event loop. */
const SLICE = 500;

/**
 * One metric family in the text format (version 0.0.4), as prom-client writes it: HELP, TYPE, then a
 * line per series; no trailing newline (the registry joins families).
 */
export async function exposition(family: { name: string; help: string; type: string }, series: Iterable<{ labels: Readonly<Record<string, string>>; value: number }>): Promise<string> {
  const lines = [`# HELP ${family.name} ${escapeText(family.help)}`, `# TYPE ${family.name} ${family.type}`];
  let n = 0;
  for (const { labels, value } of series) {
    let text = "";
    // A label value is escaped as a PromQL string is (backslash, double quote, line feed).
    for (const k of Object.keys(labels)) text += `${text === "" ? "" : ","}${k}=${quoteLabelValue(labels[k]!)}`;
    lines.push(`${family.name}${text === "" ? "" : `{${text}}`} ${valueText(value)}`);
    if (++n % SLICE === 0) await new Promise((r) => setImmediate(r));
  }
  return lines.join("\n");
}

function escapeText(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function valueText(v: number): string {
  if (Number.isNaN(v)) return "Nan";
  if (!Number.isFinite(v)) return v < 0 ? "-Inf" : "+Inf";
  return `${v}`;
}
