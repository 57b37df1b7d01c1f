import { formatDuration, parseDuration } from "../api/duration.ts";
import { formatSelector, quoteLabelValue } from "./promql.ts";

/**
 * Long windows summed from recorded tiles instead of raw samples. Reading rate(x[30d]) touches every
 * raw sample of 30 days on every evaluation; a tile records the bad and all events of one SLO over 5
 * minutes, once per 5 minutes, so the raw samples are read about once, and a 30-day window is the sum
 * of its 8,640 tiles. Sums of counts, not averages of ratios: the error ratio over the window stays
 * event-weighted, and increase() inside each tile handles counter resets as it always does.
 *
 * What it costs in accuracy, stated once here and in README:
 * - a tiled window ends at the last tile, up to 5 minutes (one tile) before now; the short burn windows,
 *   which must see a burn at once, are never tiled;
 * - a window that is not a multiple of 5 minutes covers the whole tiles inside it, so its length is off
 *   by less than one tile (at most 5m / window: 0.07 % of a 5-day window);
 * - increase() extrapolates each tile to its edges as it does any range, so a burst straddling a tile
 *   edge is split between the two by that extrapolation rather than exactly.
 */
export const TILE = "5m";
export const TILE_MS = 300_000;

/** Windows longer than this are summed from tiles; up to it, raw samples are few (240 per series at 15 s). */
export const TILED_ABOVE_MS = 3_600_000;

/** Bad events of one SLO over the tile. Labels: namespace, profile, slo. */
export const BAD_TILE_RECORD = "tollgate_slo:bad_events:increase5m";
/** All events of one SLO over the tile. Labels: namespace, profile, slo. */
export const EVENTS_TILE_RECORD = "tollgate_slo:events:increase5m";

export function isTiled(windowMs: number): boolean {
  return windowMs > TILED_ABOVE_MS;
}

/** The matchers that pick one SLO's tiles. */
export function tileSelector(namespace: string, profile: string, slo: string): string {
  return formatSelector([
    { name: "namespace", op: "=", rawValue: quoteLabelValue(namespace) },
    { name: "profile", op: "=", rawValue: quoteLabelValue(profile) },
    { name: "slo", op: "=", rawValue: quoteLabelValue(slo) },
  ]);
}

/**
 * The range that holds exactly window / TILE tiles. Prometheus 2 selects [t − range, t], both ends
 * included, so a tile exactly at t − window (rules evaluated in step, as promtool's tests do) would be
 * one too many; a millisecond less keeps it out there, and changes nothing under Prometheus 3's (t − range, t].
 */
function tileRange(window: string): string {
  return formatDuration(parseDuration(window) - 1);
}

/** Bad events over all events in `window`, from the tiles; NaN with no events, as the raw ratio. */
export function tiledErrorRatio(selector: string, window: string): string {
  const range = tileRange(window);
  return `sum_over_time(${BAD_TILE_RECORD}${selector}[${range}]) / sum_over_time(${EVENTS_TILE_RECORD}${selector}[${range}])`;
}

/** Events counted over `window`, from the tiles. */
export function tiledEvents(selector: string, window: string): string {
  return `sum_over_time(${EVENTS_TILE_RECORD}${selector}[${tileRange(window)}])`;
}
