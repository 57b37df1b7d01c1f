import { buildCrd } from "../api/crd.ts";
import { API_VERSION, KIND } from "../api/meta.ts";
import { InputError } from "../cli/flags.ts";
import { objectsFromYaml, profileOf } from "../cli/rules.ts";
import { isPlanError, planProfile } from "../slo/plan.ts";

/**
 * `kubectl tollgate lint`: a profile file checked offline with the checks the API server and the
 * operator share. The CRD's schema and CEL rules are generated from the zod schema that validateSpec
 * runs (api/cel.ts states each rule twice, as CEL and as TypeScript, with one message), so the words
 * are the same; the schema's own field checks are walked here for unknown fields, which zod drops in
 * silence and `kubectl apply` refuses. Pure: the shell reads the files.
 */

export interface LintResult {
  /** `file: PerformanceProfile name`, or `file, document 2` before the name is known. */
  where: string;
  name: string | null;
  namespace: string | null;
  ok: boolean;
  /** The field at fault, as kubectl names it (spec.slos[0].objective); null when ok or not one field. */
  field: string | null;
  /** The message the API server or the operator would give; null when ok. */
  message: string | null;
}

type Schema = { properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[]; "x-kubernetes-preserve-unknown-fields"?: boolean };

let specSchema: Schema | undefined;

/** The CRD's schema of spec, built once: what the API server decodes a profile with. */
function crdSpecSchema(): Schema {
  if (specSchema === undefined) {
    const crd = buildCrd() as { spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: Schema } } } }> } };
    specSchema = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec ?? {};
  }
  return specSchema;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The branches a value may take: a union's, or the schema itself. */
function branches(schema: Schema): Schema[] {
  const alts = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  return alts.length > 0 ? [schema, ...alts.flatMap(branches)] : [schema];
}

/**
 * The first field of `value` the schema does not declare, as the API server's strict field validation
 * reports it (`spec.slos[0].windw`); undefined when every field is known.
 */
export function unknownField(value: unknown, schema: Schema, path: string): string | undefined {
  const all = branches(schema);
  if (all.some((s) => s["x-kubernetes-preserve-unknown-fields"] === true)) return undefined;
  if (Array.isArray(value)) {
    const items = all.map((s) => s.items).find((i) => i !== undefined);
    if (!items) return undefined;
    for (const [i, v] of value.entries()) {
      const found = unknownField(v, items, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const declared = all.filter((s) => s.properties !== undefined);
  if (declared.length === 0) return undefined;
  for (const [key, v] of Object.entries(value)) {
    const child = declared.map((s) => s.properties?.[key]).find((c) => c !== undefined);
    if (!child) return `${path}.${key}`;
    const found = unknownField(v, child, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/** Splits "spec.x.y: message" into the field and the message, as validateSpec and the operator word it. */
function fieldOf(message: string): string | null {
  const m = /(?:^|: )((?:spec|metadata|apiVersion)[^\s:]*): /.exec(message);
  return m?.[1] ?? null;
}

/** Lints every object of a file; other kinds are skipped. InputError for text that is not YAML at all. */
export function lintYaml(text: string, source: string, namespace: string): LintResult[] {
  const out: LintResult[] = [];
  for (const { at, obj } of objectsFromYaml(text, source)) {
    if (!isObject(obj) || obj.kind !== KIND) continue;
    const meta = isObject(obj.metadata) ? obj.metadata : {};
    const name = typeof meta.name === "string" ? meta.name : null;
    const ns = typeof meta.namespace === "string" ? meta.namespace : namespace;
    const where = name !== null ? `${source}: ${KIND} ${name}` : at;
    const fail = (message: string, field = fieldOf(message)): LintResult => ({ where, name, namespace: ns, ok: false, field, message });
    const unknown = obj.apiVersion === API_VERSION ? unknownField(obj.spec, crdSpecSchema(), "spec") : undefined;
    if (unknown !== undefined) {
      out.push(fail(`${unknown}: unknown field (the API server refuses it; a misspelt field would otherwise be ignored)`, unknown));
      continue;
    }
    let profile;
    try {
      profile = profileOf(obj, at, source, namespace);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      // profileOf prefixes the place; the result carries it separately.
      const message = err.message.startsWith(`${where}: `) ? err.message.slice(where.length + 2) : err.message.startsWith(`${at}: `) ? err.message.slice(at.length + 2) : err.message;
      out.push(fail(message));
      continue;
    }
    if (!profile) continue;
    // Valid to the API server, yet an SLO the operator cannot turn into PromQL: Ready=False InvalidSpec.
    const problem = planProfile(profile.profile).slos.map((p, i) => ({ p, i })).find(({ p }) => isPlanError(p));
    if (problem && isPlanError(problem.p)) {
      const field = `spec.slos[${problem.i}].indicator`;
      out.push(fail(`${field}: SLO ${problem.p.slo.name} cannot be measured: ${problem.p.error} (the API server accepts it; the operator reports Ready=False)`, field));
      continue;
    }
    out.push({ where, name, namespace: profile.profile.namespace, ok: true, field: null, message: null });
  }
  return out;
}

/** One line per profile: `file: PerformanceProfile name: ok`, or the field and message. */
export function lintText(results: readonly LintResult[]): string {
  return results.map((r) => `${r.where}: ${r.ok ? "ok" : r.message}\n`).join("");
}
