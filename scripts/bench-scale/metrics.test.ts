import { describe, expect, it } from "vitest";
import { RuntimeMetrics } from "../../src/runtime/metrics.ts";
import { SloMetrics } from "../../src/metrics/slo-metrics.ts";
import { apiRequests, bucketDeltas, delta, histogramQuantile, memoryFigures, total, waitedOnPrometheus, type Bucket } from "./metrics.ts";

// The operator's own registries, so a renamed metric fails here rather than in a bench run.
function operatorMetrics() {
  const runtime = new RuntimeMetrics();
  const slo = new SloMetrics(runtime.registry);
  const reconcile = runtime.controllerHooks("profile");
  return { runtime, slo, reconcile, scrape: () => runtime.registry.metrics() };
}

describe("histogramQuantile", () => {
  const buckets = (pairs: Array<[number, number]>): Bucket[] => pairs.map(([le, count]) => ({ le, count }));

  it("interpolates inside the bucket that holds the rank, as histogram_quantile does", () => {
    // 100 observations: 50 up to 10 ms, 40 more up to 20 ms, 10 more up to 50 ms.
    const b = buckets([[0.01, 50], [0.02, 90], [0.05, 100], [Infinity, 100]]);
    expect(histogramQuantile(b, 0.5)).toBeCloseTo(0.01);
    expect(histogramQuantile(b, 0.7)).toBeCloseTo(0.015);
    expect(histogramQuantile(b, 0.99)).toBeCloseTo(0.047);
  });

  it("gives the highest finite bound for a rank in the +Inf bucket, and NaN without observations", () => {
    expect(histogramQuantile(buckets([[0.01, 1], [Infinity, 10]]), 0.99)).toBe(0.01);
    expect(histogramQuantile(buckets([[0.01, 0], [Infinity, 0]]), 0.99)).toBeNaN();
    expect(histogramQuantile([], 0.5)).toBeNaN();
  });

  it("leaves the largest observations out when asked", () => {
    // 98 fast ones and 2 that waited a second: p99 of the 98 is in the first bucket.
    const b = buckets([[0.01, 98], [1, 100], [Infinity, 100]]);
    expect(histogramQuantile(b, 0.99)).toBeGreaterThan(0.5);
    expect(histogramQuantile(b, 0.99, 2)).toBeLessThanOrEqual(0.01);
    expect(histogramQuantile(b, 0.99, 100)).toBeNaN();
  });
});

describe("figures from the operator's /metrics", () => {
  it("reads reconcile durations between two scrapes, for one controller", async () => {
    const { reconcile, scrape } = operatorMetrics();
    reconcile.onReconcile?.(5, "success"); // before the window
    const before = await scrape();
    for (let i = 0; i < 99; i++) reconcile.onReconcile?.(0.003, "success");
    reconcile.onReconcile?.(0.2, "requeue");
    const after = await scrape();
    const b = bucketDeltas(before, after, "tollgate_reconcile_duration_seconds", { controller: "profile" });
    expect(b.at(-1)).toEqual({ le: Infinity, count: 100 });
    expect(histogramQuantile(b, 0.5)).toBeLessThanOrEqual(0.005);
    expect(histogramQuantile(b, 0.995)).toBeGreaterThan(0.1);
    expect(delta(before, after, "tollgate_reconcile_duration_seconds_count", { controller: "profile" })).toBe(100);
    expect(bucketDeltas(before, after, "tollgate_reconcile_duration_seconds", { controller: "other" }).every((x) => x.count === 0)).toBe(true);
  });

  it("counts Prometheus queries and batch time", async () => {
    const { slo, scrape } = operatorMetrics();
    const before = await scrape();
    slo.queries.inc({ mode: "RecordingRules" }, 3);
    slo.queryDuration.observe({ mode: "RecordingRules" }, 0.25);
    const after = await scrape();
    expect(delta(before, after, "tollgate_prometheus_queries_total", { mode: "RecordingRules" })).toBe(3);
    expect(delta(before, after, "tollgate_prometheus_query_duration_seconds_sum", { mode: "RecordingRules" })).toBeCloseTo(0.25);
    expect(total(after, "tollgate_prometheus_queries_total")).toBe(3);
  });

  it("counts each API client's requests, and its writes apart, from the rate limit's histogram", async () => {
    const { runtime, scrape } = operatorMetrics();
    const controllers = runtime.kubeApiRateLimitHook("controllers");
    const election = runtime.kubeApiRateLimitHook("leader-election");
    const before = await scrape();
    controllers(0, "GET");
    controllers(0, "WATCH");
    controllers(0.5, "PATCH");
    controllers(0, "POST");
    controllers(0, "DELETE");
    election(0, "GET");
    election(0, "PUT");
    const after = await scrape();
    expect(apiRequests(before, after, "controllers")).toBe(5);
    expect(apiRequests(before, after, "controllers", "writes")).toBe(3);
    expect(apiRequests(before, after, "leader-election", "writes")).toBe(1);
  });

  it("reads process.memoryUsage() as prom-client exports it", async () => {
    const { scrape } = operatorMetrics();
    const m = memoryFigures(await scrape());
    const real = process.memoryUsage();
    expect(m.heapTotalMiB).toBeGreaterThan(0);
    expect(m.heapUsedMiB).toBeGreaterThan(0);
    expect(m.heapUsedMiB).toBeLessThanOrEqual(m.heapTotalMiB);
    expect(m.externalMiB).toBeGreaterThan(0);
    // Resident memory comes from /proc on Linux, the others from memoryUsage() at the scrape.
    expect(m.rssMiB).toBeGreaterThan(m.heapUsedMiB);
    expect(m.heapTotalMiB).toBeCloseTo(real.heapTotal / 1024 / 1024, -1);
  });

  it("gives NaN for a memory figure the scrape lacks", () => {
    expect(memoryFigures("").rssMiB).toBeNaN();
  });
});

describe("waitedOnPrometheus", () => {
  it("counts the passes the operator saw wait on Prometheus for more than a millisecond", async () => {
    const { slo, scrape } = operatorMetrics();
    const before = await scrape();
    for (const w of [0.0002, 0.0009, 0.002, 0.3, 0.00005, 1.5]) slo.prometheusWait.observe(w);
    expect(waitedOnPrometheus(before, await scrape())).toBe(3);
    expect(waitedOnPrometheus(before, before)).toBe(0);
  });
});
