import { parseAllDocuments } from "yaml";
import { DNS_SUBDOMAIN_PATTERN } from "../api/names.ts";
import { validateSpec } from "../api/validate.ts";
import type { SourceText } from "./documents.ts";
import { ConversionError, fail, field, isObject, listAt, numberAt, objectAt, optionalObject, optionalString, stringAt, sub, type Field, type Obj } from "./fields.ts";
import type { ImportedProfile, ImportResult } from "./import.ts";
import { withWindowPlaceholder } from "./queries.ts";

/**
 * Sloth's `prometheus/v1` spec → PerformanceProfiles: one per document (a Sloth service), named after
 * `service` and governing the Deployment of that name. Each SLO keeps its name, objective and
 * description; `sli.events` becomes a ratio indicator, its `{{.window}}` spelled `{{window}}`. Sloth's
 * files name no window (sloth's --default-slo-period, 30d by default, sets it), so the caller gives
 * one for every SLO. Refused: `sli.raw` (a precomputed ratio has no event counts), `sli.plugin` and
 * SLO plugins (code that runs inside Sloth). Left out with a note: labels and alerting, since
 * Tollgate labels its series and writes its burn-rate alerts itself.
 */

export const SLOTH_VERSION = "prometheus/v1";

export interface SlothOptions {
  /** The SLO window of every SLO, as Sloth's --default-slo-period gives it. */
  window: string;
  namespace?: string;
}

const SUBDOMAIN = new RegExp(DNS_SUBDOMAIN_PATTERN);

function hasPlugins(v: unknown): boolean {
  return v !== undefined && v !== null && !(typeof v === "object" && Array.isArray((v as Obj).chain) && ((v as Obj).chain as unknown[]).length === 0);
}

function query(f: Field, v: unknown): string {
  const q = stringAt(f, v);
  const windowed = withWindowPlaceholder(q);
  if (windowed === undefined) fail(f, "must read its range over {{.window}}, as Sloth requires");
  return windowed;
}

function profileOfSloth(doc: Obj, source: string, index: number, opts: SlothOptions, notes: string[]): ImportedProfile {
  const at = field(`${source}, document ${index + 1}`);
  if (doc.version !== SLOTH_VERSION) fail(sub(at, "version"), `only Sloth's ${SLOTH_VERSION} spec is read, not ${JSON.stringify(doc.version ?? null)}`);
  const service = stringAt(sub(at, "service"), doc.service);
  if (service.length > 253 || !SUBDOMAIN.test(service)) {
    fail(sub(at, "service"), `names the PerformanceProfile and its Deployment, so it must be a Kubernetes object name (lower-case letters, digits, dashes and dots), not ${JSON.stringify(service)}`);
  }
  const where = field(`${source}: Sloth service ${service}`);
  if (hasPlugins(doc.slo_plugins)) fail(sub(where, "slo_plugins"), "Sloth SLO plugins change the rules Sloth generates and run inside Sloth; Tollgate cannot run them");
  if (optionalObject(sub(where, "labels"), doc.labels) !== undefined) notes.push(`${where.doc}: labels: not imported: Tollgate labels its series with namespace, profile and slo`);
  const sf = sub(where, "slos");
  const slos = listAt(sf, doc.slos).map((raw, i) => {
    const f = sub(sf, i);
    const slo = objectAt(f, raw);
    const name = stringAt(sub(f, "name"), slo.name);
    if (hasPlugins(slo.plugins)) fail(sub(f, "plugins"), "Sloth SLO plugins change the rules Sloth generates and run inside Sloth; Tollgate cannot run them");
    const sli = objectAt(sub(f, "sli"), slo.sli);
    const lf = sub(f, "sli");
    if (sli.raw !== undefined) fail(sub(lf, "raw"), "a precomputed error ratio cannot be expressed: Tollgate weighs the budget by events and needs their counts (error_query and total_query)");
    if (sli.plugin !== undefined) fail(sub(lf, "plugin"), "an SLI plugin runs inside Sloth; write the queries it makes as events (error_query and total_query)");
    const ef = sub(lf, "events");
    const events = objectAt(ef, sli.events);
    const description = optionalString(sub(f, "description"), slo.description);
    return {
      field: f,
      slo: {
        name,
        ...(description === undefined ? {} : { description }),
        objective: numberAt(sub(f, "objective"), slo.objective),
        window: opts.window,
        indicator: { ratio: { errors: query(sub(ef, "error_query"), events.error_query), total: query(sub(ef, "total_query"), events.total_query) } },
      },
    };
  });
  if (listAt(sf, doc.slos).some((slo) => isObject(slo) && slo.alerting !== undefined)) {
    notes.push(`${where.doc}: slos[].alerting: not imported: Tollgate writes its own burn-rate alerts from each SLO (tollgate rules)`);
  }
  const spec: Obj = { targetRef: { name: service }, slos: slos.map((s) => s.slo) };
  const res = validateSpec(spec);
  if (!res.ok) {
    const m = /^spec\.slos\[(\d+)\](?:\.([A-Za-z]+))?(?:\.ratio\.(errors|total))?/.exec(res.field);
    const message = res.message.startsWith(`${res.field}: `) ? res.message.slice(res.field.length + 2) : res.message;
    const sloField = m ? slos[Number(m[1])]?.field : undefined;
    if (sloField && m) {
      // The Sloth field the profile's field came from.
      const key = m[2] === "indicator" ? (m[3] === "total" ? "sli.events.total_query" : "sli.events.error_query") : m[2] === "window" ? undefined : m[2];
      const at = key === undefined ? sloField : key.split(".").reduce<Field>((acc, k) => sub(acc, k), sloField);
      fail(at, `${message} (the profile's ${res.field}${m[2] === "window" ? ", from --window" : ""})`);
    }
    fail(sf, `PerformanceProfile ${service}: ${res.message}`);
  }
  return { name: service, namespace: opts.namespace, spec, validated: res.spec };
}

/** The PerformanceProfiles of Sloth prometheus/v1 files. Throws ConversionError naming the file, the service and the field. */
export function importSloth(files: readonly SourceText[], opts: SlothOptions): ImportResult {
  const profiles: ImportedProfile[] = [];
  const notes: string[] = [];
  const seen = new Map<string, string>();
  for (const { source, text } of files) {
    parseAllDocuments(text).forEach((d, i) => {
      const at = field(`${source}, document ${i + 1}`);
      const error = d.errors[0];
      if (error) fail(at, error.message);
      const value: unknown = d.toJS();
      if (value === null || value === undefined) return;
      const p = profileOfSloth(objectAt(at, value), source, i, opts, notes);
      const first = seen.get(p.name);
      if (first !== undefined) fail(field(`${source}: Sloth service ${p.name}`), `is also in ${first}; one profile per service`);
      seen.set(p.name, source);
      profiles.push(p);
    });
  }
  if (profiles.length === 0) throw new ConversionError(`${files.map((f) => f.source).join(", ")}: no Sloth ${SLOTH_VERSION} spec in ${files.length === 1 ? "it" : "them"}`);
  return { profiles, notes };
}
