import { stringify } from "yaml";
import { parseDuration } from "../api/duration.ts";
import { DNS_LABEL_PATTERN } from "../api/names.ts";
import type { ProfileSpec } from "../api/profile.ts";
import { measuredWorkload } from "../slo/plan.ts";
import { fail, field, isObject, sub, type Obj } from "./fields.ts";
import { sliOfIndicator } from "./indicators.ts";
import { ANNOTATIONS, OPENSLO_API_VERSION, PROMETHEUS_TYPE, type DataSourceDocument, type OpenSloDocument, type ServiceDocument, type SloDocument } from "./types.ts";

/**
 * A PerformanceProfile → OpenSLO v1: a Service named after the profile, a Prometheus DataSource when
 * the profile names its Prometheus, and one SLO per SLO of the profile (Occurrences, a rolling window,
 * one objective in targetPercent) with its SLI inline, built from the PromQL Tollgate reads
 * (indicators.ts). What OpenSLO has no field for goes into Tollgate's annotations, so that import
 * brings the profile back whole: the namespace and the rest of the spec (policy, canary, traffic
 * policy, autoscaling, Prometheus options) on the Service, and an Istio preset on its SLI. Other
 * OpenSLO tools read the SLOs and their queries only.
 */

export interface ExportInput {
  /** `file: PerformanceProfile name`, for messages. */
  where: string;
  name: string;
  namespace: string;
  /** The validated spec, which the queries are built from. */
  spec: ProfileSpec;
  /** The spec as written, whose non-SLO parts the annotation carries without the defaults filled in. */
  raw: Obj;
}

export interface ExportResult {
  documents: OpenSloDocument[];
  notes: string[];
}

const LABEL = new RegExp(DNS_LABEL_PATTERN);

function isLabel(s: string): boolean {
  return s.length <= 63 && LABEL.test(s);
}

const SHORTHAND = /^[0-9]+[mhdw]$/;
const UNITS: Array<[string, number]> = [
  ["w", 7 * 86_400_000],
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
];

/**
 * A window as OpenSLO's duration shorthand, one number and one unit: as written when it is one
 * (`7d` stays `7d`), else in the largest unit that divides it (`1h30m` → `90m`).
 */
export function shorthand(window: string): string | undefined {
  if (SHORTHAND.test(window)) return window;
  const ms = parseDuration(window);
  const unit = UNITS.find(([, size]) => ms % size === 0);
  return unit && `${ms / unit[1]}${unit[0]}`;
}

/** The parts of the spec beside its SLOs that OpenSLO cannot hold, as written; undefined when there are none. */
function specAnnotation(name: string, raw: Obj): string | undefined {
  const rest: Obj = {};
  // The target is the service's namesake unless the profile says otherwise.
  if (isObject(raw.targetRef) && raw.targetRef.name !== name) rest.targetRef = raw.targetRef;
  if (isObject(raw.prometheus)) {
    // The address or connection is the DataSource.
    const { address: _address, connection: _connection, ...options } = raw.prometheus;
    if (Object.keys(options).length > 0) rest.prometheus = options;
  }
  for (const key of ["policy", "canary", "trafficPolicy", "autoscaling"] as const) if (raw[key] !== undefined) rest[key] = raw[key];
  return Object.keys(rest).length === 0 ? undefined : stringify(rest, { lineWidth: 0 });
}

/** Documents as one YAML stream, as export prints them. */
export function openSloYaml(documents: readonly OpenSloDocument[]): string {
  return documents.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}

/** The OpenSLO documents of one profile. Throws ConversionError naming the profile and the field. */
export function exportProfile(p: ExportInput): ExportResult {
  const at = field(p.where);
  if (!isLabel(p.name)) fail(sub(sub(at, "metadata"), "name"), "an OpenSLO name is an RFC 1123 label (lower-case letters, digits and dashes, at most 63), so this profile's name cannot name its Service");
  const notes: string[] = [];
  const annotation = specAnnotation(p.name, p.raw);
  const service: ServiceDocument = {
    apiVersion: OPENSLO_API_VERSION,
    kind: "Service",
    metadata: { name: p.name, annotations: { [ANNOTATIONS.namespace]: p.namespace, ...(annotation === undefined ? {} : { [ANNOTATIONS.spec]: annotation }) } },
    spec: {},
  };
  const documents: OpenSloDocument[] = [service];

  let ref: string | undefined;
  const { address, connection } = p.spec.prometheus ?? {};
  if (address !== undefined || connection !== undefined) {
    ref = isLabel(`${p.name}-prometheus`) ? `${p.name}-prometheus` : "prometheus";
    const ds: DataSourceDocument = {
      apiVersion: OPENSLO_API_VERSION,
      kind: "DataSource",
      metadata: { name: ref },
      spec: { type: PROMETHEUS_TYPE, connectionDetails: address !== undefined ? { url: address } : { connection: connection as string } },
    };
    documents.push(ds);
  }

  const workload = measuredWorkload({ namespace: p.namespace, name: p.name, spec: p.spec });
  p.spec.slos.forEach((slo, i) => {
    const sf = sub(sub(at, "spec"), "slos");
    const exported = sliOfIndicator(slo.indicator, workload, ref);
    // OpenSLO names are unique per kind across services: the profile's name keeps them apart.
    const name = isLabel(`${p.name}-${slo.name}`) ? `${p.name}-${slo.name}` : slo.name;
    const duration = shorthand(slo.window);
    if (duration === undefined) fail(sub(sub(sf, i), "window"), `${slo.window} is not a whole number of minutes, which OpenSLO's duration shorthand cannot give`);
    if (exported.spec.ratioMetric?.counter === false) {
      notes.push(`${p.where}: SLO ${slo.name}: its queries are not a sum of a counter's rate, so they keep Tollgate's {{window}} placeholder, which other OpenSLO tools do not fill in`);
    }
    const doc: SloDocument = {
      apiVersion: OPENSLO_API_VERSION,
      kind: "SLO",
      metadata: { name },
      spec: {
        ...(slo.description === undefined ? {} : { description: slo.description }),
        service: p.name,
        indicator: {
          metadata: { name, ...(exported.preset ? { annotations: { [ANNOTATIONS.indicator]: JSON.stringify(slo.indicator) } } : {}) },
          spec: exported.spec,
        },
        timeWindow: [{ duration, isRolling: true }],
        budgetingMethod: "Occurrences",
        objectives: [{ ...exported.comparison, targetPercent: slo.objective }],
      },
    };
    documents.push(doc);
  });
  return { documents, notes };
}
