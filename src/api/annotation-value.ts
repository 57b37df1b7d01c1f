/**
 * The annotations a person writes on a PerformanceProfile to tell the operator something
 * (tollgate.dev/override-freeze, tollgate.dev/canary-command) hold one JSON object whose fields are all
 * named, since kubectl passes the value verbatim. The API server cannot check an annotation, so the
 * operator reads it here and never throws: a bad value is a problem that names the field, which reaches
 * the SRE as a condition and an event, and the reconcile goes on.
 *
 * A problem quotes what the person wrote only in bounded pieces, so that an annotation of any size
 * (the API server allows 256 KiB) never makes a condition too long for the status to be written.
 */

export type AnnotationRead<T> = { ok: true; value: T } | { ok: false; problem: string };

const SHOWN_FIELDS = 5;
const SHOWN_NAME = 63;

/** The value as a JSON object holding only `fields` (each optional here); the problem says what else it is. */
export function annotationObject<F extends string>(value: string, fields: readonly F[]): AnnotationRead<Partial<Record<F, unknown>>> {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return { ok: false, problem: "the value is not JSON" };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, problem: "the value is not a JSON object" };
  const unknown = Object.keys(raw).filter((k) => !(fields as readonly string[]).includes(k));
  if (unknown.length) {
    const shown = unknown.slice(0, SHOWN_FIELDS).map((k) => JSON.stringify(k.length > SHOWN_NAME ? `${k.slice(0, SHOWN_NAME)}…` : k));
    const more = unknown.length > SHOWN_FIELDS ? ` and ${unknown.length - SHOWN_FIELDS} more` : "";
    return { ok: false, problem: `unknown field ${shown.join(", ")}${more} (fields are ${fields.join(", ")})` };
  }
  return { ok: true, value: raw as Partial<Record<F, unknown>> };
}

/**
 * A field that must be a non-empty string of at most `max` characters, trimmed. With `optional`, an
 * absent field is "" and an empty one is allowed.
 */
export function annotationText(obj: Readonly<Record<string, unknown>>, field: string, opts: { max: number; optional?: boolean }): AnnotationRead<string> {
  const v = obj[field] ?? (opts.optional ? "" : undefined);
  if (typeof v !== "string") return { ok: false, problem: `"${field}" must be ${opts.optional ? "a string" : "a non-empty string"}` };
  const text = v.trim();
  if (text === "" && !opts.optional) return { ok: false, problem: `"${field}" must be a non-empty string` };
  if (text.length > opts.max) return { ok: false, problem: `"${field}" is longer than ${opts.max} characters` };
  return { ok: true, value: text };
}

/** A problem with the annotation's documented shape after it, so the fix is in the same sentence. */
export function expectedShape(problem: string, example: string): string {
  return `${problem}; expected JSON like ${example}`;
}

/** How a condition and its event begin when an annotation cannot be followed. */
export function ignoredAnnotation(annotation: string, problem: string): string {
  return `The ${annotation} annotation is ignored: ${problem}.`;
}
