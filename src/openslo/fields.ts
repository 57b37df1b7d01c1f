/**
 * Reading untyped YAML with errors that name where the problem is: the file, the document (its kind
 * and metadata.name) and the field, e.g. `slo.yaml: SLO checkout: spec.budgetingMethod: ...`. Every
 * conversion in this folder reads its input through these, so no message leaves the field out.
 */

/** Input that cannot be converted; the message names the file, the document and the field. */
export class ConversionError extends Error {
  override name = "ConversionError";
}

export type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A field of one input document: `doc` is `file: Kind name`, `path` the field under it (empty for the document). */
export interface Field {
  doc: string;
  path: string;
}

export function field(doc: string, path = ""): Field {
  return { doc, path };
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The field `key` below `f`: `.name`, `[0]`, or `["tollgate.dev/spec"]` for keys that are no identifier. */
export function sub(f: Field, key: string | number): Field {
  const step = typeof key === "number" ? `[${key}]` : PLAIN_KEY.test(key) ? (f.path === "" ? key : `.${key}`) : `[${JSON.stringify(key)}]`;
  return { doc: f.doc, path: f.path + step };
}

/** `file: Kind name: field: message`. */
export function describe(f: Field, message: string): string {
  return f.path === "" ? `${f.doc}: ${message}` : `${f.doc}: ${f.path}: ${message}`;
}

export function fail(f: Field, message: string): never {
  throw new ConversionError(describe(f, message));
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "a map" : `${typeof v} ${JSON.stringify(v)}`;
}

export function objectAt(f: Field, v: unknown): Obj {
  if (!isObject(v)) fail(f, `must be a map, not ${typeName(v)}`);
  return v;
}

export function optionalObject(f: Field, v: unknown): Obj | undefined {
  return v === undefined || v === null ? undefined : objectAt(f, v);
}

export function listAt(f: Field, v: unknown): unknown[] {
  if (!Array.isArray(v)) fail(f, `must be a list, not ${typeName(v)}`);
  return v;
}

export function stringAt(f: Field, v: unknown): string {
  if (typeof v !== "string" || v.trim() === "") fail(f, `must be a non-empty string, not ${typeName(v)}`);
  return v;
}

export function optionalString(f: Field, v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : stringAt(f, v);
}

export function numberAt(f: Field, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(f, `must be a number, not ${typeName(v)}`);
  return v;
}

export function optionalNumber(f: Field, v: unknown): number | undefined {
  return v === undefined || v === null ? undefined : numberAt(f, v);
}

export function optionalBoolean(f: Field, v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") fail(f, `must be true or false, not ${typeName(v)}`);
  return v;
}

/**
 * `x` rounded to 9 decimals, so that 0.995 × 100 is 99.5 and 0.2 × 1000 is 200: inputs are written in
 * decimal, and binary floating point must not turn them into 99.49999999999999.
 */
export function decimal(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}
