import type { z } from "zod";
import { profileSpecSchema, type ProfileSpec } from "./profile.ts";

export type SpecValidation = { ok: true; spec: ProfileSpec } | { ok: false; field: string; message: string };

/** `["slos", 0, "indicator"]` → `spec.slos[0].indicator`, the way the API server and kubectl name fields. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "spec";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
  return out;
}

/**
 * Validates a spec the API server admitted. The CRD refuses what a schema and CEL can express; this
 * catches the rest (and specs stored before a schema change) without ever throwing on user input.
 */
export function validateSpec(spec: unknown): SpecValidation {
  const parsed = profileSpecSchema.safeParse(spec);
  if (parsed.success) return { ok: true, spec: parsed.data };
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  const field = fieldPath(issue.path);
  return { ok: false, field, message: `${field}: ${issue.message}` };
}

const validated = new WeakMap<object, SpecValidation>();

/**
 * validateSpec for a spec in an informer's cache, once per cached object: the cache replaces an object on
 * every update and never changes one in place, so one verdict holds for every pass until the next update.
 * A valid spec's parsed form is frozen and known by itself too, so a cache may keep it instead of the
 * spec as written (cachedProfile): one copy per profile, and no parse per pass.
 */
export function validateCachedSpec(spec: unknown): SpecValidation {
  if (typeof spec !== "object" || spec === null) return validateSpec(spec);
  let v = validated.get(spec);
  if (!v) {
    v = validateSpec(spec);
    validated.set(spec, v);
    if (v.ok) {
      deepFreeze(v.spec);
      validated.set(v.spec, v);
    }
  }
  return v;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}
