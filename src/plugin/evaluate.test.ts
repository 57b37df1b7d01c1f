import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { InputError, UsageError } from "../cli/flags.ts";
import { evaluateCommand } from "./evaluate.ts";

// A loopback server plays Prometheus: every error ratio 0.0052 (1.04x of a 99.5 % budget), every
// event count two million.
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function prometheus(): Promise<string> {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const query = new URLSearchParams(body).get("query") ?? "";
      const value = query.startsWith("count(") ? "1" : query.includes("increase(") && !query.includes("/") ? "2000000" : "0.0052";
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1, value] }] } }));
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const PROFILE = `apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: game-service, namespace: shop}
spec:
  targetRef: {name: game-service}
  slos:
    - {name: availability, objective: 99.5, window: 30d, indicator: {istio: {kind: availability}}}
`;

function io() {
  let out = "";
  return {
    io: { out: (t: string) => void (out += t), now: () => new Date("2026-11-30T12:00:00Z"), read: async () => PROFILE },
    out: () => out,
  };
}

describe("evaluateCommand", () => {
  it("reads the SLOs from Prometheus and prints the policy's decision as JSON", async () => {
    const t = io();
    await evaluateCommand(["-f", "p.yaml", "--prometheus", await prometheus(), "-o", "json"], t.io);
    const doc = JSON.parse(t.out()) as { items: Array<{ profile: { phase: string; budget: { consumedPercent: number } }; actions: Array<{ action: string }> }> };
    expect(doc.items[0]?.profile.phase).toBe("Frozen");
    expect(doc.items[0]?.profile.budget.consumedPercent).toBeCloseTo(104, 5);
    expect(doc.items[0]?.actions[0]?.action).toBe("freeze");
  });

  it("prints what Tollgate does without data, then exits 1, when Prometheus does not answer", async () => {
    const t = io();
    // A port nothing listens on: the one a closed server had.
    const url = await prometheus();
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    await expect(evaluateCommand(["-f", "p.yaml", "--prometheus", url], t.io)).rejects.toThrow(InputError);
    expect(t.out()).toContain("Prometheus did not answer");
    expect(t.out()).toMatch(/game-service\s+Degraded/);
  });

  it("is a usage error (exit 2) without --prometheus", async () => {
    await expect(evaluateCommand(["-f", "p.yaml"], io().io)).rejects.toThrow(UsageError);
  });
});
