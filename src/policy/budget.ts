import type { ProfileSpec } from "../api/profile.ts";
import type { ProfileStatus } from "../api/status.ts";
import type { BurnRole, Measurements, Verdict } from "../slo/types.ts";
import { truncate } from "./format.ts";

export type SloStatus = NonNullable<ProfileStatus["slos"]>[number];
export type BudgetStatus = NonNullable<ProfileStatus["budget"]>;

/** One SLO as the policy reads it: current numbers only with verdict Ok. */
export interface SloView {
  name: string;
  window: string;
  verdict: Verdict;
  /** Budget consumed now, percent; only with verdict Ok. */
  consumed?: number;
  /** Without a verdict: the consumption status last recorded, so a gap in data cannot end a state. */
  lastKnown?: number;
  /** Finite, non-negative burn rates by role; only with verdict Ok. */
  burn: Partial<Record<BurnRole, number>>;
}

export interface BudgetView {
  /** Prometheus failed, or no SLO has a verdict: nothing may change because of this cycle's numbers. */
  noData: boolean;
  error?: string;
  slos: SloView[];
  /** The Ok SLO that consumed the most, ties to the first in spec order. */
  worst?: SloView & { consumed: number };
  /**
   * The highest consumption of any SLO, counting the last known value of an SLO without a verdict. Leaving
   * a state (unfreeze, recover) needs this below the threshold, so an SLO whose data vanished cannot
   * lift a freeze it caused.
   */
  held?: { slo: SloView; consumed: number };
}

/** The two short windows "burning now" is judged on; see burningNow. */
export const SHORT_ROLE: BurnRole = "5m";
export const CONFIRM_ROLE: BurnRole = "1h";

/**
 * Still burning now: both the 5m-role and the 1h-role burn rate exceed 1. Above 1 the service is
 * spending budget faster than its objective allows at this moment, so the consumption is still
 * growing and a rollback can stop it; below 1 the damage is history and a rollback only risks more.
 * Two windows, as in the SRE Workbook's fast-burn pair: the 1h keeps a few errors in a quiet 5m from
 * counting, the 5m keeps an hour-old incident that has since stopped from counting. Roles scale with
 * the SLO window, so this holds for short demo windows too. A missing rate never counts as burning.
 */
export function burningNow(slo: SloView): boolean {
  const short = slo.burn[SHORT_ROLE];
  const confirm = slo.burn[CONFIRM_ROLE];
  return slo.verdict === "Ok" && short !== undefined && confirm !== undefined && short > 1 && confirm > 1;
}

const finite = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);

/**
 * Reads the measurements against the spec's SLOs (spec order, so an SLO Prometheus did not return is
 * listed as NoData) and the previous status (for last known values).
 */
export function readBudget(spec: ProfileSpec, prev: ProfileStatus, m: Measurements): BudgetView {
  const slos = spec.slos.map((s): SloView => {
    const got = m.error === undefined ? m.slos.find((x) => x.name === s.name) : undefined;
    const window = got?.window ?? s.window;
    if (got?.verdict === "Ok" && finite(got.consumedPercent)) {
      const burn: Partial<Record<BurnRole, number>> = {};
      for (const b of got.burnRates) if (finite(b.value) && b.value >= 0) burn[b.role] = b.value;
      return { name: s.name, window, verdict: "Ok", consumed: Math.max(0, got.consumedPercent), burn };
    }
    const lastKnown = prev.slos?.find((x) => x.name === s.name)?.consumedPercent;
    return {
      name: s.name,
      window,
      // Ok without a number is a reader bug; treat it as what it is, no data.
      verdict: got?.verdict === "InsufficientData" ? "InsufficientData" : "NoData",
      ...(finite(lastKnown) ? { lastKnown } : {}),
      burn: {},
    };
  });
  let worst: BudgetView["worst"];
  let held: BudgetView["held"];
  for (const s of slos) {
    if (s.consumed !== undefined && (!worst || s.consumed > worst.consumed)) worst = { ...s, consumed: s.consumed };
    const c = s.consumed ?? s.lastKnown;
    if (c !== undefined && (!held || c > held.consumed)) held = { slo: s, consumed: c };
  }
  return {
    noData: m.error !== undefined || worst === undefined,
    ...(m.error !== undefined ? { error: m.error } : {}),
    slos,
    ...(worst ? { worst } : {}),
    ...(held ? { held } : {}),
  };
}

/**
 * status.slos. An SLO without a verdict keeps the numbers and lastEvaluated of its last verdict, marked
 * by its verdict as stale: they are what a restarted operator needs to keep holding a state.
 */
export function sloStatuses(spec: ProfileSpec, prev: ProfileStatus, m: Measurements): SloStatus[] {
  const at = m.at.toISOString();
  return spec.slos.map((s): SloStatus => {
    const got = m.error === undefined ? m.slos.find((x) => x.name === s.name) : undefined;
    const events = got?.events !== undefined && finite(got.events) && got.events >= 0 ? { events: got.events } : {};
    if (got?.verdict === "Ok" && finite(got.consumedPercent)) {
      const consumed = truncate(Math.max(0, got.consumedPercent), 2);
      const burnRates: Record<string, number> = {};
      for (const b of got.burnRates) if (finite(b.value) && b.value >= 0) burnRates[b.role] = truncate(b.value, 2);
      return {
        name: s.name,
        verdict: "Ok",
        ...(finite(got.sli) ? { sli: truncate(Math.min(100, Math.max(0, got.sli)), 3) } : {}),
        consumedPercent: consumed,
        remainingPercent: truncate(Math.max(0, 100 - consumed), 2),
        // An empty map reaches the API server as null, which the schema refuses: the whole write with it.
        ...(Object.keys(burnRates).length ? { burnRates } : {}),
        ...events,
        lastEvaluated: at,
      };
    }
    const before = prev.slos?.find((x) => x.name === s.name);
    return {
      name: s.name,
      verdict: got?.verdict === "InsufficientData" ? "InsufficientData" : "NoData",
      ...(before?.sli !== undefined ? { sli: before.sli } : {}),
      ...(before?.consumedPercent !== undefined ? { consumedPercent: before.consumedPercent } : {}),
      ...(before?.remainingPercent !== undefined ? { remainingPercent: before.remainingPercent } : {}),
      ...(got ? events : before?.events !== undefined ? { events: before.events } : {}),
      ...(before?.lastEvaluated !== undefined ? { lastEvaluated: before.lastEvaluated } : {}),
    };
  });
}

/** status.budget: the worst Ok SLO's; without any verdict the last one stays (stale, as MetricsAvailable says). */
export function budgetStatus(view: BudgetView, prev: ProfileStatus): BudgetStatus | undefined {
  if (!view.worst) return prev.budget;
  const consumed = truncate(view.worst.consumed, 2);
  let worstBurn = 0;
  for (const s of view.slos) worstBurn = Math.max(worstBurn, s.burn[SHORT_ROLE] ?? 0);
  return {
    consumedPercent: consumed,
    remainingPercent: truncate(Math.max(0, 100 - consumed), 2),
    worstSlo: view.worst.name,
    worstBurnRate: truncate(worstBurn, 2),
  };
}
