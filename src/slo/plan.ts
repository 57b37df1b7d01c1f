import { formatDuration, parseDuration } from "../api/duration.ts";
import type { ProfileSpec } from "../api/profile.ts";
import type { Slo } from "../api/slo.ts";
import { primaryName } from "../traffic/names.ts";
import { ratioSeriesCounts, sloQueries, type RatioPart, type SloQueries, type Workload } from "./promql.ts";
import { isTileable, isTiled, tileDigest, tiledErrorRatio, tiledEvents, tileMs, tileSelector, tilesSince, type TileOptions } from "./tiles.ts";
import { burnWindows, canonicalWindow, queryWindows, type BurnWindow, type WindowOptions } from "./windows.ts";

/** A profile as SLO evaluation needs it; a full ProfileSpec fits. */
export interface SloProfile {
  namespace: string;
  name: string;
  spec: Pick<ProfileSpec, "targetRef" | "slos" | "policy"> & Partial<Pick<ProfileSpec, "canary">>;
}

/**
 * What the Istio presets of a profile measure: the target, and in canary mode `<name>-primary` too,
 * since the service's budget is spent by whichever pods serve it.
 */
export function measuredWorkload(profile: SloProfile): Workload {
  const name = profile.spec.targetRef.name;
  return { namespace: profile.namespace, name, ...(profile.spec.canary ? { also: [primaryName(name)] } : {}) };
}

/** Everything to read for one SLO, the same for direct queries and recording rules so both agree. */
export interface SloPlan {
  slo: Slo;
  /** The SLO window as queried and labelled (canonical spelling). */
  window: string;
  burnWindows: readonly BurnWindow[];
  /** Distinct windows the error ratio is read over (burn windows and the SLO window), with their PromQL. */
  errorRatios: Array<{ window: string; expr: string }>;
  /** PromQL for the events over the SLO window. */
  events: string;
  /** The windows (of errorRatios, and the SLO window for events) summed from tiles. */
  tiledWindows: string[];
  /** Whether good events come from a histogram bucket, which may simply not exist at the threshold. */
  histogram: boolean;
  /**
   * For a ratio indicator, its errors and total as the user wrote them, counted in series over the
   * shortest window read: each must be one series (or none), else the sum Tollgate takes of it adds up
   * series the user did not mean to. The shortest window tells what the expression returns now, at the
   * least cost; a series that is gone (an old pod's) is summed over longer windows as the user means.
   */
  seriesCounts: Array<{ part: RatioPart; window: string; expr: string }>;
  /**
   * With tiles: what the SLO's tiles group records every `interval` (the tile), labelled with `digest`,
   * from which its long windows are summed once the tiles cover them. Absent when tiles are not asked
   * for or no window is long enough.
   */
  tiles?: SloTiles;
}

export interface SloTiles {
  /** The tile, as the group's interval. */
  interval: string;
  /** The TILE_LABEL value: a digest of what the tiles measure. */
  digest: string;
  /** Raw PromQL of the tile's bad events, its events, and the start of the tiles' run (tiles.ts). */
  bad: string;
  events: string;
  since: string;
}

export interface PlanOptions extends WindowOptions {
  /**
   * Record tiles and sum long windows from them (tiles.ts): `true` for every window that can be, or
   * options saying how long each SLO's tiles have been recorded. Recording rules only: the tiles exist
   * only where rules record them.
   */
  tiles?: true | TileOptions;
}

/** An SLO that cannot be measured as written; the reason is for a condition message. */
export interface SloPlanError {
  slo: Slo;
  error: string;
}

export interface ProfilePlan {
  profile: SloProfile;
  slos: Array<SloPlan | SloPlanError>;
}

export function isPlanError(p: SloPlan | SloPlanError): p is SloPlanError {
  return "error" in p;
}

export function planSlo(profile: SloProfile, slo: Slo, opts: PlanOptions = {}): SloPlan | SloPlanError {
  try {
    const q = sloQueries(slo.indicator, measuredWorkload(profile));
    const window = canonicalWindow(slo.window);
    const windows = queryWindows(window, opts);
    const shortest = windows[0] ?? window;
    const ratio = slo.indicator.ratio;
    const tileOpts = opts.tiles === true ? {} : opts.tiles;
    const tiles = tileOpts && windows.some((w) => isTileable(parseDuration(w), tileOpts)) ? sloTiles(profile, slo.name, q, tileOpts) : undefined;
    const tiled = (w: string) => tiles !== undefined && tileOpts !== undefined && isTiled(parseDuration(w), slo.name, tileOpts);
    const selector = tiles ? tileSelector(profile.namespace, profile.name, slo.name, tiles.digest) : "";
    return {
      slo,
      window,
      burnWindows: burnWindows(window, opts),
      errorRatios: windows.map((w) => ({ window: w, expr: tiled(w) ? tiledErrorRatio(selector, w) : q.errorRatio(w) })),
      events: tiled(window) ? tiledEvents(selector, window) : q.events(window),
      tiledWindows: windows.filter(tiled),
      histogram: ratio === undefined && slo.indicator.istio?.kind !== "availability",
      seriesCounts: ratio ? ratioSeriesCounts(ratio.errors, ratio.total, shortest).map((c) => ({ ...c, window: shortest })) : [],
      ...(tiles ? { tiles } : {}),
    };
  } catch (err) {
    // SloConfigError, or a duration the schema should have refused: either way this SLO only.
    return { slo, error: err instanceof Error ? err.message : String(err) };
  }
}

function sloTiles(profile: SloProfile, slo: string, q: SloQueries, opts: TileOptions): SloTiles {
  const interval = formatDuration(tileMs(opts));
  const bad = q.badEvents(interval);
  const events = q.events(interval);
  const digest = tileDigest(bad, events, interval);
  return { interval, digest, bad, events, since: tilesSince(tileSelector(profile.namespace, profile.name, slo, digest)) };
}

export function planProfile(profile: SloProfile, opts: PlanOptions = {}): ProfilePlan {
  return { profile, slos: profile.spec.slos.map((slo) => planSlo(profile, slo, opts)) };
}
