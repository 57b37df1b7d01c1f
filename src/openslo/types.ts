/**
 * The OpenSLO v1 documents Tollgate writes (https://github.com/OpenSLO/OpenSLO, `openslo/v1`), as far
 * as Tollgate fills them in. Reading goes through fields.ts instead, since input may hold anything.
 */

export const OPENSLO_API_VERSION = "openslo/v1";

/** The metric source type Tollgate reads and writes: Prometheus's query API. */
export const PROMETHEUS_TYPE = "Prometheus";

/** Annotations Tollgate puts on OpenSLO documents for what OpenSLO has no field for. */
export const ANNOTATIONS = {
  /** On a Service: the profile's namespace, which the Istio presets' queries name. */
  namespace: "tollgate.dev/namespace",
  /** On a Service: the profile spec without its SLOs (policy, canary, ...), as YAML. */
  spec: "tollgate.dev/spec",
  /** On an SLI: the Tollgate indicator its queries were built from, as JSON, when it is a preset. */
  indicator: "tollgate.dev/indicator",
} as const;

export interface Metadata {
  name: string;
  displayName?: string;
  annotations?: Record<string, string>;
}

export interface MetricSource {
  metricSourceRef?: string;
  type: string;
  spec: { query: string; unit?: "seconds" | "milliseconds" };
}

export interface MetricSourceHolder {
  metricSource: MetricSource;
}

export interface RatioMetric {
  counter: boolean;
  good?: MetricSourceHolder;
  bad?: MetricSourceHolder;
  total: MetricSourceHolder;
}

export interface SliSpec {
  description?: string;
  ratioMetric?: RatioMetric;
  thresholdMetric?: MetricSourceHolder;
}

export interface Objective {
  displayName?: string;
  op?: "lte" | "gte" | "lt" | "gt";
  value?: number;
  targetPercent: number;
}

export interface SloDocument {
  apiVersion: typeof OPENSLO_API_VERSION;
  kind: "SLO";
  metadata: Metadata;
  spec: {
    description?: string;
    service: string;
    indicator: { metadata: Metadata; spec: SliSpec };
    timeWindow: Array<{ duration: string; isRolling: true }>;
    budgetingMethod: "Occurrences";
    objectives: Objective[];
  };
}

export interface ServiceDocument {
  apiVersion: typeof OPENSLO_API_VERSION;
  kind: "Service";
  metadata: Metadata;
  spec: { description?: string };
}

export interface DataSourceDocument {
  apiVersion: typeof OPENSLO_API_VERSION;
  kind: "DataSource";
  metadata: Metadata;
  spec: { description?: string; type: string; connectionDetails: { url: string } | { connection: string } };
}

export type OpenSloDocument = SloDocument | ServiceDocument | DataSourceDocument;
