import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { instantSamples, PrometheusClient, PrometheusError, rangeSeries } from "./client.ts";

// Protocol edge cases real Prometheus rarely produces on demand (503s, a proxy's HTML page): a local
// HTTP server plays the API. The client against the real Prometheus is covered end to end.
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function serve(handler: (req: IncomingMessage, body: string) => { status: number; body: string }): Promise<string> {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const out = handler(req, body);
      res.writeHead(out.status, { "Content-Type": "application/json" }).end(out.body);
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const vector = (...values: string[]) =>
  JSON.stringify({ status: "success", data: { resultType: "vector", result: values.map((v, i) => ({ metric: { i: String(i) }, value: [1, v] })) } });

describe("instantSamples", () => {
  it("turns NaN and infinities into no data", () => {
    const values = (...raw: string[]) =>
      instantSamples("http://p:9090", { resultType: "vector", result: raw.map((v) => ({ metric: {}, value: [1, v] })) }).map((s) => s.value);
    expect(values("0.25", "NaN", "+Inf", "-Inf")).toEqual([0.25, undefined, undefined, undefined]);
  });
});

describe("rangeSeries", () => {
  it("reads a matrix's samples in order with their times, NaN as no data", () => {
    const series = rangeSeries("http://p:9090", {
      resultType: "matrix",
      result: [{ metric: { slo: "availability" }, values: [[1764500000, "0.5"], [1764500060, "NaN"]] }],
    });
    expect(series).toEqual([
      { metric: { slo: "availability" }, values: [{ at: new Date(1764500000_000), value: 0.5 }, { at: new Date(1764500060_000), value: undefined }] },
    ]);
  });

  it("refuses an instant vector where a range was asked, naming what was wrong", () => {
    expect(() => rangeSeries("http://p:9090", { resultType: "vector", result: [] })).toThrow(/data.resultType is not matrix/);
    expect(() => rangeSeries("http://p:9090", { resultType: "matrix", result: [{ metric: {}, values: [[1, 2]] }] })).toThrow(/data.result\[0\].values\[0\]\[1\] is not a string/);
  });
});

describe("PrometheusClient", () => {
  it("sends a range query's start, end and step to /api/v1/query_range", async () => {
    let seen: { url?: string; body: string } = { body: "" };
    const url = await serve((req, body) => {
      seen = { url: req.url, body };
      return { status: 200, body: JSON.stringify({ status: "success", data: { resultType: "matrix", result: [{ metric: {}, values: [[1764500000, "1"]] }] } }) };
    });
    const series = await new PrometheusClient({ url }).queryRange("up", new Date(1764496400_000), new Date(1764500000_000), 60);
    expect(seen.url).toBe("/api/v1/query_range");
    expect(new URLSearchParams(seen.body).get("start")).toBe("1764496400.000");
    expect(new URLSearchParams(seen.body).get("end")).toBe("1764500000.000");
    expect(new URLSearchParams(seen.body).get("step")).toBe("60");
    expect(series[0]?.values[0]?.value).toBe(1);
  });

  it("sends the query, headers and bearer token, and maps non-finite samples to undefined", async () => {
    let seen: { headers: IncomingMessage["headers"]; body: string } | undefined;
    const url = await serve((req, body) => {
      seen = { headers: req.headers, body };
      return { status: 200, body: vector("0.5", "NaN", "+Inf") };
    });
    const client = new PrometheusClient({ url, headers: { "X-Scope-OrgID": "team-a" }, bearerToken: "s3cret" });
    const samples = await client.query("up", new Date(1_000_000));
    expect(samples.map((s) => s.value)).toEqual([0.5, undefined, undefined]);
    expect(seen?.headers["x-scope-orgid"]).toBe("team-a");
    expect(seen?.headers.authorization).toBe("Bearer s3cret");
    expect(new URLSearchParams(seen?.body).get("query")).toBe("up");
    expect(new URLSearchParams(seen?.body).get("time")).toBe("1000.000");
  });

  it("retries a 503 with backoff and succeeds", async () => {
    let calls = 0;
    const url = await serve(() => (++calls < 3 ? { status: 503, body: "busy" } : { status: 200, body: vector("1") }));
    const client = new PrometheusClient({ url, retries: 2, retryBaseMs: 5 });
    expect((await client.query("up"))[0]?.value).toBe(1);
    expect(calls).toBe(3);
  });

  it("never retries a bad query, and says what Prometheus said", async () => {
    let calls = 0;
    const url = await serve(() => {
      calls++;
      return { status: 400, body: JSON.stringify({ status: "error", errorType: "bad_data", error: "1:5: parse error: unexpected end of input" }) };
    });
    const err = await new PrometheusClient({ url, retries: 3, retryBaseMs: 1 }).query("sum(").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect((err as PrometheusError).kind).toBe("bad_query");
    expect((err as PrometheusError).message).toContain("parse error");
    expect(calls).toBe(1);
  });

  it("reports an unreachable server as unreachable after its retries", async () => {
    const url = await serve(() => ({ status: 200, body: "" }));
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    const err = await new PrometheusClient({ url, retries: 1, retryBaseMs: 1 }).query("up").catch((e: unknown) => e);
    expect((err as PrometheusError).kind).toBe("unreachable");
    expect((err as PrometheusError).message).toMatch(/unreachable: ECONNREFUSED/);
  });

  it("times out a slow server", async () => {
    server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const err = await new PrometheusClient({ url, retries: 0, timeoutMs: 100 }).query("up").catch((e: unknown) => e);
    expect((err as PrometheusError).kind).toBe("timeout");
    server.closeAllConnections();
  });

  it("treats a non-JSON answer (a proxy's error page) as a server error", async () => {
    const url = await serve(() => ({ status: 502, body: "<html>Bad Gateway</html>" }));
    const err = await new PrometheusClient({ url, retries: 0 }).query("up").catch((e: unknown) => e);
    expect((err as PrometheusError).kind).toBe("server");
    expect((err as PrometheusError).message).toContain("502");
    expect((err as PrometheusError).message).not.toContain("<html>");
  });
});

// Defect 7: an answer that is not the API's JSON, or not the shape asked for, used to reach
// `data.result.map` and throw a TypeError that no condition ever reported. Every body below must come
// back as the classified error, naming what was wrong without copying the body.
describe("PrometheusClient against malformed answers", () => {
  const ok = (data: unknown) => JSON.stringify({ status: "success", data });
  const vectorOf = (...elements: unknown[]) => ok({ resultType: "vector", result: elements });
  const sample = (value: unknown, ts: unknown = 1) => ({ metric: { job: "api" }, value: [ts, value] });
  const cases: Array<{ name: string; status?: number; body: string; says: RegExp }> = [
    { name: "a body that is not JSON", body: "upstream connect error", says: /not JSON/ },
    { name: "an HTML page with 200", body: "<html><body>Sign in</body></html>", says: /not JSON/ },
    { name: "an empty body", body: "", says: /not JSON/ },
    { name: "{}", body: "{}", says: /status/ },
    { name: "null", body: "null", says: /status/ },
    { name: "a JSON array", body: "[1,2]", says: /status/ },
    { name: "an unknown status", body: JSON.stringify({ status: "ok", data: {} }), says: /status/ },
    { name: "success without data", body: JSON.stringify({ status: "success" }), says: /no data/ },
    { name: "success with data null", body: ok(null), says: /no data/ },
    { name: "data that is not an object", body: ok("vector"), says: /data is not an object/ },
    { name: "no resultType", body: ok({ result: [] }), says: /resultType/ },
    { name: "an unknown resultType", body: ok({ resultType: "vectors", result: [] }), says: /resultType/ },
    { name: "a vector without result", body: ok({ resultType: "vector" }), says: /data\.result is not an array/ },
    { name: "a vector whose result is an object", body: ok({ resultType: "vector", result: {} }), says: /data\.result is not an array/ },
    { name: "a sample that is not an object", body: vectorOf(1), says: /data\.result\[0\] is not an object/ },
    { name: "a sample without metric", body: vectorOf({ value: [1, "1"] }), says: /data\.result\[0\]\.metric/ },
    { name: "a label value that is not a string", body: vectorOf({ metric: { code: 500 }, value: [1, "1"] }), says: /data\.result\[0\]\.metric/ },
    { name: "a sample without value", body: vectorOf({ metric: {} }), says: /data\.result\[0\]\.value/ },
    { name: "a value that is not a pair", body: vectorOf({ metric: {}, value: "1" }), says: /data\.result\[0\]\.value/ },
    { name: "a value pair of three", body: vectorOf({ metric: {}, value: [1, "1", "2"] }), says: /data\.result\[0\]\.value/ },
    { name: "a value that is a JSON number", body: vectorOf(sample(0.5)), says: /data\.result\[0\]\.value\[1\] is not a string/ },
    { name: "a value that is null", body: vectorOf(sample(null)), says: /data\.result\[0\]\.value\[1\] is not a string/ },
    { name: "a value that is not a number", body: vectorOf(sample("abc")), says: /data\.result\[0\]\.value\[1\] is not a number/ },
    { name: "an empty value", body: vectorOf(sample("")), says: /data\.result\[0\]\.value\[1\] is not a number/ },
    { name: "a value with spaces", body: vectorOf(sample(" 1 ")), says: /data\.result\[0\]\.value\[1\] is not a number/ },
    { name: "a hexadecimal value", body: vectorOf(sample("0x10")), says: /data\.result\[0\]\.value\[1\] is not a number/ },
    { name: "a lower-case nan", body: vectorOf(sample("nan")), says: /data\.result\[0\]\.value\[1\] is not a number/ },
    { name: "a signed NaN", body: vectorOf(sample("-NaN")), says: /data\.result\[0\]\.value\[1\] is not a number/ },
    { name: "NaN with trailing text", body: vectorOf(sample("NaNa")), says: /data\.result\[0\]\.value\[1\] is not a number/ },
    { name: "JavaScript's Infinity", body: vectorOf(sample("Infinity")), says: /data\.result\[0\]\.value\[1\] is not a number/ },
    { name: "a value beyond float64", body: vectorOf(sample("1e999")), says: /data\.result\[0\]\.value\[1\] is beyond float64/ },
    { name: "a 400-digit value", body: vectorOf(sample("9".repeat(400))), says: /data\.result\[0\]\.value\[1\] is beyond float64/ },
    { name: "a timestamp that is a string", body: vectorOf(sample("1", "1700000000")), says: /data\.result\[0\]\.value\[0\]/ },
    // JSON.parse reads 1e999 as Infinity: not a time.
    { name: "a timestamp beyond float64", body: vectorOf({ metric: {}, value: [1, "1"] }).replace('"value":[1,', '"value":[1e999,'), says: /data\.result\[0\]\.value\[0\]/ },
    { name: "the bad sample after good ones", body: vectorOf(sample("1"), sample("2"), sample(true)), says: /data\.result\[2\]\.value\[1\] is not a string/ },
    {
      name: "a native histogram where a float was asked",
      body: vectorOf({ metric: {}, histogram: [1, { count: "2", sum: "3", buckets: [] }] }),
      says: /data\.result\[0\] is a native histogram/,
    },
    { name: "a matrix where a vector was asked", body: ok({ resultType: "matrix", result: [{ metric: {}, values: [[1, "1"]] }] }), says: /matrix/ },
    { name: "a string result", body: ok({ resultType: "string", result: [1, "up"] }), says: /string/ },
    { name: "a scalar without a pair", body: ok({ resultType: "scalar", result: "1" }), says: /data\.result is not a \[time, "value"\] pair/ },
    { name: "a scalar whose value is a number", body: ok({ resultType: "scalar", result: [1, 1] }), says: /data\.result\[1\] is not a string/ },
  ];

  it.each(cases)("classifies $name as bad_response, naming what was wrong", async ({ status, body, says }) => {
    const url = await serve(() => ({ status: status ?? 200, body }));
    const err = await new PrometheusClient({ url, retries: 0 }).query("sum(up)").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect((err as PrometheusError).kind).toBe("bad_response");
    expect((err as PrometheusError).message).toMatch(says);
    expect((err as PrometheusError).message).toContain(url);
    // What was wrong, not what was sent: a proxy's page never reaches a tenant's status.
    if (body.length > 20) expect((err as PrometheusError).message).not.toContain(body.slice(0, 20));
  });

  it("still reads Prometheus's own spellings of NaN and the infinities as no data", async () => {
    const url = await serve(() => ({ status: 200, body: vectorOf(sample("NaN"), sample("+Inf"), sample("-Inf"), sample("1e+06"), sample("-0.25")) }));
    const samples = await new PrometheusClient({ url, retries: 0 }).query("sum(up)");
    expect(samples.map((s) => s.value)).toEqual([undefined, undefined, undefined, 1e6, -0.25]);
  });

  it("asks again on the next call, not within this one: a malformed answer is not retried", async () => {
    let calls = 0;
    const url = await serve(() => {
      calls++;
      return { status: 200, body: "{}" };
    });
    const err = await new PrometheusClient({ url, retries: 3, retryBaseMs: 1 }).query("sum(up)").catch((e: unknown) => e);
    expect((err as PrometheusError).kind).toBe("bad_response");
    expect(calls).toBe(1);
  });

  it("classifies a format_query answer without its string as bad_response, so a syntax check says unknown", async () => {
    const url = await serve(() => ({ status: 200, body: ok({ formatted: "sum(up)" }) }));
    const err = await new PrometheusClient({ url, retries: 0 }).checkSyntax("sum(up)").catch((e: unknown) => e);
    expect((err as PrometheusError).kind).toBe("bad_response");
    expect((err as PrometheusError).message).toMatch(/data is not a string/);
  });

  it("keeps a status code and a fixed reason for a server error, never the body", async () => {
    const body = JSON.stringify({ status: "error", errorType: "internal", error: "storage at 10.1.2.3:9000: connection refused" });
    const url = await serve(() => ({ status: 500, body }));
    const err = await new PrometheusClient({ url, retries: 0 }).query("sum(up)").catch((e: unknown) => e);
    expect((err as PrometheusError).kind).toBe("server");
    expect((err as PrometheusError).message).toBe(`Prometheus at ${url} answered 500 (internal)`);
  });
});
