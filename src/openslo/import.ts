import { parse as parseYaml } from "yaml";
import { isDuration } from "../api/duration.ts";
import { DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN } from "../api/names.ts";
import type { ProfileSpec } from "../api/profile.ts";
import { indicatorSchema, type Indicator } from "../api/slo.ts";
import { validateSpec } from "../api/validate.ts";
import type { Workload } from "../slo/promql.ts";
import { primaryName } from "../traffic/names.ts";
import { readDocuments, type OpenSloInput, type SourceText } from "./documents.ts";
import {
  ConversionError,
  decimal,
  fail,
  field,
  isObject,
  listAt,
  objectAt,
  optionalNumber,
  optionalObject,
  optionalString,
  stringAt,
  sub,
  type Field,
  type Obj,
} from "./fields.ts";
import { indicatorOfSli, readSli, sliOfIndicator, type SourceUse } from "./indicators.ts";
import { ANNOTATIONS, OPENSLO_API_VERSION, PROMETHEUS_TYPE } from "./types.ts";

/**
 * OpenSLO v1 → PerformanceProfiles.
 *
 * One profile per OpenSLO service (`spec.service` of the SLOs), named after it and governing the
 * Deployment of that name: a profile is one Deployment's budget, judged by its worst SLO, and an
 * OpenSLO service is the grouping of the SLOs of one thing. A Service document of that name may carry
 * what OpenSLO has no field for in Tollgate's annotations (the spec without its SLOs, the namespace);
 * export writes them, so a profile comes back whole.
 *
 * Each SLO becomes one of the profile's SLOs, named by its metadata.name less a `<service>-` prefix
 * (OpenSLO names are unique across services, Tollgate's only within a profile). What is refused, with
 * the document and field named: Timeslices and RatioTimeslices budgets (Tollgate's budget, burn rates,
 * minEvents and alerts all weigh events, and a time slice weighs a quiet minute like a busy one),
 * calendar windows, months, quarters and years, several or composite objectives, raw ratios, metric
 * sources other than Prometheus, and SLOs of one service on different DataSources (a profile reads one
 * Prometheus).
 */

export interface ImportOptions {
  /** -n: the namespace of the profiles, where the Service names none. */
  namespace?: string;
}

export interface ImportedProfile {
  name: string;
  /** From the Service's annotation or -n; undefined when neither says. */
  namespace: string | undefined;
  /** The spec as imported (defaults left to the API server), valid by validateSpec. */
  spec: Obj;
  /** The spec validateSpec made of it, defaults filled in. */
  validated: ProfileSpec;
}

export interface ImportResult {
  profiles: ImportedProfile[];
  /** What was left out, one sentence each, for stderr. */
  notes: string[];
}

/** The parts of a spec the Service's annotation may give; the SLOs come from the SLO documents. */
const SPEC_KEYS = ["targetRef", "prometheus", "policy", "canary", "trafficPolicy", "autoscaling"] as const;

const LABEL = new RegExp(DNS_LABEL_PATTERN);
const SUBDOMAIN = new RegExp(DNS_SUBDOMAIN_PATTERN);

interface Context {
  slis: Map<string, OpenSloInput>;
  dataSources: Map<string, OpenSloInput>;
  notes: string[];
}

/** Where each of an SLO's profile fields came from, to name the OpenSLO field when validateSpec refuses it. */
interface SloOrigin {
  doc: Field;
  name: Field;
  description: Field;
  objective: Field;
  window: Field;
  indicator: Field;
}

interface ImportedSlo {
  slo: Obj;
  origin: SloOrigin;
  sources: SourceUse[];
}

// ---------------------------------------------------------------------------------------------------
// The Service: namespace and the rest of the spec

interface ServiceExtras {
  namespace: string | undefined;
  namespaceField: Field | undefined;
  spec: Obj;
  specField: Field | undefined;
}

function serviceExtras(doc: OpenSloInput | undefined): ServiceExtras {
  if (!doc) return { namespace: undefined, namespaceField: undefined, spec: {}, specField: undefined };
  const annField = sub(sub(field(doc.where), "metadata"), "annotations");
  const annotations = optionalObject(annField, doc.metadata.annotations) ?? {};
  const nsField = sub(annField, ANNOTATIONS.namespace);
  const namespace = optionalString(nsField, annotations[ANNOTATIONS.namespace]);
  if (namespace !== undefined && !(namespace.length <= 63 && LABEL.test(namespace))) fail(nsField, `must be a namespace name, not ${JSON.stringify(namespace)}`);
  const specField = sub(annField, ANNOTATIONS.spec);
  const text = optionalString(specField, annotations[ANNOTATIONS.spec]);
  let spec: Obj = {};
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (err) {
      fail(specField, `is not YAML: ${err instanceof Error ? err.message : String(err)}`);
    }
    spec = objectAt(specField, parsed);
    for (const key of Object.keys(spec)) {
      if (key === "slos") fail(specField, "must not hold slos: a profile's SLOs are the SLO documents of its service");
      if (!(SPEC_KEYS as readonly string[]).includes(key)) fail(specField, `holds ${key}, which a PerformanceProfile spec has not; it may hold ${SPEC_KEYS.join(", ")}`);
    }
  }
  return { namespace, namespaceField: namespace === undefined ? undefined : nsField, spec, specField };
}

// ---------------------------------------------------------------------------------------------------
// DataSources

function isPrometheus(type: string): boolean {
  return type.toLowerCase() === PROMETHEUS_TYPE.toLowerCase();
}

function notPrometheus(f: Field, type: string): never {
  return fail(f, `${type} cannot be read: Tollgate reads Prometheus's query API (Thanos, Mimir and Cortex serve it too: give type: ${PROMETHEUS_TYPE})`);
}

/** Checks each metric source's type and DataSource; returns the DataSource they read, or undefined for the operator's default. */
function dataSourceOf(uses: readonly SourceUse[], ctx: Context): { name: string; field: Field } | undefined {
  let found: { name: string; field: Field } | undefined;
  let first: SourceUse | undefined;
  for (const use of uses) {
    if (use.type !== undefined && !isPrometheus(use.type)) notPrometheus(sub(use.field, "type"), use.type);
    if (use.ref !== undefined) {
      const ds = ctx.dataSources.get(use.ref);
      if (!ds) fail(sub(use.field, "metricSourceRef"), `no DataSource named ${use.ref} in the files given`);
      const typeField = sub(sub(field(ds.where), "spec"), "type");
      const type = stringAt(typeField, ds.spec.type);
      if (!isPrometheus(type)) notPrometheus(typeField, type);
    }
    if (first !== undefined && use.ref !== first.ref) {
      const reads = (u: SourceUse) => (u.ref === undefined ? "the operator's default Prometheus" : `DataSource ${u.ref}`);
      fail(sub(use.field, "metricSourceRef"), `reads ${reads(use)}, and ${first.field.doc} ${first.field.path} reads ${reads(first)}: a profile's SLOs all read one Prometheus`);
    }
    first ??= use;
    if (use.ref !== undefined) found = { name: use.ref, field: sub(use.field, "metricSourceRef") };
  }
  return found;
}

/** A Prometheus DataSource as spec.prometheus: the address (url) or the operator's connection it names. */
function prometheusOfDataSource(ds: OpenSloInput): { value: Obj; field: Field } {
  const f = sub(sub(field(ds.where), "spec"), "connectionDetails");
  const details = optionalObject(f, ds.spec.connectionDetails) ?? {};
  const out: Obj = {};
  for (const [key, value] of Object.entries(details)) {
    if (key === "url" || key === "address") out.address = stringAt(sub(f, key), value);
    else if (key === "connection") out.connection = stringAt(sub(f, key), value);
    else {
      fail(
        sub(f, key),
        "is not read: a Prometheus DataSource gives url (the query API's base URL) or connection (a connection the operator was given); credentials, tenant headers and CAs belong in the operator's --prometheus-connections",
      );
    }
  }
  if (details.url !== undefined && details.address !== undefined) fail(f, "sets both url and address; give one");
  return { value: out, field: f };
}

// ---------------------------------------------------------------------------------------------------
// One SLO

const CALENDAR_UNITS = /^[0-9]+[MQY]$/;

function readWindow(f: Field, v: unknown, where: string, notes: string[]): string | undefined {
  if (v === undefined || v === null) {
    notes.push(`${where}: spec.timeWindow: none given, so Tollgate's default rolling window of 30d applies`);
    return undefined;
  }
  const list = listAt(f, v);
  if (list.length !== 1) fail(f, `must hold exactly one time window, not ${list.length}`);
  const wf = sub(f, 0);
  const w = objectAt(wf, list[0]);
  if (w.calendar !== undefined || w.isRolling === false) {
    fail(w.calendar !== undefined ? sub(wf, "calendar") : sub(wf, "isRolling"), "a calendar-aligned window cannot be expressed: Tollgate's budget window rolls (isRolling: true)");
  }
  const df = sub(wf, "duration");
  const duration = stringAt(df, w.duration);
  if (CALENDAR_UNITS.test(duration)) fail(df, `${duration} cannot be expressed: a month, quarter or year has no fixed length; give the rolling window in days or weeks, such as 30d or 4w`);
  if (!isDuration(duration)) fail(df, `must be a duration such as 28d, 4w or 12h, not ${JSON.stringify(duration)}`);
  return duration;
}

function readObjective(f: Field, v: unknown): { percent: number; field: Field; op: string | undefined; value: number | undefined; obj: Field } {
  const list = listAt(f, v);
  if (list.length === 0) fail(f, "must hold one objective");
  if (list.length > 1) fail(f, `holds ${list.length} objectives; Tollgate takes one per SLO: give each objective an SLO of its own`);
  const of = sub(f, 0);
  const o = objectAt(of, list[0]);
  if (o.indicator !== undefined || o.indicatorRef !== undefined) {
    fail(sub(of, o.indicator !== undefined ? "indicator" : "indicatorRef"), "a composite SLO cannot be expressed: give each indicator an SLO of its own; the profile's worst SLO drives its policy");
  }
  const target = optionalNumber(sub(of, "target"), o.target);
  const targetPercent = optionalNumber(sub(of, "targetPercent"), o.targetPercent);
  if ((target === undefined) === (targetPercent === undefined)) fail(of, target === undefined ? "needs target or targetPercent" : "sets both target and targetPercent; give one");
  const opField = sub(of, "op");
  return {
    percent: target !== undefined ? decimal(target * 100) : (targetPercent as number),
    field: sub(of, target !== undefined ? "target" : "targetPercent"),
    op: optionalString(opField, o.op),
    value: optionalNumber(sub(of, "value"), o.value),
    obj: of,
  };
}

/**
 * The preset an SLI's tollgate.dev/indicator annotation names, if its queries are exactly those
 * Tollgate builds for that preset here (the workload, its namespace, and in canary mode primary too):
 * then the profile keeps the preset, which follows targetRef. Queries that say otherwise are refused
 * rather than either side silently winning.
 */
function presetOf(f: Field, annotation: string, fromQueries: Indicator, workload: Workload): Indicator {
  let parsed: unknown;
  try {
    parsed = JSON.parse(annotation);
  } catch {
    fail(f, `must be a Tollgate indicator as JSON, such as {"istio":{"kind":"availability"}}, not ${JSON.stringify(annotation)}`);
  }
  const res = indicatorSchema.safeParse(parsed);
  if (!res.success) fail(f, `is not a Tollgate indicator: ${res.error.issues[0]?.message ?? "invalid"}`);
  const exported = sliOfIndicator(res.data, workload, undefined);
  const expected = indicatorOfSli(readSli(f, exported.spec as unknown as Obj), {
    op: exported.comparison.op,
    value: exported.comparison.value,
    fields: { op: f, value: f },
  });
  if (JSON.stringify(expected) !== JSON.stringify(fromQueries)) {
    const target = `Deployment ${workload.name}${workload.also?.length ? ` (and ${workload.also.join(", ")})` : ""} in namespace ${workload.namespace}`;
    fail(
      f,
      `says ${annotation}, but the SLI's queries are not the ones Tollgate builds for it for ${target}: remove the annotation to import the queries as written, or import into the namespace they name (-n)`,
    );
  }
  return res.data;
}

function importSlo(doc: OpenSloInput, service: string, workload: Workload, ctx: Context): ImportedSlo {
  const docField = field(doc.where);
  const sf = sub(docField, "spec");
  const spec = doc.spec;
  const bf = sub(sf, "budgetingMethod");
  const method = stringAt(bf, spec.budgetingMethod);
  if (method === "Timeslices" || method === "RatioTimeslices") fail(bf, `${method} cannot be expressed: Tollgate budgets by events (Occurrences)`);
  if (method !== "Occurrences") fail(bf, `must be Occurrences, Timeslices or RatioTimeslices, not ${JSON.stringify(method)}`);
  const wf = sub(sf, "timeWindow");
  const window = readWindow(wf, spec.timeWindow, doc.where, ctx.notes);
  const objective = readObjective(sub(sf, "objectives"), spec.objectives);

  // The indicator: inline, or an SLI document by name.
  const hasInline = spec.indicator !== undefined && spec.indicator !== null;
  const ref = optionalString(sub(sf, "indicatorRef"), spec.indicatorRef);
  if (hasInline === (ref !== undefined)) fail(sf, hasInline ? "sets both indicator and indicatorRef; give one" : "needs indicator or indicatorRef");
  let sliField: Field;
  let sliSpec: Obj;
  let sliMetadata: Obj | undefined;
  let sliMetadataField: Field;
  if (ref !== undefined) {
    const sli = ctx.slis.get(ref);
    if (!sli) fail(sub(sf, "indicatorRef"), `no SLI named ${ref} in the files given`);
    sliField = sub(field(sli.where), "spec");
    sliSpec = sli.spec;
    sliMetadata = sli.metadata;
    sliMetadataField = sub(field(sli.where), "metadata");
  } else {
    const inf = sub(sf, "indicator");
    const inline = objectAt(inf, spec.indicator);
    sliField = sub(inf, "spec");
    sliSpec = objectAt(sliField, inline.spec);
    sliMetadataField = sub(inf, "metadata");
    sliMetadata = optionalObject(sliMetadataField, inline.metadata);
  }
  const reading = readSli(sliField, sliSpec);
  let indicator = indicatorOfSli(reading, { op: objective.op, value: objective.value, fields: { op: sub(objective.obj, "op"), value: sub(objective.obj, "value") } });
  const annField = sub(sliMetadataField, "annotations");
  const annotations = optionalObject(annField, sliMetadata?.annotations);
  const preset = optionalString(sub(annField, ANNOTATIONS.indicator), annotations?.[ANNOTATIONS.indicator]);
  if (preset !== undefined) indicator = presetOf(sub(annField, ANNOTATIONS.indicator), preset, indicator, workload);

  const alertPolicies = spec.alertPolicies;
  if (Array.isArray(alertPolicies) && alertPolicies.length > 0) {
    ctx.notes.push(`${doc.where}: spec.alertPolicies: not imported: Tollgate writes its own burn-rate alerts from each SLO (tollgate rules)`);
  }
  const description = optionalString(sub(sf, "description"), spec.description);
  const name = doc.name.startsWith(`${service}-`) && doc.name.length > service.length + 1 ? doc.name.slice(service.length + 1) : doc.name;
  return {
    slo: {
      name,
      ...(description === undefined ? {} : { description }),
      objective: objective.percent,
      ...(window === undefined ? {} : { window }),
      indicator,
    },
    origin: {
      doc: docField,
      name: sub(sub(docField, "metadata"), "name"),
      description: sub(sf, "description"),
      objective: objective.field,
      window: sub(sub(wf, 0), "duration"),
      indicator: sliField,
    },
    sources: reading.sources,
  };
}

// ---------------------------------------------------------------------------------------------------
// One service → one profile

function importService(service: string, slos: readonly OpenSloInput[], serviceDoc: OpenSloInput | undefined, opts: ImportOptions, ctx: Context): ImportedProfile {
  const firstField = sub(sub(field(slos[0]?.where ?? service), "spec"), "service");
  if (service.length > 253 || !SUBDOMAIN.test(service)) {
    fail(firstField, `names the PerformanceProfile and its Deployment, so it must be a Kubernetes object name (lower-case letters, digits, dashes and dots), not ${JSON.stringify(service)}`);
  }
  const extras = serviceExtras(serviceDoc);
  if (extras.namespace !== undefined && opts.namespace !== undefined && extras.namespace !== opts.namespace) {
    fail(extras.namespaceField ?? firstField, `says namespace ${extras.namespace}, and -n says ${opts.namespace}`);
  }
  const namespace = extras.namespace ?? opts.namespace;
  // The annotation's targetRef as written, for validateSpec to judge; the service's namesake otherwise.
  const targetRef = extras.spec.targetRef ?? { name: service };
  const targetName = isObject(targetRef) && typeof targetRef.name === "string" ? targetRef.name : service;
  // What measuredWorkload (slo/plan.ts) makes of the finished profile: the target, and primary with a canary.
  const workload: Workload = { namespace: namespace ?? "default", name: targetName, ...(extras.spec.canary !== undefined ? { also: [primaryName(targetName)] } : {}) };

  const imported = slos.map((doc) => importSlo(doc, service, workload, ctx));
  const ds = dataSourceOf(
    imported.flatMap((s) => s.sources),
    ctx,
  );
  let prometheus = extras.spec.prometheus;
  let prometheusField = extras.specField;
  if (ds !== undefined) {
    const dataSource = ctx.dataSources.get(ds.name) as OpenSloInput;
    const fromDs = prometheusOfDataSource(dataSource);
    const own = optionalObject(extras.specField ?? firstField, prometheus) ?? {};
    if (own.address !== undefined || own.connection !== undefined) {
      fail(extras.specField ?? firstField, `sets prometheus.${own.address !== undefined ? "address" : "connection"}, and the SLOs read DataSource ${ds.name}: give the Prometheus in one place`);
    }
    prometheus = { ...fromDs.value, ...own };
    prometheusField = fromDs.field;
  }

  const spec: Obj = { targetRef };
  if (prometheus !== undefined) spec.prometheus = prometheus;
  spec.slos = imported.map((s) => s.slo);
  for (const key of ["policy", "canary", "trafficPolicy", "autoscaling"] as const) if (extras.spec[key] !== undefined) spec[key] = extras.spec[key];

  const res = validateSpec(spec);
  if (!res.ok) {
    const message = res.message.startsWith(`${res.field}: `) ? res.message.slice(res.field.length + 2) : res.message;
    const slo = /^spec\.slos\[(\d+)\](?:\.([A-Za-z]+))?/.exec(res.field);
    const origin = slo ? imported[Number(slo[1])]?.origin : undefined;
    if (origin) {
      const key = slo?.[2];
      const at = key === "name" || key === "description" || key === "objective" || key === "window" || key === "indicator" ? origin[key] : origin.doc;
      fail(at, `${message} (the profile's ${res.field})`);
    }
    const from = res.field.startsWith("spec.prometheus") ? prometheusField : res.field.startsWith("spec.slos") ? undefined : extras.specField;
    fail(from ?? firstField, `PerformanceProfile ${service}: ${res.message}`);
  }
  return { name: service, namespace, spec, validated: res.spec };
}

/**
 * The PerformanceProfiles of OpenSLO v1 files: one per service, in the order the services first
 * appear. Throws ConversionError naming the file, the document (kind and metadata.name) and the field.
 */
export function importOpenSlo(files: readonly SourceText[], opts: ImportOptions = {}): ImportResult {
  const { documents, notes } = readDocuments(files);
  const ctx: Context = { slis: new Map(), dataSources: new Map(), notes };
  const services = new Map<string, OpenSloInput>();
  const slosByService = new Map<string, OpenSloInput[]>();
  for (const doc of documents) {
    if (doc.kind === "SLI") ctx.slis.set(doc.name, doc);
    else if (doc.kind === "DataSource") ctx.dataSources.set(doc.name, doc);
    else if (doc.kind === "Service") services.set(doc.name, doc);
    else {
      const service = stringAt(sub(sub(field(doc.where), "spec"), "service"), doc.spec.service);
      slosByService.set(service, [...(slosByService.get(service) ?? []), doc]);
    }
  }
  if (slosByService.size === 0) {
    throw new ConversionError(`${files.map((f) => f.source).join(", ")}: no OpenSLO SLO (${OPENSLO_API_VERSION}) in ${files.length === 1 ? "it" : "them"}`);
  }
  for (const [name, doc] of services) if (!slosByService.has(name)) notes.push(`${doc.where}: no SLO names this service, so it makes no profile`);
  const profiles = [...slosByService].map(([service, slos]) => importService(service, slos, services.get(service), opts, ctx));
  return { profiles, notes };
}
