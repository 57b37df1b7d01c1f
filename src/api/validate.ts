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
