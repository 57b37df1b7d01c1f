import { rate } from "../policy/format.ts";
import type { CanaryMeasurement, CanarySpec } from "./types.ts";
import type { ProfileSpec } from "../api/profile.ts";

/**
 * The verdict of one canary check. A hold is neither a pass nor a failure: a canary nobody calls
 * cannot be judged, and failing it would roll back good code for want of traffic.
 */
export type CheckVerdict =
  | { kind: "pass"; message: string }
  | { kind: "fail"; reason: "BurnRateExceeded"; message: string }
  | { kind: "hold"; reason: "NoData" | "InsufficientData"; message: string };

/**
 * The SLOs that gate the canary: spec.canary.slos, or every SLO with an Istio indicator. Only those
 * can be measured on the canary's own pods (destination_workload is the target Deployment, primary is
 * `<name>-primary`); the schema refuses canary.slos naming any other.
 */
export function gatingSlos(spec: ProfileSpec): string[] {
  return spec.canary?.slos ?? spec.slos.filter((s) => s.indicator.istio !== undefined).map((s) => s.name);
}

/** Fewest canary requests a check needs: spec.canary.minEvents, or the policy's. */
export function minEvents(spec: ProfileSpec): number {
  return spec.canary?.minEvents ?? spec.policy.minEvents;
}

type Reading = { slo: string; burn: number; events: number } | { slo: string; missing: "NoData" | "InsufficientData"; events: number };

function read(m: CanaryMeasurement | undefined, slo: string, min: number): Reading {
  const r = m?.error === undefined ? m?.slos.find((x) => x.slo === slo) : undefined;
  const events = r?.events !== undefined && Number.isFinite(r.events) && r.events > 0 ? r.events : 0;
  const burn = r?.burnRate;
  if (events === 0 || burn === undefined || !Number.isFinite(burn) || burn < 0) return { slo, missing: "NoData", events };
  if (events < min) return { slo, missing: "InsufficientData", events };
  return { slo, burn, events };
}

/**
 * Judges the canary over its last interval. Any gating SLO with enough events above maxBurnRate fails
 * the check, even if another SLO has no data: a failure seen is a failure. All gating SLOs with
 * enough events and at or under maxBurnRate pass. Anything else holds. Fewer than minEvents holds
 * even when the burn rate is high: one error in three requests is a burn rate of 66 for a 99.5 %
 * objective, and minEvents exists so that such noise decides nothing.
 */
export function judgeCheck(canary: CanarySpec, gating: readonly string[], min: number, m: CanaryMeasurement | undefined): CheckVerdict {
  const readings = gating.map((slo) => read(m, slo, min));
  const over = readings.filter((r) => "burn" in r && r.burn > canary.maxBurnRate);
  if (over.length > 0) {
    const what = over.map((r) => ("burn" in r ? `${r.slo} burns ${rate(r.burn)} over ${Math.round(r.events)} requests` : "")).join(", ");
    return { kind: "fail", reason: "BurnRateExceeded", message: `${what} (maxBurnRate ${canary.maxBurnRate}x)` };
  }
  const missing = readings.filter((r) => "missing" in r);
  if (missing.length === 0) {
    const what = readings.map((r) => ("burn" in r ? `${r.slo} ${rate(r.burn)}` : "")).join(", ");
    return { kind: "pass", message: `${what}, at or under maxBurnRate ${canary.maxBurnRate}x` };
  }
  if (m?.error !== undefined) return { kind: "hold", reason: "NoData", message: `no canary data: ${m.error}` };
  const noData = missing.some((r) => "missing" in r && r.missing === "NoData");
  const what = missing.map((r) => `${r.slo} ${Math.round(r.events)} requests`).join(", ");
  return {
    kind: "hold",
    reason: noData ? "NoData" : "InsufficientData",
    message: `${what} in the last ${canary.interval}, fewer than the ${min} a check needs; the step waits`,
  };
}
