import { formatDuration, parseDuration } from "../api/duration.ts";
import type { ProfileSpec } from "../api/profile.ts";
import { gatingSlos } from "../canary/check.ts";
import { sloQueries } from "./promql.ts";
import { DEFAULT_MIN_BURN_WINDOW_MS, type WindowOptions } from "./windows.ts";

/** The PromQL of one gating SLO, measured on the canary's pods only. */
export interface CanarySloQuery {
  slo: string;
  /** Percent, e.g. 99.5: the burn rate is the error ratio over 1 − objective. */
  objective: number;
  errorRatio: string;
  events: string;
}

export interface CanaryPlan {
  /** The range every query reads: the canary interval, at least the burn-window floor. */
  window: string;
  slos: CanarySloQuery[];
}

/**
 * What a canary check reads: each gating SLO's error ratio and request count over the last interval,
 * on the target Deployment alone. In canary mode the target's pods are the canary (primary is
 * `<name>-primary`, another destination_workload), so the Istio presets single them out. Gating SLOs
 * are Istio presets by the schema's rule; any other is skipped here and holds the check as no data.
 */
export function canaryPlan(namespace: string, spec: ProfileSpec, opts: WindowOptions = {}): CanaryPlan | undefined {
  if (!spec.canary) return undefined;
  const floor = opts.minBurnWindowMs ?? DEFAULT_MIN_BURN_WINDOW_MS;
  const window = formatDuration(Math.max(parseDuration(spec.canary.interval), floor));
  const gating = new Set(gatingSlos(spec));
  const slos = spec.slos
    .filter((s) => gating.has(s.name) && s.indicator.istio !== undefined)
    .map((s) => {
      const q = sloQueries(s.indicator, { namespace, name: spec.targetRef.name });
      return { slo: s.name, objective: s.objective, errorRatio: q.errorRatio(window), events: q.events(window) };
    });
  return { window, slos };
}
