import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonl } from "./jsonl.ts";
import { startPrometheusProxy, type PrometheusProxy } from "./prometheus-proxy.ts";
import { startSoakReceiver } from "./receiver.ts";

describe("the Prometheus proxy", () => {
  let upstream: Server;
  let proxy: PrometheusProxy;
  beforeAll(async () => {
    upstream = createServer((req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ path: req.url })));
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    proxy = await startPrometheusProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await proxy.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  it("forwards, holds answers back, resets connections, and hangs, as told", async () => {
    const get = (ms = 2_000) => fetch(`${proxy.url}/api/v1/query?query=up`, { signal: AbortSignal.timeout(ms) });
    expect(await (await get()).json()).toEqual({ path: "/api/v1/query?query=up" });

    proxy.mode = { kind: "slow", delayMs: 300 };
    const started = Date.now();
    expect((await get()).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    proxy.mode = { kind: "drop" };
    await expect(get()).rejects.toThrow();

    proxy.mode = { kind: "hang" };
    await expect(get(300)).rejects.toThrow(/timeout|aborted/i);

    proxy.mode = { kind: "pass" };
    expect((await get()).status).toBe(200);
  });

  it("answers 502 while Prometheus is down", async () => {
    const dead = await startPrometheusProxy("http://127.0.0.1:1");
    try {
      expect((await fetch(`${dead.url}/api/v1/query`)).status).toBe(502);
    } finally {
      await dead.close();
    }
  });
});

describe("the soak's receiver", () => {
  it("logs each POST with its Idempotency-Key and the status it answered, 503 while failing", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "soak-receiver-")), "receiver.jsonl");
    const receiver = await startSoakReceiver(jsonl(file));
    try {
      const post = (key: string) => fetch(`${receiver.url}/hooks/a`, { method: "POST", headers: { "Idempotency-Key": key }, body: JSON.stringify({ id: key }) });
      receiver.failing = true;
      expect((await post("k1")).status).toBe(503);
      receiver.failing = false;
      expect((await post("k1")).status).toBe(202);
      const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => [l.path, l.key, l.status, l.body])).toEqual([
        ["/hooks/a", "k1", 503, { id: "k1" }],
        ["/hooks/a", "k1", 202, { id: "k1" }],
      ]);
    } finally {
      await receiver.close();
    }
  });
});
