import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { PrometheusClient, PrometheusError, sampleValue } from "./client.ts";

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

describe("sampleValue", () => {
  it("turns NaN and infinities into no data", () => {
    expect(sampleValue("0.25")).toBe(0.25);
    expect(sampleValue("NaN")).toBeUndefined();
    expect(sampleValue("+Inf")).toBeUndefined();
    expect(sampleValue("-Inf")).toBeUndefined();
  });
});

describe("PrometheusClient", () => {
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
  });
});
