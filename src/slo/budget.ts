import type { Slo } from "../api/slo.ts";
import type { SloPlan } from "./plan.ts";
import type { BurnRate, BurnRole, SloMeasurement } from "./types.ts";
import { BURN_ALERTS } from "./types.ts";
import { burnWindows, canonicalWindow, type BurnWindow, type WindowOptions } from "./windows.ts";

/**
 * Measurements are far less precise than 12 significant digits, while float noise
 * (0.0075 / 0.005 = 1.4999999999999998) would flip a `consumed >= 150` comparison; rounding to 12
 * digits removes the noise and nothing real. Non-finite values never leave this module.
 */
function tidy(x: number): number | undefined {
  if (!Number.isFinite(x)) return undefined;
  const r = Number(x.toPrecision(12));
  return r === 0 ? 0 : r;
}

/** The error budget as a fraction of events: 0.005 for 99.5 (rounded, since 100 − 99.9 is 0.09999999999999432 in floats). */
export function errorBudget(objective: number): number {
  return tidy((100 - objective) / 100) ?? 0;
}

/**
 * An error ratio is a share of events, so values outside [0, 1] are extrapolation noise (rate() of a
 * bucket and of _count extrapolate separately) or a misconfigured query; either way the share is clamped.
 */
export function clampRatio(errorRatio: number | undefined): number | undefined {
  if (errorRatio === undefined || !Number.isFinite(errorRatio)) return undefined;
  return Math.min(1, Math.max(0, errorRatio));
}

/** BR = errorRatio / (1 − objective); undefined when the ratio is (no events, NaN). */
export function burnRate(errorRatio: number | undefined, objective: number): number | undefined {
  const r = clampRatio(errorRatio);
  const budget = errorBudget(objective);
  if (r === undefined || !(budget > 0)) return undefined;
  return tidy(r / budget);
}

/** Budget consumed over the SLO window in percent: 100 × BR(window). May exceed 100. */
export function consumedPercent(errorRatio: number | undefined, objective: number): number | undefined {
  const r = clampRatio(errorRatio);
  const budget = errorBudget(objective);
  if (r === undefined || !(budget > 0)) return undefined;
  // Scaling the ratio before dividing keeps the seed cases exact (0.0075 → 150, not 149.99999999999997).
  return tidy((r * 100) / budget);
}

/** Budget left in percent, clamped at 0 once consumption passes 100. */
export function remainingPercent(consumed: number): number {
  return tidy(Math.max(0, 100 - consumed)) ?? 0;
}

/** Good events over all events, in percent. */
export function sliPercent(errorRatio: number | undefined): number | undefined {
  const r = clampRatio(errorRatio);
  return r === undefined ? undefined : tidy(100 * (1 - r));
}

/** What Prometheus answered for one SLO; undefined wherever there was no series or NaN. */
export interface SloReading {
  /** Error ratio by queried window (canonical spelling, as in SloPlan.errorRatios). */
  errorRatios: ReadonlyMap<string, number | undefined>;
  /** Events over the SLO window. */
  events: number | undefined;
}

/**
 * The burn rates of an SLO without values: a role and window each. One frozen list per list of burn
 * windows (those are shared, see burnWindows), so readings without a verdict hold no copies of their own.
 */
const skeletons = new WeakMap<readonly BurnWindow[], readonly BurnRate[]>();
function skeletonOf(windows: readonly BurnWindow[]): readonly BurnRate[] {
  let found = skeletons.get(windows);
  if (found === undefined) {
    found = Object.freeze(windows.map((w) => Object.freeze({ role: w.role, window: w.window })));
    skeletons.set(windows, found);
  }
  return found;
}

function burnRateSkeleton(slo: Slo, opts: WindowOptions): readonly BurnRate[] {
  try {
    return skeletonOf(burnWindows(canonicalWindow(slo.window), opts));
  } catch {
    return [];
  }
}

/**
 * An SLO without a verdict: Prometheus could not answer, or the SLO cannot be measured as written.
 * Names and windows stay so status can still list it.
 */
export function noDataMeasurement(slo: Slo, opts: WindowOptions = {}): SloMeasurement {
  return { name: slo.name, objective: slo.objective, window: slo.window, verdict: "NoData", burnRates: burnRateSkeleton(slo, opts) };
}

/**
 * The measurement of one SLO from what Prometheus answered. Zero traffic or no series is NoData, fewer
 * than minEvents is InsufficientData; only then (verdict Ok) are SLI, consumption and burn rates set,
 * so missing data never reads as 0 % or 100 %.
 */
export function measureSlo(plan: SloPlan, reading: SloReading, minEvents: number): SloMeasurement {
  const { slo } = plan;
  const base = { name: slo.name, objective: slo.objective, window: slo.window };
  const skeleton = skeletonOf(plan.burnWindows);
  const rawEvents = reading.events;
  const events = rawEvents !== undefined && Number.isFinite(rawEvents) ? Math.max(0, Math.round(rawEvents)) : undefined;
  if (events === undefined || events === 0) {
    return { ...base, verdict: "NoData", ...(events === 0 ? { events } : {}), burnRates: skeleton };
  }
  if (events < minEvents) return { ...base, verdict: "InsufficientData", events, burnRates: skeleton };
  const ratio = reading.errorRatios.get(plan.window);
  const sli = sliPercent(ratio);
  const consumed = consumedPercent(ratio, slo.objective);
  if (sli === undefined || consumed === undefined) return { ...base, verdict: "NoData", events, burnRates: skeleton };
  const burnRates = plan.burnWindows.map((w): BurnRate => {
    const value = burnRate(reading.errorRatios.get(w.window), slo.objective);
    return value === undefined ? { role: w.role, window: w.window } : { role: w.role, window: w.window, value };
  });
  return { ...base, verdict: "Ok", events, sli, consumedPercent: consumed, burnRates };
}

export interface FiringBurnAlert {
  long: BurnRole;
  short: BurnRole;
  factor: number;
  severity: "page" | "ticket";
  longRate: number;
  shortRate: number;
}

/**
 * The SRE Workbook's multi-window alerts that fire on a measurement: both the long and the short
 * window burn faster than the factor (the short one confirms the burn is still going on). The
 * factors hold for any SLO window because the windows scale with it. Nothing fires without a verdict.
 */
export function firingBurnAlerts(m: SloMeasurement): FiringBurnAlert[] {
  if (m.verdict !== "Ok") return [];
  const rate = (role: BurnRole) => m.burnRates.find((b) => b.role === role)?.value;
  const out: FiringBurnAlert[] = [];
  for (const a of BURN_ALERTS) {
    const longRate = rate(a.long);
    const shortRate = rate(a.short);
    if (longRate !== undefined && shortRate !== undefined && longRate > a.factor && shortRate > a.factor) {
      out.push({ long: a.long, short: a.short, factor: a.factor, severity: a.severity, longRate, shortRate });
    }
  }
  return out;
}
