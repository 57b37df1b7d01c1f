import type { Autoscaling } from "../api/autoscaling.ts";
import { parseDuration } from "../api/duration.ts";
import type { ProfileSpec } from "../api/profile.ts";
import type { ProfileStatus } from "../api/status.ts";
import type { BurnRole, Measurements } from "../slo/types.ts";

export type AutoscalingStatus = NonNullable<ProfileStatus["autoscaling"]>;
type Slo = ProfileSpec["slos"][number];

/** The two burn-rate windows a latency SLO is judged on, as the policy judges "burning now". */
export const SHORT_ROLE: BurnRole = "5m";
export const CONFIRM_ROLE: BurnRole = "1h";

export interface BoostInput {
  autoscaling: Autoscaling;
  /** spec.slos: which of them are latency SLOs. */
  slos: readonly Slo[];
  /** This evaluation's measurements; `at` is the boost's clock (one step per measurement). */
  measurements: Measurements;
  /** status.autoscaling as stored. */
  previous: AutoscalingStatus | undefined;
  /**
   * policy.evaluationInterval: the target drops at most one step per interval, however often the
   * profile is reconciled (applying the HPA brings the profile back at once, through its informer).
   */
  stepEveryMs?: number;
}

export type BoostReason = "Disabled" | "NoLatencySlo" | "Lowered" | "AtFloor" | "AlreadyApplied" | "NoData" | "CoolingDown" | "Restored" | "NotBoosted";

export interface BoostResult {
  /** The HPA's CPU target now, percent: status.autoscaling.cpuTarget. */
  cpuTarget: number;
  /** status.autoscaling.boostedSince: the last measurement that saw a latency SLO burning; absent when not boosted. */
  boostedSince?: string;
  /** Whether cpuTarget or boostedSince differ from `previous`: the HPA or status needs a write. */
  changed: boolean;
  reason: BoostReason;
  message: string;
}

/** A latency SLO: a histogram indicator or Istio's latency preset. A ratio SLO may be anything, so it never boosts. */
export function isLatencySlo(slo: Slo): boolean {
  return slo.indicator.latency !== undefined || slo.indicator.istio?.kind === "latency";
}

type Reading = { slo: string; state: "burning" | "calm"; short: number; confirm: number } | { slo: string; state: "unknown" };

/**
 * Burning: verdict Ok and both the 5m-role and the 1h-role burn rate above 1, the policy's "burning
 * now" (policy/budget.ts). The 1h keeps a few slow requests in a quiet 5m from scaling anything out;
 * the 5m ends the burn as soon as latency recovers, though the 1h stays high for a while. Calm: verdict
 * Ok, both rates present, not burning. Anything else (no data, too few events, a rate missing) is
 * unknown and changes nothing.
 */
function read(m: Measurements, name: string): Reading {
  const got = m.error === undefined ? m.slos.find((s) => s.name === name) : undefined;
  if (got?.verdict !== "Ok") return { slo: name, state: "unknown" };
  const rate = (role: BurnRole) => {
    const v = got.burnRates.find((b) => b.role === role)?.value;
    return v !== undefined && Number.isFinite(v) && v >= 0 ? v : undefined;
  };
  const short = rate(SHORT_ROLE);
  const confirm = rate(CONFIRM_ROLE);
  if (short === undefined || confirm === undefined) return { slo: name, state: "unknown" };
  return { slo: name, state: short > 1 && confirm > 1 ? "burning" : "calm", short, confirm };
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * The SLO boost: while a latency SLO burns faster than 1×, each new measurement lowers the HPA's CPU
 * target by sloBoost.step, down to sloBoost.minCpuUtilization, so the HPA adds replicas before CPU
 * alone would ask. Once every latency SLO has been calm for sloBoost.coolDown since the last burning
 * measurement, the target goes back to cpuUtilization at once: the HPA's scale-down stabilization
 * window and its gradual scale-down already pace how fast replicas go, and stepping up would keep
 * extra replicas for several cool-downs after the need has passed, with more state than status holds.
 *
 * "Per evaluation" is one step per stepEveryMs (the evaluation interval) and never twice on the same
 * measurement, however often the profile is reconciled. No data holds the target as it is.
 */
export function boost(input: BoostInput): BoostResult {
  const { autoscaling, measurements: m, previous } = input;
  const base = autoscaling.cpuUtilization;
  const b = autoscaling.sloBoost;
  const result = (cpuTarget: number, boostedSince: string | undefined, reason: BoostReason, message: string): BoostResult => ({
    cpuTarget,
    ...(boostedSince !== undefined ? { boostedSince } : {}),
    changed: cpuTarget !== previous?.cpuTarget || boostedSince !== previous?.boostedSince,
    reason,
    message,
  });
  if (!b) return result(base, undefined, "Disabled", `CPU target ${base} % (autoscaling.sloBoost is not set).`);
  const latency = input.slos.filter(isLatencySlo).map((s) => s.name);
  if (latency.length === 0) return result(base, undefined, "NoLatencySlo", `CPU target ${base} %: no latency SLO to boost on.`);

  const floor = Math.min(b.minCpuUtilization, base);
  // The spec may have moved since the target was set: keep it within today's bounds.
  const current = clamp(previous?.cpuTarget ?? base, floor, base);
  const since = previous?.boostedSince;
  const sinceMs = since === undefined ? Number.NaN : Date.parse(since);
  const at = m.at.getTime();
  const readings = latency.map((name) => read(m, name));

  const burning = readings.filter((r) => r.state === "burning");
  if (burning.length > 0) {
    const what = burning.map((r) => ("short" in r ? `${r.slo} burns ${r.short.toFixed(1)}x (5m) / ${r.confirm.toFixed(1)}x (1h)` : r.slo)).join(", ");
    if (Number.isFinite(sinceMs) && current > floor && (at <= sinceMs || at - sinceMs < (input.stepEveryMs ?? 0))) {
      return result(current, since, "AlreadyApplied", `CPU target ${current} %: ${what}; the last step was at ${since}, one step per evaluation.`);
    }
    const next = Math.max(floor, current - b.step);
    const reason = next < current ? "Lowered" : "AtFloor";
    const message = next < current ? `CPU target lowered to ${next} % from ${current} %: ${what}.` : `CPU target held at the floor of ${floor} %: ${what}.`;
    return result(next, m.at.toISOString(), reason, message);
  }
  if (readings.some((r) => r.state === "unknown")) {
    return result(current, current < base ? since : undefined, "NoData", `CPU target held at ${current} %: no burn rate for ${readings.filter((r) => r.state === "unknown").map((r) => r.slo).join(", ")}.`);
  }
  if (current < base && Number.isFinite(sinceMs) && at - sinceMs < parseDuration(b.coolDown)) {
    return result(current, since, "CoolingDown", `CPU target held at ${current} % until latency has been calm for ${b.coolDown} since ${since}.`);
  }
  if (current < base || since !== undefined) return result(base, undefined, "Restored", `CPU target restored to ${base} %: latency calm for ${b.coolDown}.`);
  return result(base, undefined, "NotBoosted", `CPU target ${base} %: latency SLOs burn at or under 1x.`);
}
