import { Agent, fetch, type Dispatcher } from "undici";

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
  /** Attempts after the first for unreachable or 5xx answers; bad queries are never retried. */
  retries?: number;
  retryBaseMs?: number;
}

export type PrometheusErrorKind = "unreachable" | "timeout" | "bad_query" | "server";

/** Why a query has no answer. Only `bad_query` is the user's to fix; the rest say Prometheus is unwell. */
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

interface ApiResponse<T> {
  status: "success" | "error";
  data?: T;
  errorType?: string;
  error?: string;
}

type InstantData =
  | { resultType: "vector"; result: Array<{ metric: Record<string, string>; value: [number, string] }> }
  | { resultType: "scalar"; result: [number, string] }
  | { resultType: "matrix" | "string"; result: unknown };

/** Parses a Prometheus sample value; NaN, +Inf and -Inf become undefined. */
export function sampleValue(raw: string): number | undefined {
  const v = Number(raw);
  return Number.isFinite(v) ? v : undefined;
}

export class PrometheusClient {
  private readonly conn: PrometheusConnection;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly base: string;

  constructor(conn: PrometheusConnection) {
    this.conn = conn;
    this.base = conn.url.replace(/\/+$/, "");
    this.dispatcher =
      conn.ca || conn.insecureSkipVerify
        ? new Agent({ connect: { ca: conn.ca, rejectUnauthorized: !conn.insecureSkipVerify } })
        : undefined;
  }

  get url(): string {
    return this.base;
  }

  /** An instant query; a scalar result comes back as one sample without labels. */
  async query(expr: string, time?: Date): Promise<Sample[]> {
    const params: Record<string, string> = { query: expr };
    if (time) params.time = (time.getTime() / 1000).toFixed(3);
    const data = await this.call<InstantData>("/api/v1/query", params);
    if (data.resultType === "vector") {
      return data.result.map((r) => ({ metric: r.metric, value: sampleValue(r.value[1]) }));
    }
    if (data.resultType === "scalar") return [{ metric: {}, value: sampleValue(data.result[1]) }];
    throw new PrometheusError("bad_query", `query returned a ${data.resultType}, not an instant vector or scalar: ${expr}`);
  }

  /** Parses without evaluating (Prometheus's own parser, through /api/v1/format_query). */
  async checkSyntax(expr: string): Promise<{ ok: true } | { ok: false; message: string }> {
    try {
      await this.call<string>("/api/v1/format_query", { query: expr });
      return { ok: true };
    } catch (err) {
      if (err instanceof PrometheusError && err.kind === "bad_query") return { ok: false, message: err.message };
      throw err;
    }
  }

  private async call<T>(path: string, params: Record<string, string>): Promise<T> {
    const retries = this.conn.retries ?? 2;
    const base = this.conn.retryBaseMs ?? 200;
    let lastErr: PrometheusError | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, base * 2 ** (attempt - 1)));
      try {
        return await this.once<T>(path, params);
      } catch (err) {
        if (!(err instanceof PrometheusError) || err.kind === "bad_query") throw err;
        lastErr = err;
      }
    }
    throw lastErr ?? new PrometheusError("unreachable", "no attempt made");
  }

  private async once<T>(path: string, params: Record<string, string>): Promise<T> {
    const headers: Record<string, string> = {
      ...this.conn.headers,
      Accept: "application/json",
      "Content-Type": "application/x-www-form-urlencoded",
    };
    if (this.conn.bearerToken) headers.Authorization = `Bearer ${this.conn.bearerToken}`;
    const timeoutMs = this.conn.timeoutMs ?? 10_000;
    let res;
    try {
      res = await fetch(this.base + path, {
        method: "POST",
        headers,
        body: new URLSearchParams(params).toString(),
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      if (e.name === "TimeoutError") throw new PrometheusError("timeout", `Prometheus at ${this.base} did not answer within ${timeoutMs} ms`);
      const detail = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
      throw new PrometheusError("unreachable", `Prometheus at ${this.base} is unreachable: ${detail}`);
    }
    const text = await res.text();
    let body: ApiResponse<T> | undefined;
    try {
      body = JSON.parse(text) as ApiResponse<T>;
    } catch {
      body = undefined;
    }
    if (res.ok && body?.status === "success" && body.data !== undefined) return body.data;
    const message = body?.error ?? (text.slice(0, 300) || `HTTP ${res.status}`);
    // 400 and 422 are the query's fault (bad_data, execution errors); everything else is the server's.
    if (res.status === 400 || res.status === 422 || body?.errorType === "bad_data") {
      throw new PrometheusError("bad_query", message, res.status);
    }
    if (body?.errorType === "timeout" || res.status === 503) throw new PrometheusError("timeout", message, res.status);
    throw new PrometheusError("server", `Prometheus at ${this.base} answered ${res.status}: ${message}`, res.status);
  }
}
