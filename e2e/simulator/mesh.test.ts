import { describe, expect, it } from "vitest";
import { Mesh } from "./mesh.ts";
import { ValidationError } from "./workload.ts";

function fakeClock(start = 1_000): { now: () => number; tick: (ms: number) => void; set: (ms: number) => void } {
  let t = start;
  return { now: () => t, tick: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

function counters(mesh: Mesh, ns = "default", name = "game-service") {
  const v = mesh.get(ns, name);
  if (v === undefined) throw new Error(`${ns}/${name} missing`);
  return v.counters;
}

describe("Mesh accounting", () => {
  it("counts exactly rate × time, split by error ratio and latency weights", () => {
    const clock = fakeClock();
    const mesh = new Mesh(clock.now);
    mesh.put("default", "game-service", {
      rate: 10,
      errorRatio: 0.1,
      latencies: [{ ms: 50, weight: 95 }, { ms: 800, weight: 5 }],
    });
    clock.tick(100_000);
    expect(counters(mesh)).toEqual({
      total: 1000,
      errors: 100,
      byCode: { "200": 900, "500": 100 },
      byLatencyMs: { "50": 950, "800": 50 },
      buckets: {
        "1": 0, "2": 0, "5": 0, "10": 0, "25": 0,
        "50": 950, "100": 950, "250": 950, "500": 950,
        "1000": 1000, "2500": 1000, "5000": 1000, "10000": 1000, "30000": 1000, "60000": 1000,
        "300000": 1000, "600000": 1000, "1800000": 1000, "3600000": 1000, "+Inf": 1000,
      },
      sumMs: 950 * 50 + 50 * 800,
    });
  });

  it("emits the floor of each class's owed requests at every read, however often it is read", () => {
    const clock = fakeClock(0);
    const mesh = new Mesh(clock.now);
    // 3/s with 7 % errors: 0.21 errors/s and 2.79 successes/s, neither exact in binary.
    mesh.put("default", "game-service", { rate: 3, errorRatio: 0.07 });
    const often = new Mesh(clock.now);
    often.put("default", "game-service", { rate: 3, errorRatio: 0.07 });
    let elapsedMs = 0;
    for (let i = 0; i < 5000; i++) {
      const step = 1 + ((i * 7919) % 997); // irregular scrape gaps
      clock.tick(step);
      elapsedMs += step;
      const c = counters(often);
      // Integer arithmetic: successes = floor(3 × 0.93 × t), errors = floor(3 × 0.07 × t), t in ms.
      expect(c.byCode["200"]).toBe(Math.floor((3 * 93 * elapsedMs) / 100_000));
      expect(c.errors).toBe(Math.floor((3 * 7 * elapsedMs) / 100_000));
    }
    expect(counters(mesh)).toEqual(counters(often));
  });

  it("converges to the configured error ratio", () => {
    const clock = fakeClock();
    const mesh = new Mesh(clock.now);
    mesh.put("default", "game-service", { rate: 3, errorRatio: 0.07 });
    let previousGap = Infinity;
    for (const seconds of [10, 100, 1_000, 10_000, 100_000]) {
      clock.set(1_000 + seconds * 1000);
      const c = counters(mesh);
      const gap = Math.abs(c.errors / c.total - 0.07);
      // Off by less than one request of each class.
      expect(gap).toBeLessThanOrEqual(2 / c.total);
      expect(gap).toBeLessThanOrEqual(previousGap);
      previousGap = gap;
    }
    expect(counters(mesh)).toMatchObject({ total: 300_000, errors: 21_000 });
  });

  it("carries fractions of requests across reads instead of dropping them", () => {
    const clock = fakeClock();
    const mesh = new Mesh(clock.now);
    mesh.put("default", "game-service", { rate: 0.5 });
    clock.tick(1_000);
    expect(counters(mesh).total).toBe(0);
    clock.tick(1_000);
    expect(counters(mesh).total).toBe(1);
    clock.tick(1_999);
    expect(counters(mesh).total).toBe(1);
    clock.tick(1);
    expect(counters(mesh).total).toBe(2);
  });

  it("accepts a fractional clock", () => {
    const clock = fakeClock(0.25);
    const mesh = new Mesh(clock.now);
    mesh.put("default", "game-service", { rate: 1000 });
    for (let i = 0; i < 1000; i++) clock.tick(0.1);
    // 1000 × 0.1 ms in doubles is not exactly 100 ms, so allow the one request at the edge.
    expect(Math.abs(counters(mesh).total - 100)).toBeLessThanOrEqual(1);
  });

  it("never counts backwards when the clock does", () => {
    const clock = fakeClock(10_000);
    const mesh = new Mesh(clock.now);
    mesh.put("default", "game-service", { rate: 1 });
    clock.tick(5_000);
    expect(counters(mesh).total).toBe(5);
    clock.tick(-3_000);
    expect(counters(mesh).total).toBe(5);
    clock.tick(4_000);
    expect(counters(mesh).total).toBe(6);
  });
});

describe("Mesh parameter changes", () => {
  it("applies new parameters from now on, not to requests already served", () => {
    const clock = fakeClock();
    const mesh = new Mesh(clock.now);
    mesh.put("default", "game-service", { rate: 10 });
    clock.tick(10_000);
    const { view, created } = mesh.put("default", "game-service", { errorRatio: 0.5, latencies: [{ ms: 800, weight: 1 }] });
    expect(created).toBe(false);
    expect(view.counters).toMatchObject({ total: 100, errors: 0, byLatencyMs: { "50": 100, "800": 0 } });
    clock.tick(10_000);
    expect(counters(mesh)).toMatchObject({
      total: 200,
      errors: 50,
      byCode: { "200": 150, "500": 50 },
      byLatencyMs: { "50": 100, "800": 100 },
    });
  });

  it("keeps the fields an update does not set", () => {
    const mesh = new Mesh(fakeClock().now);
    mesh.put("default", "game-service", { rate: 7, errorRatio: 0.2, errorCode: 503, version: "v2" });
    const { view } = mesh.put("default", "game-service", { rate: 8 });
    expect(view.params).toEqual({
      rate: 8,
      errorRatio: 0.2,
      errorCode: "503",
      latencies: [{ ms: 50, weight: 1 }],
      service: "game-service",
      version: "v2",
    });
  });

  it("counts errors under the error code in force when they happened", () => {
    const clock = fakeClock();
    const mesh = new Mesh(clock.now);
    mesh.put("default", "game-service", { rate: 10, errorRatio: 0.5 });
    clock.tick(2_000);
    mesh.put("default", "game-service", { errorCode: "503" });
    clock.tick(2_000);
    expect(counters(mesh)).toMatchObject({ total: 40, errors: 20, byCode: { "200": 20, "500": 10, "503": 10 } });
  });

  it("starts a new series at zero when the version changes, leaving the old one's count in place", () => {
    const clock = fakeClock();
    const mesh = new Mesh(clock.now);
    mesh.put("default", "game-service", { rate: 1, version: "v1" });
    clock.tick(5_000);
    mesh.put("default", "game-service", { version: "v2" });
    clock.tick(3_000);
    const totals = mesh.series().map((s) => ({
      version: s.labels.find(([k]) => k === "destination_version")?.[1],
      total: s.observations.reduce((n, o) => n + o.count, 0),
    }));
    expect(totals).toEqual([
      { version: "v1", total: 5 },
      { version: "v2", total: 3 },
    ]);
  });

  it("rejects invalid input without changing the workload", () => {
    const clock = fakeClock();
    const mesh = new Mesh(clock.now);
    mesh.put("default", "game-service", { rate: 2 });
    expect(() => mesh.put("default", "game-service", { rate: -2 })).toThrow(ValidationError);
    expect(() => mesh.put("Default", "game-service", { rate: 2 })).toThrow(ValidationError);
    expect(mesh.get("default", "game-service")?.params.rate).toBe(2);
    expect(mesh.list()).toHaveLength(1);
  });
});

describe("Mesh series", () => {
  it("exposes a series for every response class with a share, even at rate zero, and none without", () => {
    const mesh = new Mesh(fakeClock().now);
    mesh.put("default", "idle", { rate: 0 });
    mesh.put("default", "flaky", { rate: 0, errorRatio: 1 });
    const codes = mesh.series().map((s) => [
      s.labels.find(([k]) => k === "destination_workload")?.[1],
      s.labels.find(([k]) => k === "response_code")?.[1],
    ]);
    expect(codes).toEqual([
      ["flaky", "500"],
      ["idle", "200"],
    ]);
  });

  it("labels series with the workload's service and namespace", () => {
    const mesh = new Mesh(fakeClock().now);
    mesh.put("shop", "checkout-v2", { service: "checkout", version: "v2" });
    const labels = Object.fromEntries(mesh.series()[0]?.labels ?? []);
    expect(labels).toMatchObject({
      destination_workload: "checkout-v2",
      destination_workload_namespace: "shop",
      destination_service: "checkout.shop.svc.cluster.local",
      destination_service_name: "checkout",
      destination_service_namespace: "shop",
      destination_canonical_service: "checkout",
      destination_version: "v2",
      response_code: "200",
    });
  });

  it("resets counters to zero, keeps the parameters, and counts on from there", () => {
    const clock = fakeClock();
    const mesh = new Mesh(clock.now);
    mesh.put("default", "game-service", { rate: 10, errorRatio: 0.5, version: "v1" });
    clock.tick(3_000);
    mesh.put("default", "game-service", { version: "v2" });
    clock.tick(3_000);
    const reset = mesh.reset("default", "game-service");
    expect(reset?.counters).toMatchObject({ total: 0, errors: 0, byCode: { "200": 0, "500": 0 } });
    expect(reset?.params).toMatchObject({ rate: 10, errorRatio: 0.5, version: "v2" });
    // Like a restarted pod, the reset workload no longer reports the old version's series.
    expect(mesh.series()).toHaveLength(2);
    clock.tick(1_000);
    expect(counters(mesh)).toMatchObject({ total: 10, errors: 5 });
    expect(mesh.reset("default", "absent")).toBeUndefined();
  });

  it("drops a deleted workload's series", () => {
    const clock = fakeClock();
    const mesh = new Mesh(clock.now);
    mesh.put("default", "a", { rate: 1 });
    mesh.put("default", "b", { rate: 1 });
    expect(mesh.delete("default", "a")).toBe(true);
    expect(mesh.delete("default", "a")).toBe(false);
    expect(mesh.get("default", "a")).toBeUndefined();
    expect(mesh.series().map((s) => Object.fromEntries(s.labels).destination_workload)).toEqual(["b"]);
    // Re-created, it starts from zero.
    mesh.put("default", "a", { rate: 1 });
    expect(counters(mesh, "default", "a").total).toBe(0);
  });

  it("lists workloads in namespace/name order, advanced to now", () => {
    const clock = fakeClock();
    const mesh = new Mesh(clock.now);
    mesh.put("zeta", "a", { rate: 1 });
    mesh.put("alpha", "b", { rate: 2 });
    mesh.put("alpha", "a", { rate: 3 });
    clock.tick(2_000);
    expect(mesh.list().map((w) => [w.namespace, w.name, w.counters.total])).toEqual([
      ["alpha", "a", 6],
      ["alpha", "b", 4],
      ["zeta", "a", 2],
    ]);
  });
});
