// What a simulated workload is configured with, and the validation the HTTP API applies to it.

export interface Latency {
  /** How long each request of this share takes, in milliseconds. */
  ms: number;
  /** Relative share of requests that take `ms`. */
  weight: number;
}

export interface WorkloadParams {
  /** Requests per second. */
  rate: number;
  /** Fraction of requests answered with `errorCode`; the rest get 200. */
  errorRatio: number;
  errorCode: string;
  /** Every request takes exactly one of these latencies, in proportion to the weights. */
  latencies: Latency[];
  /** Kubernetes Service name the requests are addressed to. */
  service: string;
  /** Istio's `destination_version`, from the Pod's `version` label. */
  version: string;
}

/** What PUT accepts: any subset of the parameters; errorCode may also be given as a number. */
export interface WorkloadInput {
  rate?: number;
  errorRatio?: number;
  errorCode?: string | number;
  latencies?: Latency[];
  service?: string;
  version?: string;
}

export type WorkloadPatch = Partial<WorkloadParams>;

export class ValidationError extends Error {
  override name = "ValidationError";
}

export function defaultParams(name: string): WorkloadParams {
  return {
    rate: 0,
    errorRatio: 0,
    errorCode: "500",
    latencies: [{ ms: 50, weight: 1 }],
    service: name,
    version: "unknown",
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const FIELDS = new Set(["rate", "errorRatio", "errorCode", "latencies", "service", "version"]);
const MAX_LATENCIES = 64;

/** Namespace and name become Prometheus labels and a Service FQDN, so they must be what Kubernetes allows. */
export function validateWorkloadKey(namespace: string, name: string): void {
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) {
    throw new ValidationError(`namespace must be a DNS label (lowercase alphanumerics and '-', at most 63), got ${JSON.stringify(namespace)}`);
  }
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw new ValidationError(`name must be a DNS subdomain (lowercase alphanumerics, '-' and '.', at most 253), got ${JSON.stringify(name)}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function finiteNumber(field: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new ValidationError(`${field} must be a finite number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function parseErrorCode(v: unknown): string {
  const code = typeof v === "number" && Number.isInteger(v) ? String(v) : v;
  if (typeof code !== "string" || !/^[1-5][0-9][0-9]$/.test(code)) {
    throw new ValidationError(`errorCode must be an HTTP status code from 100 to 599, got ${JSON.stringify(v)}`);
  }
  // Errors are counted as "everything but 200", so 200 as the error code would hide them.
  if (code === "200") throw new ValidationError("errorCode must not be 200, which is the success code");
  return code;
}

function parseLatencies(v: unknown): Latency[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw new ValidationError(`latencies must be a non-empty array of {ms, weight}, got ${JSON.stringify(v)}`);
  }
  if (v.length > MAX_LATENCIES) throw new ValidationError(`latencies may hold at most ${MAX_LATENCIES} entries, got ${v.length}`);
  const seen = new Set<number>();
  return v.map((entry: unknown, i): Latency => {
    if (!isRecord(entry)) throw new ValidationError(`latencies[${i}] must be an object {ms, weight}, got ${JSON.stringify(entry)}`);
    for (const key of Object.keys(entry)) {
      if (key !== "ms" && key !== "weight") throw new ValidationError(`latencies[${i}] has unknown field ${JSON.stringify(key)} (allowed: ms, weight)`);
    }
    const ms = finiteNumber(`latencies[${i}].ms`, entry.ms);
    if (ms < 0) throw new ValidationError(`latencies[${i}].ms must be >= 0, got ${ms}`);
    if (seen.has(ms)) throw new ValidationError(`latencies[${i}].ms ${ms} is listed twice; give each latency once with its total weight`);
    seen.add(ms);
    const weight = finiteNumber(`latencies[${i}].weight`, entry.weight);
    if (weight <= 0) throw new ValidationError(`latencies[${i}].weight must be > 0, got ${weight}`);
    return { ms, weight };
  });
}

/** Checks a request body and returns the fields it sets, normalised. Throws ValidationError. */
export function parseWorkloadPatch(body: unknown): WorkloadPatch {
  if (!isRecord(body)) throw new ValidationError(`body must be a JSON object, got ${JSON.stringify(body)}`);
  const patch: WorkloadPatch = {};
  for (const [key, value] of Object.entries(body)) {
    if (!FIELDS.has(key)) {
      throw new ValidationError(`unknown field ${JSON.stringify(key)} (allowed: ${[...FIELDS].join(", ")})`);
    }
    switch (key) {
      case "rate": {
        const rate = finiteNumber("rate", value);
        if (rate < 0) throw new ValidationError(`rate must be >= 0 requests per second, got ${rate}`);
        patch.rate = rate;
        break;
      }
      case "errorRatio": {
        const ratio = finiteNumber("errorRatio", value);
        if (ratio < 0 || ratio > 1) throw new ValidationError(`errorRatio must be within [0, 1], got ${ratio}`);
        patch.errorRatio = ratio;
        break;
      }
      case "errorCode":
        patch.errorCode = parseErrorCode(value);
        break;
      case "latencies":
        patch.latencies = parseLatencies(value);
        break;
      case "service":
        if (typeof value !== "string" || value.length > 63 || !DNS_LABEL.test(value)) {
          throw new ValidationError(`service must be a DNS label (lowercase alphanumerics and '-', at most 63), got ${JSON.stringify(value)}`);
        }
        patch.service = value;
        break;
      case "version":
        if (typeof value !== "string" || value.length > 63 || !LABEL_VALUE.test(value)) {
          throw new ValidationError(`version must be a Kubernetes label value (alphanumerics, '-', '_', '.', at most 63), got ${JSON.stringify(value)}`);
        }
        patch.version = value;
        break;
    }
  }
  return patch;
}

export function applyPatch(current: WorkloadParams, patch: WorkloadPatch): WorkloadParams {
  return {
    rate: patch.rate ?? current.rate,
    errorRatio: patch.errorRatio ?? current.errorRatio,
    errorCode: patch.errorCode ?? current.errorCode,
    latencies: (patch.latencies ?? current.latencies).map((l) => ({ ...l })),
    service: patch.service ?? current.service,
    version: patch.version ?? current.version,
  };
}
