import { Histogram, Registry, Summary } from "prom-client";
import { RuntimeMetrics } from "../runtime/metrics.ts";
import { ERROR_RATIO_RECORD, EVENTS_RECORD, SERIES_COUNT_RECORD } from "../slo/rules.ts";
import { BAD_TILE_RECORD, EVENTS_TILE_RECORD, TILES_SINCE_RECORD } from "../slo/tiles.ts";
import { SloMetrics } from "./slo-metrics.ts";

/**
 * The series names anything reading Tollgate's metrics may rely on, for the tests of what reads them
 * (alerts, the dashboard): a name that is not here is a query that never returns anything.
 */

/**
 * Every series name the operator's /metrics can carry: its registries built as createOperator builds
 * them, a histogram as its _bucket, _count and _sum series, a summary as its quantiles, _count and _sum.
 */
export function exportedMetricNames(): ReadonlySet<string> {
  const registry = new Registry();
  new RuntimeMetrics(registry);
  new SloMetrics(registry);
  return new Set(
    registry.getMetricsAsArray().flatMap((m) => {
      if (m instanceof Histogram) return [`${m.name}_bucket`, `${m.name}_count`, `${m.name}_sum`];
      if (m instanceof Summary) return [m.name, `${m.name}_count`, `${m.name}_sum`];
      return [m.name];
    }),
  );
}

/** The series Tollgate's recording rules record (src/slo/rules.ts, src/slo/tiles.ts). */
export const RECORDED_SERIES: readonly string[] = [
  ERROR_RATIO_RECORD,
  EVENTS_RECORD,
  SERIES_COUNT_RECORD,
  BAD_TILE_RECORD,
  EVENTS_TILE_RECORD,
  TILES_SINCE_RECORD,
];

/** The tollgate_ series names a PromQL expression reads, recorded ones (with colons) included; string literals (label values) are skipped. */
export function tollgateNamesIn(expr: string): string[] {
  const code = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  return code.match(/\btollgate_[A-Za-z0-9_:]*/g) ?? [];
}
