import { HttpPool, send } from "../http/transport.ts";

export interface PrometheusConnection {
  /** Base URL of the Prometheus-compatible HTTP API (Prometheus, Thanos Query, Mimir, Cortex). */
  url: string;
  /** Extra headers on every request, e.g. X-Scope-OrgID for a multi-tenant Mimir or Cortex. */
  headers?: Record<string, string>;
  bearerToken?: string;
  /** PEM CA bundle to trust for https. */
  ca?: string;
  insecureSkipVerify?: boolean;
  timeoutMs?: number;
  /** Attempts after the first for unreachable or 5xx answers; bad queries and malformed answers are never retried. */
  retries?: number;
  retryBaseMs?: number;
}

export type PrometheusErrorKind = "unreachable" | "timeout" | "bad_query" | "server" | "bad_response";

/**
 * Why a query has no answer. Only `bad_query` is the user's to fix; the rest say Prometheus (or what
 * stands in front of it) is unwell. `bad_response`: an answer came, but not in the shape of the HTTP API
 * (not JSON, a proxy's page, a field missing or of the wrong type, a matrix where a vector was asked).
 */
export class PrometheusError extends Error {
  readonly kind: PrometheusErrorKind;
  readonly status: number;
  constructor(kind: PrometheusErrorKind, message: string, status = 0) {
    super(message);
    this.name = "PrometheusError";
    this.kind = kind;
    this.status = status;
  }
}

/** One series of an instant vector. `value` is undefined for NaN and ±Inf: "no data", never a number. */
export interface Sample {
  metric: Record<string, string>;
  value: number | undefined;
}

// ---------------------------------------------------------------------------------------------------
// The API's answers, checked at the boundary. Everything past here trusts the types, so every field is
// checked before it is used; what does not fit becomes a PrometheusError that names the field, never a
// TypeError, and never a copy of the body (a proxy's page or a stack trace has no place in a status).

/** errorType values of the HTTP API: a fixed vocabulary, safe to repeat where the error text is not. */
const ERROR_TYPES = new Set(["timeout", "canceled", "execution", "bad_data", "internal", "unavailable", "not_found", "not_acceptable"]);

/** Prometheus's own error text (a parse error, say) is kept for the user, but never at any length. */
const MAX_ERROR_TEXT = 300;

/** Floats as the API spells them: decimal, optional exponent. NaN and the infinities have their own spellings. */
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NO_NUMBER = new Set(["NaN", "+Inf", "-Inf"]);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** A malformed answer, told by what was wrong in it. */
function malformed(base: string, what: string, status = 200): PrometheusError {
  return new PrometheusError("bad_response", `Prometheus at ${base} sent a malformed answer: ${what}`, status);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The `data` of one HTTP answer of the API, or the PrometheusError it stands for. Pure: the exchange
 * is the caller's. The HTTP status and the API's errorType say whose fault an error is; a 2xx answer
 * that is not the API's envelope is malformed.
 */
export function apiData(base: string, httpStatus: number, text: string): unknown {
  const body = parseJson(text);
  const envelope = isObject(body) ? body : undefined;
  const apiStatus = envelope?.status;
  if (httpStatus >= 200 && httpStatus < 300) {
    if (body === undefined) throw malformed(base, "the body is not JSON");
    if (apiStatus !== "success" && apiStatus !== "error") throw malformed(base, `the body is ${jsonType(body)} without status success or error`);
    if (apiStatus === "success") {
      const data = envelope?.data;
      if (data === undefined || data === null) throw malformed(base, "status is success but there is no data");
      return data;
    }
  }
  const errorType = typeof envelope?.errorType === "string" && ERROR_TYPES.has(envelope.errorType) ? envelope.errorType : undefined;
  const said = apiStatus === "error" && typeof envelope?.error === "string" && envelope.error !== "" ? envelope.error : undefined;
  const answered = `Prometheus at ${base} answered ${httpStatus}${errorType ? ` (${errorType})` : ""}`;
  // 400 and 422 are the query's fault (bad_data, execution errors): what Prometheus said about it is
  // the user's to read. Everything else is the server's, told by status code and errorType alone.
  if (httpStatus === 400 || httpStatus === 422 || errorType === "bad_data") {
    throw new PrometheusError("bad_query", said ? said.slice(0, MAX_ERROR_TEXT) : answered, httpStatus);
  }
  if (errorType === "timeout" || httpStatus === 503) throw new PrometheusError("timeout", answered, httpStatus);
  throw new PrometheusError("server", answered, httpStatus);
}

/** `[time, "value"]`: the time a finite number, the value a float as the API spells it. */
function samplePair(base: string, pair: unknown, path: string): number | undefined {
  if (!Array.isArray(pair) || pair.length !== 2) throw malformed(base, `${path} is not a [time, "value"] pair`);
  const [time, raw] = pair as [unknown, unknown];
  if (typeof time !== "number" || !Number.isFinite(time)) throw malformed(base, `${path}[0] is not a time in seconds`);
  if (typeof raw !== "string") throw malformed(base, `${path}[1] is not a string but ${jsonType(raw)}`);
  if (NO_NUMBER.has(raw)) return undefined;
  if (!FLOAT.test(raw)) throw malformed(base, `${path}[1] is not a number (a string of ${raw.length} characters)`);
  const value = Number(raw);
  // Prometheus spells overflow +Inf; a literal beyond float64 comes from something else.
  if (!Number.isFinite(value)) throw malformed(base, `${path}[1] is beyond float64`);
  return value;
}

function labels(base: string, metric: unknown, path: string): Record<string, string> {
  if (!isObject(metric) || !Object.values(metric).every((v) => typeof v === "string")) {
    throw malformed(base, `${path} is not a set of labels (an object of strings)`);
  }
  return metric as Record<string, string>;
}

/**
 * The samples of an instant query's `data`: a vector, or a scalar as one sample without labels.
 * Tollgate's queries are all instant vectors or scalars, so a matrix or a string is malformed too.
 */
export function instantSamples(base: string, data: unknown): Sample[] {
  if (!isObject(data)) throw malformed(base, `data is not an object but ${jsonType(data)}`);
  const { resultType, result } = data;
  if (resultType === "scalar") return [{ metric: {}, value: samplePair(base, result, "data.result") }];
  if (resultType === "matrix" || resultType === "string") {
    throw malformed(base, `data.resultType is ${resultType} where an instant vector or scalar was asked`);
  }
  if (resultType !== "vector") throw malformed(base, "data.resultType is none of vector, scalar, matrix, string");
  if (!Array.isArray(result)) throw malformed(base, `data.result is not an array but ${jsonType(result)}`);
  return result.map((element: unknown, i): Sample => {
    const path = `data.result[${i}]`;
    if (!isObject(element)) throw malformed(base, `${path} is not an object but ${jsonType(element)}`);
    const metric = labels(base, element.metric, `${path}.metric`);
    if (element.value === undefined && element.histogram !== undefined) {
      throw malformed(base, `${path} is a native histogram, not a float sample`);
    }
    return { metric, value: samplePair(base, element.value, `${path}.value`) };
  });
}

/** One series of a range query: its samples in time order, `value` undefined for NaN and ±Inf. */
export interface RangeSeries {
  metric: Record<string, string>;
  values: Array<{ at: Date; value: number | undefined }>;
}

/** The series of a range query's `data`: a matrix, each sample checked as an instant one is. */
export function rangeSeries(base: string, data: unknown): RangeSeries[] {
  if (!isObject(data)) throw malformed(base, `data is not an object but ${jsonType(data)}`);
  if (data.resultType !== "matrix") throw malformed(base, "data.resultType is not matrix where a range query was asked");
  const { result } = data;
  if (!Array.isArray(result)) throw malformed(base, `data.result is not an array but ${jsonType(result)}`);
  return result.map((element: unknown, i): RangeSeries => {
    const path = `data.result[${i}]`;
    if (!isObject(element)) throw malformed(base, `${path} is not an object but ${jsonType(element)}`);
    const metric = labels(base, element.metric, `${path}.metric`);
    if (!Array.isArray(element.values)) throw malformed(base, `${path}.values is not an array but ${jsonType(element.values)}`);
    const values = element.values.map((pair: unknown, j) => {
      const value = samplePair(base, pair, `${path}.values[${j}]`);
      return { at: new Date((pair as [number, string])[0] * 1000), value };
    });
    return { metric, values };
  });
}

/** The `data` of /api/v1/format_query: the query, formatted. */
export function formattedQuery(base: string, data: unknown): string {
  if (typeof data !== "string") throw malformed(base, `data is not a string but ${jsonType(data)}`);
  return data;
}

export class PrometheusClient {
  private readonly conn: PrometheusConnection;
  private readonly pool: HttpPool;
  private readonly base: string;

  constructor(conn: PrometheusConnection) {
    this.conn = conn;
    this.base = conn.url.replace(/\/+$/, "");
    this.pool = new HttpPool({ ca: conn.ca, rejectUnauthorized: !conn.insecureSkipVerify });
  }

  get url(): string {
    return this.base;
  }

  /** An instant query; a scalar result comes back as one sample without labels. */
  async query(expr: string, time?: Date): Promise<Sample[]> {
    const params: Record<string, string> = { query: expr };
    if (time) params.time = (time.getTime() / 1000).toFixed(3);
    return instantSamples(this.base, await this.call("/api/v1/query", params));
  }

  /** A range query from `start` to `end`, a sample every `stepSeconds`. */
  async queryRange(expr: string, start: Date, end: Date, stepSeconds: number): Promise<RangeSeries[]> {
    const params = { query: expr, start: (start.getTime() / 1000).toFixed(3), end: (end.getTime() / 1000).toFixed(3), step: String(stepSeconds) };
    return rangeSeries(this.base, await this.call("/api/v1/query_range", params));
  }

  /** Parses without evaluating (Prometheus's own parser, through /api/v1/format_query). */
  async checkSyntax(expr: string): Promise<{ ok: true } | { ok: false; message: string }> {
    let data: unknown;
    try {
      data = await this.call("/api/v1/format_query", { query: expr });
    } catch (err) {
      if (err instanceof PrometheusError && err.kind === "bad_query") return { ok: false, message: err.message };
      throw err;
    }
    formattedQuery(this.base, data);
    return { ok: true };
  }

  private async call(path: string, params: Record<string, string>): Promise<unknown> {
    const retries = this.conn.retries ?? 2;
    const base = this.conn.retryBaseMs ?? 200;
    let lastErr: PrometheusError | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, base * 2 ** (attempt - 1)));
      try {
        return await this.once(path, params);
      } catch (err) {
        // A bad query fails the same way every time; a malformed answer did arrive, so asking again at
        // once is unlikely to help and the next evaluation asks anyway.
        if (!(err instanceof PrometheusError) || err.kind === "bad_query" || err.kind === "bad_response") throw err;
        lastErr = err;
      }
    }
    throw lastErr ?? new PrometheusError("unreachable", "no attempt made");
  }

  private async once(path: string, params: Record<string, string>): Promise<unknown> {
    const headers: Record<string, string> = {
      ...this.conn.headers,
      Accept: "application/json",
      "Content-Type": "application/x-www-form-urlencoded",
    };
    if (this.conn.bearerToken) headers.Authorization = `Bearer ${this.conn.bearerToken}`;
    const timeoutMs = this.conn.timeoutMs ?? 10_000;
    let res;
    let text: string;
    try {
      res = await send(new URL(this.base + path), { method: "POST", headers, body: new URLSearchParams(params).toString(), signal: AbortSignal.timeout(timeoutMs) }, this.pool);
      // The body streams after the headers: it can time out or break off as well.
      text = await res.text();
    } catch (err) {
      const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      if (e.name === "TimeoutError") throw new PrometheusError("timeout", `Prometheus at ${this.base} did not answer within ${timeoutMs} ms`);
      const detail = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
      throw new PrometheusError("unreachable", `Prometheus at ${this.base} is unreachable: ${detail}`);
    }
    return apiData(this.base, res.status, text);
  }
}
