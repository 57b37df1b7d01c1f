import { annotationObject, annotationText, expectedShape } from "../api/annotation-value.ts";

/**
 * The break-glass override of a freeze: an annotation on the PerformanceProfile that an SRE types by hand,
 *
 *   kubectl annotate pp game-service tollgate.dev/override-freeze='{"by":"alice","reason":"hotfix INC-123","expires":"2026-11-22T12:00:00Z"}'
 *
 * JSON because kubectl passes it verbatim and every field is named; the expiry is absolute (RFC 3339 with
 * Z or an offset) because an annotation carries no time of its own to count a "2h" from.
 */
export const OVERRIDE_ANNOTATION = "tollgate.dev/override-freeze";

/**
 * The furthest ahead an override may expire. Break glass is for an incident, not a standing exemption:
 * a typo such as 2036 for 2026 must not lift a freeze for ten years. A week covers a fix that spans a
 * weekend; an override that needs longer is renewed, so someone decides again. The API server cannot
 * check an annotation, so the operator refuses a longer one, with the cap in the condition and event.
 */
export const OVERRIDE_MAX = "7d";
const OVERRIDE_MAX_MS = 7 * 86_400_000;

export interface FreezeOverride {
  by: string;
  reason: string;
  /** RFC 3339, normalised to UTC so status and messages do not change with the writer's time zone. */
  expires: string;
}

export type OverrideAnnotation = { ok: true; override: FreezeOverride } | { ok: false; problem: string };

const FIELDS = ["by", "reason", "expires"] as const;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const EXAMPLE = `{"by":"alice","reason":"hotfix INC-123","expires":"2026-11-22T12:00:00Z"}`;

/**
 * Parses the annotation's value as of `now`. Never throws: a typo must reach the SRE as a sentence in
 * status and events, not crash a reconcile. Undefined when the annotation is absent. An expiry further
 * than OVERRIDE_MAX from `now` is a problem; one in the past is a valid override that has expired.
 */
export function parseOverride(value: string | undefined, now: Date): OverrideAnnotation | undefined {
  if (value === undefined) return undefined;
  const problem = (what: string): OverrideAnnotation => ({ ok: false, problem: expectedShape(what, EXAMPLE) });
  const read = annotationObject(value, FIELDS);
  if (!read.ok) return problem(read.problem);
  const by = annotationText(read.value, "by", { max: 253 });
  if (!by.ok) return problem(by.problem);
  const reason = annotationText(read.value, "reason", { max: 1024 });
  if (!reason.ok) return problem(reason.problem);
  const written = annotationText(read.value, "expires", { max: 64 });
  if (!written.ok) return problem(written.problem);
  const expires = written.value;
  const at = Date.parse(expires);
  if (!RFC3339.test(expires) || Number.isNaN(at) || !realDay(expires)) {
    return problem(`"expires" must be an RFC 3339 time with a zone, such as 2026-11-22T12:00:00Z`);
  }
  const iso = new Date(at).toISOString();
  if (at - now.getTime() > OVERRIDE_MAX_MS) {
    return {
      ok: false,
      problem: `"expires" ${iso} is more than ${OVERRIDE_MAX} after ${now.toISOString()}; an override lasts at most ${OVERRIDE_MAX}: set an earlier expiry, and renew it if the fix takes longer`,
    };
  }
  return { ok: true, override: { by: by.value, reason: reason.value, expires: iso } };
}

// Date.parse rolls 2026-02-30 over to March 2 rather than refusing it.
function realDay(s: string): boolean {
  const [y, m, d] = s.slice(0, 10).split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

/** The override from a profile's annotations, as of `now`. */
export function overrideFromAnnotations(annotations: Readonly<Record<string, string>> | undefined, now: Date): OverrideAnnotation | undefined {
  return parseOverride(annotations?.[OVERRIDE_ANNOTATION], now);
}

/** An override lifts a freeze only until it expires; expiry is exclusive so "expires at 12:00" ends at 12:00. */
export function overrideActive(o: OverrideAnnotation | undefined, now: Date): o is { ok: true; override: FreezeOverride } {
  return o?.ok === true && Date.parse(o.override.expires) > now.getTime();
}
