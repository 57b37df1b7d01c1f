import { createHash } from "node:crypto";
import { formatDuration, parseDuration } from "../api/duration.ts";
import { formatSelector, quoteLabelValue, type Matcher } from "./promql.ts";

/**
 * Long windows summed from recorded tiles instead of raw samples. Reading rate(x[30d]) touches every
 * raw sample of 30 days on every evaluation; a tile records the bad and all events of one SLO over one
 * tile (5 minutes by default), once per tile, so the raw samples are read about once, and a 30-day
 * window is the sum of its 8,640 tiles. Sums of counts, not averages of ratios: the error ratio over the
 * window stays event-weighted, and increase() inside each tile handles counter resets as it always does.
 *
 * What it costs in accuracy, stated once here and in README:
 * - a tiled window ends at the last tile, up to one tile before now; the short burn windows, which
 *   must see a burn at once, are never tiled (only windows longer than TILES_PER_RAW_WINDOW tiles are);
 * - a window that is not a multiple of the tile covers the whole tiles inside it, so its length is off
 *   by less than one tile (at most 5m / window: 0.07 % of a 5-day window);
 * - increase() extrapolates each tile to its edges as it does any range, so a burst straddling a tile
 *   edge is split between the two by that extrapolation rather than exactly;
 * - while Prometheus does not evaluate rules (stopped, restarting) no tile is recorded, and the events
 *   of that gap are missing from every tiled window until it has passed; a raw increase() would count
 *   them, from the counters' values either side of the gap.
 *
 * A window is summed from tiles only once tiles have been recorded for all of it: until then it is read
 * raw. How long they have been is itself recorded (TILES_SINCE_RECORD), per SLO and per tile definition
 * (the `tiles` label, a digest of the tile's PromQL), so a changed indicator starts afresh instead of
 * summing tiles that measured something else.
 */
export const DEFAULT_TILE = "5m";

/** Windows up to this many tiles are read raw: an hour at the default tile, 240 samples per series at a 15 s scrape. */
export const TILES_PER_RAW_WINDOW = 12;

/** Bad events of one SLO over one tile. Labels: namespace, profile, slo, tiles. */
export const BAD_TILE_RECORD = "tollgate_slo:bad_events:increase_tile";
/** All events of one SLO over one tile. Labels: namespace, profile, slo, tiles. */
export const EVENTS_TILE_RECORD = "tollgate_slo:events:increase_tile";
/**
 * When the SLO's first tile of an unbroken run was recorded, in Unix seconds. Labels: namespace, profile,
 * slo, tiles. A run survives gaps in the tiles (a Prometheus restart) up to SINCE_GAP; a longer one
 * starts a new run, and the windows wait for it again.
 */
export const TILES_SINCE_RECORD = "tollgate_slo:tiles:since";

/** The longest gap in the tiles that keeps their run. */
export const SINCE_GAP = "1h";

/** The label that tells one tile definition from another. */
export const TILE_LABEL = "tiles";

export interface TileOptions {
  /** The tile's length; DEFAULT_TILE unless set. The raw samples of a tile must be several (4× the scrape interval at least). */
  tile?: string;
  /**
   * Per SLO name, how long its current tiles have been recorded, in ms: windows up to that long are
   * summed from them, longer ones read raw. Omitted: every window that can be is summed (the steady
   * state, as a benchmark or a Prometheus with the tiles backfilled has it).
   */
  coverageMs?: Readonly<Record<string, number>>;
}

export function tileMs(opts: TileOptions): number {
  return parseDuration(opts.tile ?? DEFAULT_TILE);
}

/** Whether a window is long enough to be summed from tiles once they cover it. */
export function isTileable(windowMs: number, opts: TileOptions): boolean {
  return windowMs > TILES_PER_RAW_WINDOW * tileMs(opts);
}

/** Whether a window of `slo` is summed from tiles now. */
export function isTiled(windowMs: number, slo: string, opts: TileOptions): boolean {
  if (!isTileable(windowMs, opts)) return false;
  return opts.coverageMs === undefined || windowMs <= (opts.coverageMs[slo] ?? 0);
}

/** A digest of what one tile measures: its bad and all events' PromQL and its length. */
export function tileDigest(bad: string, events: string, tile: string): string {
  return createHash("sha256").update(`${tile}\u0000${bad}\u0000${events}`).digest("hex").slice(0, 12);
}

const profileMatchers = (namespace: string, profile: string): Matcher[] => [
  { name: "namespace", op: "=", rawValue: quoteLabelValue(namespace) },
  { name: "profile", op: "=", rawValue: quoteLabelValue(profile) },
];

/** The matchers that pick one SLO's tiles of one definition. */
export function tileSelector(namespace: string, profile: string, slo: string, digest: string): string {
  return formatSelector([
    ...profileMatchers(namespace, profile),
    { name: "slo", op: "=", rawValue: quoteLabelValue(slo) },
    { name: TILE_LABEL, op: "=", rawValue: quoteLabelValue(digest) },
  ]);
}

/** The matchers that pick every tile series of one profile. */
export function profileTilesSelector(namespace: string, profile: string): string {
  return formatSelector(profileMatchers(namespace, profile));
}

/**
 * The range that holds exactly window / tile tiles. Prometheus 2 selects [t − range, t], both ends
 * included, so a tile exactly at t − window (rules evaluated in step, as promtool's tests do) would be
 * one too many; a millisecond less keeps it out there, and changes nothing under Prometheus 3's (t − range, t].
 */
function tileRange(window: string): string {
  return formatDuration(parseDuration(window) - 1);
}

/**
 * Bad events over all events in `window`, from the tiles; NaN with no events, as the raw ratio. Summed
 * to a series without labels, as every raw expression is: the recorded window keeps one identity
 * whether it is read raw or from tiles, so the switch is seamless.
 */
export function tiledErrorRatio(selector: string, window: string): string {
  const range = tileRange(window);
  return `sum(sum_over_time(${BAD_TILE_RECORD}${selector}[${range}])) / sum(sum_over_time(${EVENTS_TILE_RECORD}${selector}[${range}]))`;
}

/** Events counted over `window`, from the tiles. */
export function tiledEvents(selector: string, window: string): string {
  return `sum(sum_over_time(${EVENTS_TILE_RECORD}${selector}[${tileRange(window)}]))`;
}

/**
 * The start of the tiles' run: its own earlier value while it has one within SINCE_GAP, else the time
 * of the tile just recorded (the group records the tiles first, at the same instant). Written only
 * while there is a tile (within the lookback), so a run ends when its tiles stop for SINCE_GAP, rather
 * than carrying itself forward with nothing under it.
 */
export function tilesSince(selector: string): string {
  const tile = `${EVENTS_TILE_RECORD}${selector}`;
  return `(min_over_time(${TILES_SINCE_RECORD}${selector}[${SINCE_GAP}]) and ${tile}) or timestamp(${tile})`;
}

/** Per SLO, how long its tiles of `digest` have been recorded at `nowMs`, from TILES_SINCE_RECORD's value in seconds. */
export function coverageFromSince(sinceSeconds: number | undefined, nowMs: number): number {
  if (sinceSeconds === undefined || !Number.isFinite(sinceSeconds)) return 0;
  return Math.max(0, nowMs - sinceSeconds * 1000);
}
