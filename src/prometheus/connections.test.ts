import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrometheusSpec } from "../api/prometheus.ts";
import { parseEndpointPattern } from "../tenancy/endpoints.ts";
import { PrometheusConnections, type OperatorPrometheus } from "./connections.ts";

const secrets: Record<string, string> = { "team-a/prom/token": "tenant-token\n", "team-a/prom/ca": "-----BEGIN CERTIFICATE-----" };
const readSecret = async (ns: string, name: string, key: string) => secrets[`${ns}/${name}/${key}`];
const files: Record<string, string> = { "/etc/tollgate/mimir-token": "owner-token\n" };
const connections = (defaults: Partial<OperatorPrometheus> = {}) =>
  new PrometheusConnections(readSecret, { url: base, timeoutMs: 10_000, ...defaults }, {
    readFile: async (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
  });
const resolve = (spec: PrometheusSpec | undefined, defaults: Partial<OperatorPrometheus> = {}) => connections(defaults).resolve("team-a", spec);
// A Prometheus on loopback that records what reaches it: the proof of what a resolution sends.
let server: Server;
let base = "";
const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => res.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"success","data":{"resultType":"vector","result":[]}}'));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** The headers one query through the resolved client carries. */
async function sent(r: Awaited<ReturnType<PrometheusConnections["resolve"]>>): Promise<IncomingHttpHeaders> {
  if (!r.ok) throw new Error(r.message);
  seen.length = 0;
  await r.client.query("up");
  return seen[0]!.headers;
}

const mimir = () => ({ name: "mimir", url: `${base}/prometheus`, headers: { "X-Scope-OrgID": "team-a" }, bearerTokenFile: "/etc/tollgate/mimir-token" });

describe("PrometheusConnections.resolve", () => {
  it("uses the operator's default when the profile names nothing", async () => {
    const r = await resolve(undefined);
    expect(r.ok && r.client.url).toBe(base);
  });

  it("uses a named connection with its owner's tenant header and token file", async () => {
    const r = await resolve({ connection: "mimir" }, { connections: [mimir()] });
    expect(r.ok && r.client.url).toBe(`${base}/prometheus`);
    const headers = await sent(r);
    expect(headers["x-scope-orgid"]).toBe("team-a");
    expect(headers.authorization).toBe("Bearer owner-token");
  });

  it("refuses a connection the operator does not have, naming the field and the ones it has", async () => {
    const r = await resolve({ connection: "other" }, { connections: [mimir()] });
    expect(r).toMatchObject({ ok: false, problem: { field: "spec.prometheus.connection", reason: "ConnectionNotFound" } });
    expect(!r.ok && r.problem?.message).toContain("mimir");
  });

  it("refuses an address the operator does not allow, and sends it nothing", async () => {
    seen.length = 0;
    for (const address of ["http://127.0.0.1:6443", base, `${base}/api/v1`, "https://internal.example.com"]) {
      const r = await resolve({ address });
      expect(r).toMatchObject({ ok: false, problem: { field: "spec.prometheus.address", reason: "EndpointNotAllowed" } });
    }
    expect(seen).toEqual([]);
  });

  it("admits an address an allowed pattern covers", async () => {
    const r = await resolve({ address: `${base}/team-a` }, { allowedAddresses: [parseEndpointPattern(`${base}/`)] });
    expect(r.ok && r.client.url).toBe(`${base}/team-a`);
  });

  it("refuses a header the operator does not let profiles set, X-Scope-OrgID above all", async () => {
    const r = await resolve({ headers: { "X-Scope-OrgID": "team-b" } }, { connections: [mimir()] });
    expect(r).toMatchObject({ ok: false, problem: { field: "spec.prometheus.headers.X-Scope-OrgID", reason: "HeadersNotAllowed" } });
  });

  it("lets an allowed header through, never over the connection's own", async () => {
    const r = await resolve({ connection: "mimir", headers: { "X-Scope-OrgID": "team-b", "X-Trace": "1" } }, { connections: [mimir()], profileHeaders: ["X-Trace", "X-Scope-OrgID"] });
    const headers = await sent(r);
    expect(headers["x-trace"]).toBe("1");
    expect(headers["x-scope-orgid"]).toBe("team-a");
  });

  it("reads Secrets from the profile's own namespace and names a missing one", async () => {
    const ok = await resolve({ bearerTokenSecretRef: { name: "prom", key: "token" } });
    expect((await sent(ok)).authorization).toBe("Bearer tenant-token");
    const r = await resolve({ bearerTokenSecretRef: { name: "prom", key: "nope" } });
    expect(r).toMatchObject({ ok: false, problem: { field: "spec.prometheus.bearerTokenSecretRef", reason: "SecretNotFound" } });
    const ca = await resolve({ tls: { caSecretRef: { name: "missing", key: "ca" }, insecureSkipVerify: false } });
    expect(ca).toMatchObject({ ok: false, problem: { field: "spec.prometheus.tls.caSecretRef", reason: "SecretNotFound" } });
  });

  it("reports its own unreadable token file as the operator's problem, not the profile's", async () => {
    const r = await resolve({ connection: "mimir" }, { connections: [{ ...mimir(), bearerTokenFile: "/nowhere" }] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problem).toBeUndefined();
  });
});
