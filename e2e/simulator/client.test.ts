import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SimulatorError, startSimulator, type Simulator } from "./client.ts";

let dir: string;
let sim: Simulator | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "simulator-client-"));
});

afterEach(async () => {
  await sim?.stop();
  sim = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startSimulator (real process, real HTTP server on port 0)", () => {
  it("registers with Prometheus, serves traffic through the API, and unregisters on stop", async () => {
    sim = await startSimulator({ targetsDir: dir, job: "mesh-under-test" });
    const port = new URL(sim.url).port;
    expect(sim.url).toBe(`http://127.0.0.1:${port}`);
    expect(Number(port)).toBeGreaterThan(0);

    // Registered as a file_sd target; only the final file, no temporary left over.
    expect(readdirSync(dir)).toEqual([`simulator-${port}.json`]);
    expect(JSON.parse(readFileSync(join(dir, `simulator-${port}.json`), "utf8"))).toEqual([
      { targets: [`127.0.0.1:${port}`], labels: { job: "mesh-under-test" } },
    ]);

    const started = Date.now();
    const created = await sim.setWorkload("default", "game-service", {
      rate: 200,
      errorRatio: 0.25,
      errorCode: 503,
      latencies: [{ ms: 50, weight: 3 }, { ms: 800, weight: 1 }],
      version: "v1",
    });
    expect(created.params).toEqual({
      rate: 200,
      errorRatio: 0.25,
      errorCode: "503",
      latencies: [{ ms: 50, weight: 3 }, { ms: 800, weight: 1 }],
      service: "game-service",
      version: "v1",
    });
    expect(created.counters.total).toBe(0);

    await new Promise((r) => setTimeout(r, 600));
    const seen = await sim.getWorkload("default", "game-service");
    const elapsedS = (Date.now() - started) / 1000;
    expect(seen).toBeDefined();
    const c = seen?.counters;
    // 200/s for at least 0.6 s, give or take one request per class for flooring.
    expect(c?.total).toBeGreaterThanOrEqual(Math.floor(200 * 0.6) - 4);
    expect(c?.total).toBeLessThanOrEqual(Math.ceil(200 * elapsedS));
    expect(c?.errors).toBe(c?.byCode["503"]);
    expect(Math.abs((c?.errors ?? 0) - 0.25 * (c?.total ?? 0))).toBeLessThanOrEqual(2);
    expect(Math.abs((c?.byLatencyMs["800"] ?? 0) - 0.25 * (c?.total ?? 0))).toBeLessThanOrEqual(2);

    const text = await sim.metrics();
    expect(text).toMatch(/^istio_requests_total\{[^}]*destination_version="v1"[^}]*response_code="503"[^}]*\} \d+$/m);
    expect(text).toMatch(/^istio_request_duration_milliseconds_bucket\{[^}]*le="\+Inf"\} \d+$/m);

    expect((await sim.listWorkloads()).map((w) => w.name)).toEqual(["game-service"]);

    const reset = await sim.resetWorkload("default", "game-service");
    expect(reset.counters.total).toBeLessThan(c?.total ?? 0);
    expect(reset.counters.total).toBe(0);

    await expect(sim.setWorkload("default", "game-service", { errorRatio: 1.5 })).rejects.toThrow(
      new SimulatorError(400, "set workload default/game-service: HTTP 400: errorRatio must be within [0, 1], got 1.5"),
    );

    expect(await sim.deleteWorkload("default", "game-service")).toBe(true);
    expect(await sim.deleteWorkload("default", "game-service")).toBe(false);
    expect(await sim.getWorkload("default", "game-service")).toBeUndefined();
    expect(await sim.metrics()).not.toContain("game-service");

    const pid = sim.pid;
    await sim.stop();
    expect(alive(pid)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    await sim.stop(); // a second stop is harmless
    await expect(fetch(`${sim.url}/healthz`)).rejects.toThrow();
  });

  it("fails with the simulator's stderr when it cannot start", async () => {
    const missing = join(dir, "does-not-exist");
    await expect(startSimulator({ targetsDir: missing })).rejects.toThrow(
      /simulator exited before listening \(code 2, signal null\); stderr:\n.*simulator: cannot register in .*does-not-exist/s,
    );
    expect(existsSync(missing)).toBe(false);
  });
});
