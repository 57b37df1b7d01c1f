// Prometheus text exposition format 0.0.4 for the simulated Istio metrics.

import {
  cumulativeBuckets,
  REQUEST_DURATION,
  REQUESTS_TOTAL,
  type LabelPairs,
  type Observation,
} from "./istio.ts";

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface RequestSeries {
  labels: LabelPairs;
  /** How many requests took each latency; the counter is their sum. */
  observations: readonly Observation[];
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatLabels(labels: LabelPairs): string {
  return `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

/** Go's ParseFloat, which Prometheus uses, reads everything String(number) writes except these. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function renderExposition(series: readonly RequestSeries[]): string {
  const lines: string[] = [
    `# HELP ${REQUESTS_TOTAL} Total requests.`,
    `# TYPE ${REQUESTS_TOTAL} counter`,
  ];
  for (const s of series) {
    const total = s.observations.reduce((n, o) => n + o.count, 0);
    lines.push(`${REQUESTS_TOTAL}${formatLabels(s.labels)} ${formatValue(total)}`);
  }
  lines.push(`# HELP ${REQUEST_DURATION} Request duration.`, `# TYPE ${REQUEST_DURATION} histogram`);
  for (const s of series) {
    for (const b of cumulativeBuckets(s.observations)) {
      lines.push(`${REQUEST_DURATION}_bucket${formatLabels([...s.labels, ["le", b.le]])} ${formatValue(b.count)}`);
    }
    const sum = s.observations.reduce((acc, o) => acc + o.ms * o.count, 0);
    const count = s.observations.reduce((n, o) => n + o.count, 0);
    lines.push(`${REQUEST_DURATION}_sum${formatLabels(s.labels)} ${formatValue(sum)}`);
    lines.push(`${REQUEST_DURATION}_count${formatLabels(s.labels)} ${formatValue(count)}`);
  }
  return lines.join("\n") + "\n";
}
