import type { PrometheusOutage } from "../api/status.ts";
import type { BudgetView } from "./budget.ts";

/**
 * A rollback waits while a Prometheus outage may have left more than this share of the SLO window
 * without samples: rate() over a window with a hole measures only the part after it, and a burn that
 * began after the outage then reads as the whole window's consumption.
 */
export const MAX_OUTAGE_SHARE = 0.1;

/** The outage record after a pass: opened by the first pass Prometheus fails, closed by the first it answers. */
export function nextOutage(prev: PrometheusOutage | undefined, view: BudgetView, now: Date): PrometheusOutage | undefined {
  const open = prev !== undefined && prev.to === undefined;
  if (view.error !== undefined) return open ? prev : { from: now.toISOString() };
  return open ? { from: prev.from, to: now.toISOString() } : prev;
}

/**
 * The share of the window (now − windowMs, now] the outage may have emptied. Its edges are known only
 * to the pass that saw them, so it is widened by one evaluation interval on each side; Prometheus's own
 * scrapes also resume only after it is back.
 */
export function outageShare(o: PrometheusOutage | undefined, windowMs: number, marginMs: number, now: Date): number {
  if (!o || windowMs <= 0) return 0;
  const end = now.getTime();
  const from = Math.max(Date.parse(o.from) - marginMs, end - windowMs);
  const to = Math.min((o.to === undefined ? end : Date.parse(o.to)) + marginMs, end);
  return Number.isFinite(from) && Number.isFinite(to) ? Math.max(0, to - from) / windowMs : 0;
}
