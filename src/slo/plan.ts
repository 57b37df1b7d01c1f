import type { ProfileSpec } from "../api/profile.ts";
import type { Slo } from "../api/slo.ts";
import { primaryName } from "../traffic/names.ts";
import { sloQueries, type Workload } from "./promql.ts";
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

export function planSlo(profile: SloProfile, slo: Slo, opts: WindowOptions = {}): SloPlan | SloPlanError {
  try {
    const q = sloQueries(slo.indicator, measuredWorkload(profile));
    const window = canonicalWindow(slo.window);
    return {
      slo,
      window,
      burnWindows: burnWindows(window, opts),
      errorRatios: queryWindows(window, opts).map((w) => ({ window: w, expr: q.errorRatio(w) })),
      events: q.events(window),
      histogram: slo.indicator.ratio === undefined && slo.indicator.istio?.kind !== "availability",
    };
  } catch (err) {
    // SloConfigError, or a duration the schema should have refused: either way this SLO only.
    return { slo, error: err instanceof Error ? err.message : String(err) };
  }
}

export function planProfile(profile: SloProfile, opts: WindowOptions = {}): ProfilePlan {
  return { profile, slos: profile.spec.slos.map((slo) => planSlo(profile, slo, opts)) };
}
