import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../api/profile.ts";
import { isPlanError, planProfile, type SloProfile } from "../slo/plan.ts";
import { ERROR_RATIO_RECORD, EVENTS_RECORD } from "../slo/rules.ts";
import { TILES_SINCE_RECORD } from "../slo/tiles.ts";
import { PrometheusError, type Sample } from "./client.ts";
import { RecordedReadCache } from "./recorded-cache.ts";
import type { InstantQuerier } from "./slo-reader.ts";

function profile(name: string, objective = 99.5): SloProfile {
  return {
    namespace: "games",
    name,
    spec: profileSpecSchema.parse({
      targetRef: { name },
      policy: { minEvents: 10, evaluationInterval: "2s" },
      slos: [{ name: "availability", objective, window: "1m", indicator: { istio: { kind: "availability" } } }],
    }),
  };
}

/** A Prometheus holding recorded series for `recorded` profiles (error ratio 0.001 over every window). */
class FakePrometheus implements InstantQuerier {
  queries: string[] = [];
  fail: PrometheusError | undefined;
  recorded: string[];
  /** Holds every answer until released, to have callers pile up on one batch. */
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => {};

  constructor(recorded: string[]) {
    this.recorded = recorded;
  }

  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }

  release(): void {
    this.open();
  }

  async query(expr: string): Promise<Sample[]> {
    this.queries.push(expr);
    await this.gate;
    if (this.fail) throw this.fail;
    const labels = (p: string, window: string) => ({ namespace: "games", profile: p, slo: "availability", window });
    if (expr === EVENTS_RECORD) return this.recorded.map((p) => ({ metric: labels(p, "1m"), value: 60_000 }));
    if (expr === ERROR_RATIO_RECORD) {
      return this.recorded.flatMap((p) => windows.map((w) => ({ metric: labels(p, w), value: 0.001 })));
    }
    return [];
  }
}

const plan = planProfile(profile("x"));
const windows = plan.slos.flatMap((s) => (isPlanError(s) ? [] : s.errorRatios.map((r) => r.window)));

function clock(start = 0) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

describe("RecordedReadCache", () => {
  it("reads N profiles reconciled at once with one readRecorded (two queries)", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `p${i}`);
    const prom = new FakePrometheus(names);
    const c = clock(1_000_000);
    let reads = 0;
    const cache = new RecordedReadCache({ now: c.now, onRefresh: () => reads++ });
    prom.hold();
    const all = Promise.all(names.map((n) => cache.get(prom, profile(n), 2_000)));
    prom.release();
    const readings = await all;
    expect(reads).toBe(1);
    expect(prom.queries).toEqual([ERROR_RATIO_RECORD, EVENTS_RECORD]);
    expect(readings.map((r) => r.name)).toEqual(names);
    for (const r of readings) {
      expect(r.problems).toEqual([]);
      expect(r.measurements.slos[0]?.consumedPercent).toBeCloseTo(20, 6);
    }
    // Once every profile is known, the next cycle reads all of them with one batch.
    c.advance(2_000);
    prom.queries = [];
    prom.hold();
    const again = Promise.all(names.map((n) => cache.get(prom, profile(n), 2_000)));
    prom.release();
    expect((await again).every((r) => r.measurements.slos[0]?.verdict === "Ok")).toBe(true);
    expect(prom.queries).toEqual([ERROR_RATIO_RECORD, EVENTS_RECORD]);
  });

  it("reads with its read options: with a tile, every batch also asks how far the tiles reach", async () => {
    const prom = new FakePrometheus(["long"]);
    const long: SloProfile = { ...profile("long"), spec: { ...profile("long").spec, slos: [{ ...profile("long").spec.slos[0]!, window: "30d" }] } };
    const cache = new RecordedReadCache({ now: clock().now, readOptions: { tile: "5m" } });
    const reading = await cache.get(prom, long, 2_000);
    expect(prom.queries.sort()).toEqual([ERROR_RATIO_RECORD, EVENTS_RECORD, TILES_SINCE_RECORD].sort());
    expect(reading.tileCoverageMs).toEqual({ availability: 0 });
  });

  it("reuses a batch younger than the smallest evaluation interval and refreshes after it", async () => {
    const prom = new FakePrometheus(["a", "b"]);
    const c = clock();
    const cache = new RecordedReadCache({ now: c.now, floorMs: 1_000 });
    await cache.get(prom, profile("a"), 5_000);
    expect(prom.queries.length).toBe(2);
    // b joins a fresh batch: it waits for the next one (NotRecorded, no verdict) and costs no query.
    const first = await cache.get(prom, profile("b"), 2_000);
    expect(prom.queries.length).toBe(2);
    expect(first.problems.map((p) => p.reason)).toEqual(["NotRecorded"]);
    expect(first.measurements.slos.every((s) => s.verdict === "NoData")).toBe(true);
    c.advance(1_500);
    await cache.get(prom, profile("a"), 5_000);
    await cache.get(prom, profile("b"), 2_000);
    expect(prom.queries.length).toBe(2); // younger than b's 2 s
    c.advance(600);
    const r = await cache.get(prom, profile("a"), 5_000);
    expect(prom.queries.length).toBe(4);
    expect(r.measurements.at.getTime()).toBe(2_100);
    const b = await cache.get(prom, profile("b"), 2_000);
    expect(b.problems).toEqual([]);
    expect(b.measurements.at.getTime()).toBe(2_100);
  });

  it("goes back to the slower pace once the profile with the short interval is no longer read", async () => {
    const prom = new FakePrometheus(["a", "b"]);
    const c = clock();
    const cache = new RecordedReadCache({ now: c.now, floorMs: 1_000 });
    await cache.get(prom, profile("a"), 30_000);
    await cache.get(prom, profile("b"), 2_000);
    c.advance(2_100);
    await cache.get(prom, profile("b"), 2_000);
    expect(prom.queries.length).toBe(4); // b's 2 s sets the pace
    cache.forget("games", "b");
    c.advance(2_100);
    // The batch read before b was forgotten still paces at 2 s: one more batch, which finds b gone.
    await cache.get(prom, profile("a"), 30_000);
    expect(prom.queries.length).toBe(6);
    c.advance(2_100);
    await cache.get(prom, profile("a"), 30_000);
    expect(prom.queries.length).toBe(6); // a's 30 s now
    c.advance(28_000);
    await cache.get(prom, profile("a"), 30_000);
    expect(prom.queries.length).toBe(8);
  });

  it("never refreshes more often than the floor", async () => {
    const prom = new FakePrometheus(["a"]);
    const c = clock();
    const cache = new RecordedReadCache({ now: c.now, floorMs: 1_000 });
    await cache.get(prom, profile("a"), 100);
    c.advance(500);
    await cache.get(prom, profile("a"), 100);
    expect(prom.queries.length).toBe(2);
    c.advance(500);
    await cache.get(prom, profile("a"), 100);
    expect(prom.queries.length).toBe(4);
  });

  it("gives every profile the batch's error when Prometheus fails, and no verdict", async () => {
    const prom = new FakePrometheus(["a", "b"]);
    prom.fail = new PrometheusError("unreachable", "connect ECONNREFUSED 127.0.0.1:9090");
    const cache = new RecordedReadCache({ now: clock().now });
    prom.hold();
    const both = Promise.all([cache.get(prom, profile("a"), 2_000), cache.get(prom, profile("b"), 2_000)]);
    prom.release();
    for (const r of await both) {
      expect(r.measurements.error).toMatch(/ECONNREFUSED/);
      expect(r.measurements.slos.map((s) => s.verdict)).toEqual(["NoData"]);
    }
  });

  it("turns a reader that throws into an error reading rather than a failed reconcile", async () => {
    const cache = new RecordedReadCache({
      now: clock().now,
      read: () => Promise.reject(new Error("boom")),
    });
    const r = await cache.get(new FakePrometheus([]), profile("a"), 2_000);
    expect(r.measurements.error).toBe("boom");
    expect(r.measurements.slos[0]?.verdict).toBe("NoData");
  });

  it("reports NotRecorded (not a spec problem) and NoData until a profile's series appear", async () => {
    const prom = new FakePrometheus([]);
    const c = clock();
    const cache = new RecordedReadCache({ now: c.now });
    const r = await cache.get(prom, profile("a"), 2_000);
    expect(r.problems.map((p) => p.reason)).toEqual(["NotRecorded"]);
    expect(r.measurements.slos[0]?.verdict).toBe("NoData");
    prom.recorded = ["a"];
    c.advance(2_000);
    expect((await cache.get(prom, profile("a"), 2_000)).measurements.slos[0]?.verdict).toBe("Ok");
  });

  it("re-reads a profile whose spec changed instead of handing it a reading of the old spec", async () => {
    const prom = new FakePrometheus(["a"]);
    const cache = new RecordedReadCache({ now: clock().now });
    expect((await cache.get(prom, profile("a", 99.5), 2_000)).measurements.slos[0]?.consumedPercent).toBeCloseTo(20, 6);
    expect((await cache.get(prom, profile("a", 99.9), 2_000)).measurements.slos[0]?.consumedPercent).toBeCloseTo(100, 6);
    expect(prom.queries.length).toBe(4);
  });

  it("keeps one batch per Prometheus client, and forgets deleted profiles", async () => {
    const one = new FakePrometheus(["a"]);
    const two = new FakePrometheus(["b"]);
    const cache = new RecordedReadCache({ now: clock().now });
    await cache.get(one, profile("a"), 2_000);
    await cache.get(two, profile("b"), 2_000);
    expect(cache.members(one)).toEqual(["games/a"]);
    expect(cache.members(two)).toEqual(["games/b"]);
    cache.forget("games", "a");
    expect(cache.members(one)).toEqual([]);
  });

  it("counts the queries it sends", async () => {
    let n = 0;
    const cache = new RecordedReadCache({ now: clock().now, onQuery: () => n++ });
    await cache.get(new FakePrometheus(["a"]), profile("a"), 2_000);
    expect(n).toBe(2);
  });
});
