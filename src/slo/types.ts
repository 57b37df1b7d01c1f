/**
 * What SLO evaluation hands to the policy: the shared contract between `slo/` (and the Prometheus
 * readers) and `policy/`. Plain data, no NaN or Infinity anywhere: a value that cannot be computed is
 * absent, and the verdict says why.
 */

/**
 * The SRE Workbook's burn-rate windows for a 30-day SLO window. For other SLO windows each is scaled by
 * window / 30d, with a floor of a few scrape intervals (src/slo/windows.ts). The role names the window's job; `window`
 * in a BurnRate is the duration actually queried.
 */
export const BURN_ROLES = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;
export type BurnRole = (typeof BURN_ROLES)[number];

/** Multi-window alert pairs (long, short, factor) from the SRE Workbook, for a 30d SLO window. */
export const BURN_ALERTS: ReadonlyArray<{ long: BurnRole; short: BurnRole; factor: number; severity: "page" | "ticket" }> = [
  { long: "1h", short: "5m", factor: 14.4, severity: "page" },
  { long: "6h", short: "30m", factor: 6, severity: "page" },
  { long: "1d", short: "2h", factor: 3, severity: "ticket" },
  { long: "3d", short: "6h", factor: 1, severity: "ticket" },
];

/** Ok: enough events for a verdict. NoData: no series or no traffic. InsufficientData: fewer than minEvents. */
export type Verdict = "Ok" | "NoData" | "InsufficientData";

export interface BurnRate {
  role: BurnRole;
  /** The duration queried, Prometheus-style (e.g. "5m", or "10s" for a 1h SLO window). */
  window: string;
  /** errorRatio(window) / (1 − objective); absent when the window had no events. */
  value?: number;
}

export interface SloMeasurement {
  name: string;
  /** Percent of good events the SLO promises, e.g. 99.5. */
  objective: number;
  /** The SLO window, e.g. "30d". */
  window: string;
  verdict: Verdict;
  /** Events (requests) counted over the SLO window. */
  events?: number;
  /** Good events over all events in the SLO window, in percent. Present only with verdict Ok. */
  sli?: number;
  /** Budget consumed over the SLO window in percent (= 100 × burn rate over the window); may exceed 100. Present only with verdict Ok. */
  consumedPercent?: number;
  burnRates: readonly BurnRate[];
}

export interface Measurements {
  /** When set, Prometheus could not answer (unreachable, timeout, server error); no SLO has a verdict. */
  error?: string;
  slos: SloMeasurement[];
  /** When the measurement was taken. */
  at: Date;
}
