import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import { loadClusterEnv } from "./support/env.ts";
import { promScalar } from "./support/prometheus.ts";
import { sleep, waitFor } from "./support/wait.ts";

describe("Prometheus scraping the traffic simulator", () => {
  let sim: Simulator;
  const ns = `prom-e2e-${process.pid}`;
  beforeAll(async () => {
    sim = await startSimulator({ targetsDir: loadClusterEnv().PROMETHEUS_TARGETS_DIR });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it("reports the error ratio set through the simulator's API", async () => {
    await sim.setWorkload(ns, "game-service", { rate: 1000, errorRatio: 0.05 });
    const sel = `destination_workload="game-service",destination_workload_namespace="${ns}",reporter="destination"`;
    await waitFor("the simulator's series in Prometheus", () => promScalar(`sum(istio_requests_total{${sel}})`), { timeoutMs: 30_000 });
    // Enough scrapes for a 20 s rate window.
    await sleep(22_000);
    const ratio = await promScalar(
      `sum(rate(istio_requests_total{${sel},response_code=~"5.."}[20s])) / sum(rate(istio_requests_total{${sel}}[20s]))`,
    );
    expect(ratio).toBeDefined();
    expect(Math.abs(ratio! - 0.05) / 0.05).toBeLessThan(0.01);
  });

  it("reports the latency distribution through Istio's histogram", async () => {
    await sim.setWorkload(ns, "latency-service", { rate: 500, latencies: [{ ms: 50, weight: 95 }, { ms: 800, weight: 5 }] });
    const sel = `destination_workload="latency-service",destination_workload_namespace="${ns}"`;
    await waitFor("the latency series", () => promScalar(`sum(istio_request_duration_milliseconds_count{${sel}})`), { timeoutMs: 30_000 });
    await sleep(12_000);
    const slow = await promScalar(
      `1 - sum(rate(istio_request_duration_milliseconds_bucket{${sel},le="500"}[10s])) / sum(rate(istio_request_duration_milliseconds_count{${sel}}[10s]))`,
    );
    expect(slow).toBeDefined();
    expect(Math.abs(slow! - 0.05) / 0.05).toBeLessThan(0.01);
  });
});
