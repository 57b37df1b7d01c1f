import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Mesh } from "./mesh.ts";
import { createSimulatorServer } from "./server.ts";

let t = 0;
let server: Server;
let base: string;

beforeAll(async () => {
  server = createSimulatorServer(new Mesh(() => t));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function call(method: string, path: string, body?: string): Promise<{ status: number; json: unknown; headers: Headers }> {
  const res = await fetch(base + path, body === undefined ? { method } : { method, body });
  const text = await res.text();
  return { status: res.status, json: text === "" ? undefined : (JSON.parse(text) as unknown), headers: res.headers };
}

describe("simulator HTTP API (in process, fake clock)", () => {
  it("answers /healthz", async () => {
    expect(await call("GET", "/healthz")).toMatchObject({ status: 200, json: { status: "ok" } });
  });

  it("creates with 201, updates with 200, and counts with the clock", async () => {
    const created = await call("PUT", "/workloads/default/game-service", JSON.stringify({ rate: 10, errorRatio: 0.1 }));
    expect(created.status).toBe(201);
    expect(created.headers.get("content-type")).toBe("application/json");
    expect(created.json).toMatchObject({
      namespace: "default",
      name: "game-service",
      params: { rate: 10, errorRatio: 0.1, errorCode: "500", service: "game-service", version: "unknown" },
      counters: { total: 0, errors: 0 },
    });
    t += 60_000;
    const updated = await call("PUT", "/workloads/default/game-service", JSON.stringify({ errorRatio: 0 }));
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ params: { rate: 10, errorRatio: 0 }, counters: { total: 600, errors: 60 } });
    t += 1_000;
    expect((await call("GET", "/workloads/default/game-service")).json).toMatchObject({
      counters: { total: 610, errors: 60, byCode: { "200": 550, "500": 60 }, buckets: { "50": 610, "+Inf": 610 }, sumMs: 30_500 },
    });
  });

  it("serves the counts as Prometheus text", async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text).toMatch(/^istio_requests_total\{[^}]*destination_workload="game-service"[^}]*response_code="200"[^}]*\} 550$/m);
    expect(text).toMatch(/^istio_requests_total\{[^}]*response_code="500"[^}]*\} 60$/m);
    expect(text).toMatch(/^istio_request_duration_milliseconds_count\{[^}]*response_code="200"[^}]*\} 550$/m);
  });

  it("lists workloads", async () => {
    await call("PUT", "/workloads/shop/checkout", "{}");
    const list = await call("GET", "/workloads");
    expect(list.status).toBe(200);
    expect((list.json as { workloads: Array<{ namespace: string; name: string }> }).workloads.map((w) => `${w.namespace}/${w.name}`)).toEqual([
      "default/game-service",
      "shop/checkout",
    ]);
  });

  it("resets a workload's counters", async () => {
    const reset = await call("POST", "/workloads/default/game-service/reset");
    expect(reset).toMatchObject({ status: 200, json: { params: { rate: 10 }, counters: { total: 0, errors: 0 } } });
    t += 1_000;
    expect((await call("GET", "/workloads/default/game-service")).json).toMatchObject({ counters: { total: 10 } });
  });

  it("deletes with 204, then answers 404", async () => {
    expect((await call("DELETE", "/workloads/shop/checkout")).status).toBe(204);
    expect(await call("DELETE", "/workloads/shop/checkout")).toMatchObject({ status: 404, json: { error: "workload shop/checkout not found" } });
    expect(await call("GET", "/workloads/shop/checkout")).toMatchObject({ status: 404, json: { error: "workload shop/checkout not found" } });
    expect(await call("POST", "/workloads/shop/checkout/reset")).toMatchObject({ status: 404 });
    expect(await fetch(`${base}/metrics`).then((r) => r.text())).not.toContain('destination_workload="checkout"');
  });

  it("answers 400 with the reason for invalid bodies and names", async () => {
    const path = "/workloads/default/game-service";
    expect(await call("PUT", path, JSON.stringify({ rate: -1 }))).toMatchObject({
      status: 400,
      json: { error: "rate must be >= 0 requests per second, got -1" },
    });
    expect(await call("PUT", path, JSON.stringify({ errorRatio: 2 }))).toMatchObject({
      status: 400,
      json: { error: "errorRatio must be within [0, 1], got 2" },
    });
    expect(await call("PUT", path, JSON.stringify({ latencies: [] }))).toMatchObject({ status: 400 });
    expect(await call("PUT", path, "{not json")).toMatchObject({ status: 400, json: { error: expect.stringMatching(/^body is not valid JSON/) } });
    expect(await call("PUT", "/workloads/Default/x", "{}")).toMatchObject({
      status: 400,
      json: { error: expect.stringMatching(/^namespace must be a DNS label/) },
    });
    expect(await call("PUT", "/workloads/default/%E0%A4%A", "{}")).toMatchObject({ status: 400 });
    // Nothing above changed the workload.
    expect((await call("GET", path)).json).toMatchObject({ params: { rate: 10, errorRatio: 0 } });
  });

  it("answers 404 for unknown paths and 405 with Allow for wrong methods", async () => {
    expect(await call("GET", "/nope")).toMatchObject({ status: 404, json: { error: "no route for /nope" } });
    expect(await call("GET", "/workloads/default")).toMatchObject({ status: 404 });
    expect(await call("GET", "/workloads/default/game-service/bogus")).toMatchObject({ status: 404 });
    const wrong = await call("POST", "/metrics");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
    const put = await call("GET", "/workloads/default/game-service/reset");
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("POST");
  });

  it("answers 413 for an oversized body", async () => {
    const huge = JSON.stringify({ service: "x".repeat(2 << 20) });
    expect((await call("PUT", "/workloads/default/big", huge)).status).toBe(413);
    expect((await call("GET", "/workloads/default/big")).status).toBe(404);
  });
});
