import { loadClusterEnv } from "./env.ts";

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** An instant query against the test Prometheus, straight over its HTTP API; at `at`, or now. */
export async function promQuery(expr: string, at?: Date): Promise<Sample[]> {
  const url = new URL("/api/v1/query", loadClusterEnv().PROMETHEUS_URL);
  url.searchParams.set("query", expr);
  if (at) url.searchParams.set("time", String(at.getTime() / 1000));
  const res = await fetch(url);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  if (body.status !== "success" || !body.data) throw new Error(`query ${expr} failed: ${body.error ?? res.status}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

/** The single value of a query, or undefined while it has no (finite) result. */
export async function promScalar(expr: string): Promise<number | undefined> {
  const samples = await promQuery(expr);
  const v = samples[0]?.value;
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

export interface Series {
  metric: Record<string, string>;
  /** [unix seconds, value], oldest first. */
  samples: Array<[number, number]>;
}

/** The raw samples Prometheus stored for `selector` over the `rangeS` seconds up to `at`: what a range selector sees. */
export async function promRawSamples(selector: string, rangeS: number, at: Date): Promise<Series[]> {
  const url = new URL("/api/v1/query", loadClusterEnv().PROMETHEUS_URL);
  url.searchParams.set("query", `${selector}[${rangeS}s]`);
  url.searchParams.set("time", String(at.getTime() / 1000));
  const res = await fetch(url);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
  };
  if (body.status !== "success" || body.data?.resultType !== "matrix") throw new Error(`raw samples of ${selector} failed: ${body.error ?? res.status}`);
  return body.data.result.map((r) => ({ metric: r.metric, samples: r.values.map(([t, v]) => [t, Number(v)]) }));
}
