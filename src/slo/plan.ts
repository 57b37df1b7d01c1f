import { parseDuration } from "../api/duration.ts";
import type { ProfileSpec } from "../api/profile.ts";
import type { Slo } from "../api/slo.ts";
import { primaryName } from "../traffic/names.ts";
import { ratioSeriesCounts, sloQueries, type RatioPart, type Workload } from "./promql.ts";
import { isTiled, TILE, tiledErrorRatio, tiledEvents, tileSelector } from "./tiles.ts";
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
  burnWindows: BurnWindow[];
  /** Distinct windows the error ratio is read over (burn windows and the SLO window), with their PromQL. */
  errorRatios: Array<{ window: string; expr: string }>;
  /** PromQL for the events over the SLO window. */
  events: string;
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
   * With tiles: the raw PromQL of one tile's bad and all events, recorded every TILE, from which the
   * windows longer than TILED_ABOVE_MS are summed. Absent when no window is tiled.
   */
  tiles?: { bad: string; events: string };
}

export interface PlanOptions extends WindowOptions {
  /** Sum long windows from recorded tiles (recording rules only: the tiles exist only where rules record them). */
  tiles?: boolean;
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
    const tiled = (w: string) => opts.tiles === true && isTiled(parseDuration(w));
    const selector = tileSelector(profile.namespace, profile.name, slo.name);
    return {
      slo,
      window,
      burnWindows: burnWindows(window, opts),
      errorRatios: windows.map((w) => ({ window: w, expr: tiled(w) ? tiledErrorRatio(selector, w) : q.errorRatio(w) })),
      events: tiled(window) ? tiledEvents(selector, window) : q.events(window),
      histogram: ratio === undefined && slo.indicator.istio?.kind !== "availability",
      seriesCounts: ratio ? ratioSeriesCounts(ratio.errors, ratio.total, shortest).map((c) => ({ ...c, window: shortest })) : [],
      ...(windows.some(tiled) ? { tiles: { bad: q.badEvents(TILE), events: q.events(TILE) } } : {}),
    };
  } catch (err) {
    // SloConfigError, or a duration the schema should have refused: either way this SLO only.
    return { slo, error: err instanceof Error ? err.message : String(err) };
  }
}

export function planProfile(profile: SloProfile, opts: PlanOptions = {}): ProfilePlan {
  return { profile, slos: profile.spec.slos.map((slo) => planSlo(profile, slo, opts)) };
}
