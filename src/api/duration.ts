import { z } from "zod";
import { withRules } from "./cel.ts";

/**
 * Prometheus-style durations: unit components in descending order, each at most once, as
 * `model.ParseDuration` accepts them (`30s`, `5m`, `1h30m`, `30d`, `4w`, `500ms`). A bare `0` is
 * not accepted: no field of the API takes a zero duration without a unit. RE2 and JS agree on it.
 */
export const DURATION_PATTERN = "^([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$";

/**
 * The subset of Prometheus durations Go's time.ParseDuration (and so CEL's `duration()`) also reads,
 * for fields the API server must compare: hours, minutes and seconds only.
 */
export const CEL_DURATION_PATTERN = "^([0-9]+h)?([0-9]+m)?([0-9]+s)?$";

/** Longer strings are no duration anyone means; the bound also keeps CEL's cost estimate small. */
export const DURATION_MAX_LENGTH = 32;

const UNIT_MS = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
const UNITS_DESCENDING: readonly Unit[] = ["y", "w", "d", "h", "m", "s", "ms"];

const durationRe = new RegExp(DURATION_PATTERN);
const celDurationRe = new RegExp(CEL_DURATION_PATTERN);

/** Whether `s` is a Prometheus-style duration with at least one component. */
export function isDuration(s: string): boolean {
  return s.length > 0 && s.length <= DURATION_MAX_LENGTH && durationRe.test(s);
}

/** Parses a Prometheus-style duration into milliseconds; throws on anything else. */
export function parseDuration(s: string): number {
  if (!isDuration(s)) throw new Error(`not a duration: ${JSON.stringify(s)} (use e.g. 30s, 5m, 1h30m, 30d)`);
  const m = durationRe.exec(s);
  let ms = 0;
  // Group i+1 holds the component for UNITS_DESCENDING[i], unit suffix included.
  UNITS_DESCENDING.forEach((unit, i) => {
    const part = m?.[i + 1];
    if (part !== undefined) ms += Number(part.slice(0, part.length - unit.length)) * UNIT_MS[unit];
  });
  if (!Number.isSafeInteger(ms)) throw new Error(`duration ${JSON.stringify(s)} is too long`);
  return ms;
}

/**
 * Formats milliseconds the way Prometheus prints durations: largest units first, zero components
 * left out (`5400000` → `1h30m`, `0` → `0s`). Like Prometheus, years and weeks appear only when
 * they divide the duration evenly, because `90d` reads better than `12w6d`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new Error(`cannot format ${ms} ms as a duration`);
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const unit of UNITS_DESCENDING) {
    const size = UNIT_MS[unit];
    if ((unit === "y" || unit === "w") && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/** Whether `s` is a duration in h, m and s only, which CEL's `duration()` and Prometheus read alike. */
export function isCelDuration(s: string): boolean {
  return s.length > 0 && s.length <= DURATION_MAX_LENGTH && celDurationRe.test(s);
}

/**
 * A Prometheus-style duration field. `field` is the path users write (e.g. `policy.evaluationInterval`)
 * so the API server's message and validateSpec's name the field. The pattern documents the syntax; the
 * CEL rule repeats it with a readable sentence and refuses zero, which the pattern cannot express in RE2.
 */
export function duration(field: string, description: string) {
  const message = `${field} must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).`;
  return withRules(
    z.string().max(DURATION_MAX_LENGTH).regex(durationRe, message),
    [
      {
        rule: `self.matches('${DURATION_PATTERN}') && self.matches('[1-9]')`,
        message,
        check: (s: string) => isDuration(s) && /[1-9]/.test(s),
      },
    ],
    { description },
  );
}

/**
 * A duration the API server compares against a bound (`min`..`max`), so it is limited to the units
 * CEL's `duration()` reads (h, m, s). Zero is allowed where `min` is `0s`.
 */
export function boundedDuration(field: string, description: string, bounds: { min: string; max: string }) {
  const message = `${field} must be a duration in h, m and s (such as 30s, 5m or 1h) between ${bounds.min} and ${bounds.max}.`;
  const [min, max] = [parseDuration(bounds.min), parseDuration(bounds.max)];
  return withRules(
    z.string().max(DURATION_MAX_LENGTH).regex(celDurationRe, message),
    [
      {
        rule: `self.matches('${CEL_DURATION_PATTERN}') && self != '' && duration(self) >= duration('${bounds.min}') && duration(self) <= duration('${bounds.max}')`,
        message,
        check: (s: string) => isCelDuration(s) && parseDuration(s) >= min && parseDuration(s) <= max,
      },
    ],
    { description },
  );
}
