// The shape of Istio's standard request metrics as a destination sidecar reports them.

export const REQUESTS_TOTAL = "istio_requests_total";
export const REQUEST_DURATION = "istio_request_duration_milliseconds";

/** Istio's default buckets for istio_request_duration_milliseconds. */
export const DURATION_BUCKETS_MS: readonly number[] = [
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

export type LabelPairs = ReadonlyArray<readonly [name: string, value: string]>;

export interface SeriesIdentity {
  namespace: string;
  workload: string;
  service: string;
  version: string;
  responseCode: string;
}

/** In a fixed order, so the exposition is stable from scrape to scrape. */
export function istioLabels(id: SeriesIdentity): LabelPairs {
  return [
    ["reporter", "destination"],
    ["source_workload", "istio-ingressgateway"],
    ["source_workload_namespace", "istio-system"],
    ["destination_workload", id.workload],
    ["destination_workload_namespace", id.namespace],
    ["destination_service", `${id.service}.${id.namespace}.svc.cluster.local`],
    ["destination_service_name", id.service],
    ["destination_service_namespace", id.namespace],
    ["destination_version", id.version],
    ["destination_canonical_service", id.service],
    ["request_protocol", "http"],
    ["response_code", id.responseCode],
    ["response_flags", "-"],
    ["connection_security_policy", "mutual_tls"],
  ];
}

export interface Observation {
  ms: number;
  count: number;
}

export interface Bucket {
  /** As Istio writes `le`: "500", "+Inf". */
  le: string;
  /** Requests that took at most `le` milliseconds (cumulative, as Prometheus histograms are). */
  count: number;
}

export function cumulativeBuckets(observations: readonly Observation[]): Bucket[] {
  const buckets = DURATION_BUCKETS_MS.map((bound) => ({
    le: String(bound),
    count: observations.reduce((n, o) => (o.ms <= bound ? n + o.count : n), 0),
  }));
  buckets.push({ le: "+Inf", count: observations.reduce((n, o) => n + o.count, 0) });
  return buckets;
}
