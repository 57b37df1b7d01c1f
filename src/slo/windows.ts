import { formatDuration, parseDuration } from "../api/duration.ts";
import { BURN_ALERTS, BURN_ROLES, type BurnRole } from "./types.ts";

/** The SLO window the SRE Workbook's burn-rate windows are written for. */
export const REFERENCE_WINDOW_MS = 30 * 86_400_000;

/**
 * The shortest window a burn rate is ever queried over. rate() needs at least two samples in its
 * range, and a window of barely two scrape intervals sometimes holds one: then the error series drops
 * out, reads as zero errors, and a service burning at 2× looks idle for a cycle (which once made the
 * policy skip a rollback as "not burning now"). 10 s is ten samples at the 1 s scrape interval of the
 * test Prometheus and the demo's minute-long SLO windows. Production setups scrape every 15–60 s and
 * should raise it (minBurnWindowMs) to 4× their interval or more; with a realistic SLO window (7d and
 * up) no role scales below 70 s anyway, so the floor only matters for short windows.
 */
export const DEFAULT_MIN_BURN_WINDOW_MS = 10_000;

export interface WindowOptions {
  /** Floor for scaled burn windows, in ms. Defaults to DEFAULT_MIN_BURN_WINDOW_MS. */
  minBurnWindowMs?: number;
}

export interface BurnWindow {
  role: BurnRole;
  /** The duration queried, Prometheus-style. */
  window: string;
  ms: number;
}

const ROLE_MS: Record<BurnRole, number> = Object.fromEntries(BURN_ROLES.map((r) => [r, parseDuration(r)])) as Record<BurnRole, number>;

/** Normalises a duration string to the one spelling Tollgate queries and labels with (`28d` → `4w`). */
export function canonicalWindow(window: string): string {
  return formatDuration(parseDuration(window));
}

/**
 * The window queried for one burn-rate role: the role's duration scaled by sloWindow / 30d, rounded
 * to whole seconds (Prometheus ranges below a second are meaningless at any scrape interval), at
 * least the floor, and at most the SLO window itself.
 */
export function scaleBurnWindow(role: BurnRole, sloWindow: string, opts: WindowOptions = {}): BurnWindow {
  const sloMs = parseDuration(sloWindow);
  const floor = opts.minBurnWindowMs ?? DEFAULT_MIN_BURN_WINDOW_MS;
  // Multiply before dividing so a 30d window gives the role's duration exactly.
  const scaled = Math.round((ROLE_MS[role] * sloMs) / REFERENCE_WINDOW_MS / 1000) * 1000;
  const ms = Math.min(Math.max(scaled, floor), sloMs);
  return { role, window: formatDuration(ms), ms };
}

/**
 * burnWindows' answers, by SLO window and floor. Every profile's reading carries its SLOs' burn
 * windows, and thousands of profiles share a handful of SLO windows: one frozen list each, and one copy
 * of each window's spelling, instead of seven new objects and strings per SLO per read. Bounded, since
 * SLO windows are the users' to choose; when full it starts over.
 */
const windowsBySlo = new Map<string, readonly BurnWindow[]>();
const WINDOWS_KEPT = 1_000;

/** Every burn-rate role's window for an SLO window, in BURN_ROLES order. Shared and frozen: copy to change. */
export function burnWindows(sloWindow: string, opts: WindowOptions = {}): readonly BurnWindow[] {
  const key = `${sloWindow} ${opts.minBurnWindowMs ?? DEFAULT_MIN_BURN_WINDOW_MS}`;
  let found = windowsBySlo.get(key);
  if (found === undefined) {
    found = Object.freeze(BURN_ROLES.map((role) => Object.freeze(scaleBurnWindow(role, sloWindow, opts))));
    if (windowsBySlo.size >= WINDOWS_KEPT) windowsBySlo.clear();
    windowsBySlo.set(key, found);
  }
  return found;
}

/**
 * The distinct windows an SLO's error ratio is read over: the burn windows (several roles collapse
 * onto the floor for short SLO windows) and the SLO window, shortest first.
 */
export function queryWindows(sloWindow: string, opts: WindowOptions = {}): string[] {
  const byMs = new Map<number, string>();
  for (const w of burnWindows(sloWindow, opts)) byMs.set(w.ms, w.window);
  byMs.set(parseDuration(sloWindow), canonicalWindow(sloWindow));
  return [...byMs].sort(([a], [b]) => a - b).map(([, w]) => w);
}

export interface ScaledBurnAlert {
  long: BurnWindow;
  short: BurnWindow;
  /** Burn rate both windows must exceed. */
  factor: number;
  severity: "page" | "ticket";
}

/** The SRE Workbook's multi-window alerts (BURN_ALERTS) with their windows scaled to the SLO window. */
export function burnAlerts(sloWindow: string, opts: WindowOptions = {}): ScaledBurnAlert[] {
  return BURN_ALERTS.map((a) => ({
    long: scaleBurnWindow(a.long, sloWindow, opts),
    short: scaleBurnWindow(a.short, sloWindow, opts),
    factor: a.factor,
    severity: a.severity,
  }));
}
