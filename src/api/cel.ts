import type { z } from "zod";

/** The reasons the API server accepts on a validation rule; they pick the error's wording (Invalid, Required, Forbidden). */
export type CelReason = "FieldValueInvalid" | "FieldValueRequired" | "FieldValueForbidden" | "FieldValueDuplicate";

/**
 * One rule, stated twice: as CEL for the API server (`x-kubernetes-validations`) and as a TypeScript
 * predicate for validateSpec, with one message, so `kubectl apply` and the operator refuse the same
 * specs with the same words.
 */
export interface CelRule<T> {
  /** CEL with `self` bound to the value; must hold for the value to be valid. */
  rule: string;
  /** A sentence naming the fields, shown by `kubectl apply` and in the Ready condition. */
  message: string;
  /** The field the error points at, relative to `self` (`.warnAt`); the value itself when absent. */
  fieldPath?: `.${string}`;
  reason?: CelReason;
  /** The same rule in TypeScript, run on the parsed (defaulted) value. */
  check: (value: T) => boolean;
}

/** The `x-kubernetes-validations` entry for a rule, as the CRD carries it. */
export interface CelValidation {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: CelReason;
}

export function toValidation(rule: CelRule<never>): CelValidation {
  return {
    rule: rule.rule,
    message: rule.message,
    ...(rule.fieldPath ? { fieldPath: rule.fieldPath } : {}),
    ...(rule.reason ? { reason: rule.reason } : {}),
  };
}

/**
 * Attaches `rules` to `schema` both ways, plus its metadata. All rules of a node go in one call:
 * zod keeps one metadata record per schema instance, so a second `.meta()` would replace the list.
 */
export function withRules<S extends z.ZodType>(
  schema: S,
  rules: readonly CelRule<z.output<S>>[],
  meta: { description: string } & Record<string, unknown>,
): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const r of rules) {
      if (r.check(value)) continue;
      ctx.addIssue({ code: "custom", message: r.message, path: r.fieldPath ? r.fieldPath.slice(1).split(".") : [] });
    }
  });
  return refined.meta({ ...meta, "x-kubernetes-validations": rules.map(toValidation) }) as S;
}

/**
 * Makes an object optional with every nested default filled in, in both places. The CRD's `default`
 * must be the complete value: the API server checks a default against the CEL rules as written,
 * before applying the nested defaults, so `default: {}` fails rules that read defaulted fields.
 */
export function defaulted<S extends z.ZodObject>(schema: S) {
  return schema.prefault(schema.parse({}) as z.input<S>);
}

/**
 * For a list the CRD declares a set (x-kubernetes-list-type: set): the API server refuses a repeated
 * entry, and this refinement refuses it again in the operator, for objects it did not check.
 */
export function distinct(field: string): [(list: readonly unknown[]) => boolean, string] {
  return [(list) => new Set(list).size === list.length, `${field} must not name an entry twice.`];
}
