import { parseDuration } from "../api/duration.ts";

/** Points in a sparkline: wide enough to show a trend, narrow enough for a terminal line. */
export const SPARK_POINTS = 40;

const BLOCKS = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] as const;

function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

/**
 * Budget consumed per SLO of one profile over time, from the operator's own gauge (the one the Grafana
 * dashboard draws) rather than the SLO's raw series: a range query of rate(...[30d]) at 40 steps would
 * read the month 40 times. Only the replica holding the lease counts, since a standby keeps exporting
 * what it last saw.
 */
export function budgetQuery(namespace: string, profile: string): string {
  return `max by (slo) (tollgate_slo_budget_consumed_ratio{namespace="${labelValue(namespace)}",profile="${labelValue(profile)}"} and on (job, instance) (tollgate_leader == 1))`;
}

/** The SPARK_POINTS steps of a window's sparkline, the last at `now`; each step whole seconds (at least 1). */
export function sparkRange(window: string, now: Date): { start: Date; end: Date; stepSeconds: number } {
  const stepSeconds = Math.max(1, Math.round(parseDuration(window) / SPARK_POINTS / 1000));
  return { start: new Date(now.getTime() - (SPARK_POINTS - 1) * stepSeconds * 1000), end: now, stepSeconds };
}

/**
 * Consumed budget (a ratio, 1 = all of it) as block characters, the top block at 100 % or at the
 * highest value when it went past: a freeze shows as the line reaching the top. A gap (no sample, or
 * NaN) is a space, never a low block, since no data is not 0 %.
 */
export function sparkline(values: ReadonlyArray<number | undefined>): string {
  const top = Math.max(1, ...values.filter((v): v is number => v !== undefined));
  return values
    .map((v) => {
      if (v === undefined) return " ";
      const i = Math.round((Math.max(0, v) / top) * (BLOCKS.length - 1));
      return BLOCKS[Math.min(BLOCKS.length - 1, i)] ?? " ";
    })
    .join("");
}

/**
 * A range answer's samples placed on the range's steps, `undefined` where a step has none (the gauge
 * did not exist yet, or the operator was not scraped then).
 */
export function onSteps(samples: ReadonlyArray<{ at: Date; value: number | undefined }>, range: { start: Date; stepSeconds: number }, points: number): Array<number | undefined> {
  const out: Array<number | undefined> = Array.from({ length: points }, () => undefined);
  for (const s of samples) {
    const i = Math.round((s.at.getTime() - range.start.getTime()) / 1000 / range.stepSeconds);
    if (i >= 0 && i < points) out[i] = s.value;
  }
  return out;
}
