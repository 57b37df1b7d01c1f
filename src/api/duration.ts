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

/**
 * Durations already read. Planning a profile reads the same few (its windows, the tile, the interval)
 * dozens of times a pass, and at thousands of profiles the regular expression was a tenth of the
 * operator's CPU. Bounded: specs are the tenants', and a table of every string ever seen would grow
 * with them; emptied when full, the common durations are back at once.
 */
const readDurations = new Map<string, number | undefined>();
const MAX_READ_DURATIONS = 1_000;

/** The sum of a duration's components in milliseconds, however large; undefined when `s` is no duration. Never throws. */
export function durationMillis(s: string): number | undefined {
  if (readDurations.has(s)) return readDurations.get(s);
  const ms = readDuration(s);
  if (readDurations.size >= MAX_READ_DURATIONS) readDurations.clear();
  readDurations.set(s, ms);
  return ms;
}

function readDuration(s: string): number | undefined {
  if (!isDuration(s)) return undefined;
  const m = durationRe.exec(s);
  let ms = 0;
  // Group i+1 holds the component for UNITS_DESCENDING[i], unit suffix included.
  UNITS_DESCENDING.forEach((unit, i) => {
    const part = m?.[i + 1];
    if (part !== undefined) ms += Number(part.slice(0, part.length - unit.length)) * UNIT_MS[unit];
  });
  return ms;
}

/** Parses a Prometheus-style duration into milliseconds; throws on anything else. */
export function parseDuration(s: string): number {
  const ms = durationMillis(s);
  if (ms === undefined) throw new Error(`not a duration: ${JSON.stringify(s)} (use e.g. 30s, 5m, 1h30m, 30d)`);
  if (!Number.isSafeInteger(ms)) throw new Error(`duration ${JSON.stringify(s)} is too long`);
  return ms;
}

/** Whether `s` is a duration from `min` to `max` milliseconds, both included. Never throws. */
export function durationWithin(s: string, min: number, max: number): boolean {
  const ms = durationMillis(s);
  return ms !== undefined && ms >= min && ms <= max;
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

// The component of each unit in a duration DURATION_PATTERN has matched. Minutes are followed by a
// digit (of s or ms) or the end, so the m of ms is never read as minutes; s needs a digit before it,
// so the s of ms is never read as seconds.
const CEL_COMPONENT: Record<Unit, string> = {
  y: "[0-9]+y",
  w: "[0-9]+w",
  d: "[0-9]+d",
  h: "[0-9]+h",
  m: "[0-9]+m([0-9]|$)",
  s: "[0-9]+s",
  ms: "[0-9]+ms",
};

/**
 * CEL that reads the Prometheus-style duration `expr` (a string DURATION_PATTERN matches) as
 * milliseconds, a double. CEL's own duration() reads only h, m, s and smaller, not the d, w and y
 * of SLO windows, so each component is found and summed: `'0' +` makes an absent component 0
 * without a branch, and a double cannot overflow where an int would fail the rule at run time.
 */
export function celMillis(expr: string): string {
  return UNITS_DESCENDING.map((u) => `double('0' + ${expr}.find('${CEL_COMPONENT[u]}').find('[0-9]+')) * ${UNIT_MS[u]}.0`).join(" + ");
}

/**
 * A Prometheus-style duration field from `min` to `max`. `field` is the path users write (e.g.
 * `policy.evaluationInterval`) so the API server's message and validateSpec's name the field. The
 * pattern documents the syntax; the CEL rule repeats it with a readable sentence and the bounds,
 * which RE2 cannot express. Every duration a tenant writes is bounded: a timer set from it must
 * not overflow, a loop driven by it must not spin, and a range query over it must stay affordable.
 */
export function duration(field: string, description: string, bounds: { min: string; max: string }) {
  const message = `${field} must be a duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first) between ${bounds.min} and ${bounds.max}.`;
  const [min, max] = [parseDuration(bounds.min), parseDuration(bounds.max)];
  return withRules(
    z.string().max(DURATION_MAX_LENGTH).regex(durationRe, message),
    [
      {
        // `[x].all(ms, ...)` binds the sum once: the API server's CEL has no cel.bind.
        rule: `self.matches('${DURATION_PATTERN}') && self != '' && [${celMillis("self")}].all(ms, ms >= ${min}.0 && ms <= ${max}.0)`,
        message,
        check: (s: string) => durationWithin(s, min, max),
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
        check: (s: string) => isCelDuration(s) && durationWithin(s, min, max),
      },
    ],
    { description },
  );
}

/**
 * The longest delay setTimeout honours, 2^31 - 1 ms (about 24.8 days). Node fires a timer set any
 * longer after 1 ms, so an unclamped "requeue in 25 days" would come back at once, over and over.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * A delay safe to give setTimeout or a requeue: never negative, never above MAX_TIMER_DELAY_MS.
 * NaN, which setTimeout also reads as 1 ms, becomes the longest delay: waiting too long on a
 * broken value is recoverable (any change to the object brings it back), spinning is not.
 */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms)) return MAX_TIMER_DELAY_MS;
  return Math.min(Math.max(ms, 0), MAX_TIMER_DELAY_MS);
}
