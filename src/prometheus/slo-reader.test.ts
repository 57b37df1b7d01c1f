import { describe, expect, it } from "vitest";
import { profileSpecSchema, type ProfileSpecInput } from "../api/profile.ts";
import { isPlanError, planProfile, type SloProfile } from "../slo/plan.ts";
import { ERROR_RATIO_RECORD, EVENTS_RECORD, SERIES_COUNT_RECORD } from "../slo/rules.ts";
import { BAD_TILE_RECORD, EVENTS_TILE_RECORD, TILE_LABEL, TILES_SINCE_RECORD } from "../slo/tiles.ts";
import type { SloMeasurement } from "../slo/types.ts";
import { loopTurnsDuring } from "../runtime/loop-turns.ts";
import { PrometheusError, type Sample } from "./client.ts";
import { readDirect, readRecorded, readSlos, type InstantQuerier } from "./slo-reader.ts";

// A 2 s floor on burn windows keeps one window per role for the 2m SLO windows these fixtures spell out.
const FINE = { minBurnWindowMs: 2_000 };

const NOW = new Date("2025-01-01T00:00:00Z");

function profile(namespace: string, name: string, input: ProfileSpecInput): SloProfile {
  return { namespace, name, spec: profileSpecSchema.parse(input) };
}

const game = profile("games", "game", {
  targetRef: { name: "game-service" },
  policy: { minEvents: 100 },
  slos: [
    { name: "availability", objective: 99.5, window: "2m", indicator: { istio: { kind: "availability" } } },
    { name: "latency", objective: 95, window: "2m", indicator: { istio: { kind: "latency", threshold: "500ms" } } },
  ],
});

const auth = profile("auth", "auth", {
  targetRef: { name: "auth-service" },
  slos: [
    {
      name: "errors",
      objective: 99.9,
      window: "30d",
      indicator: { ratio: { errors: 'sum(rate(bad{job="auth"}[{{window}}]))', total: 'sum(rate(all{job="auth"}[{{window}}]))' } },
    },
  ],
});

type Answer = Sample[] | PrometheusError;
type Answerer = (slo: string, what: "ratio" | "events", window: string) => Answer;

const value = (v: number | undefined): Sample[] => [{ metric: {}, value: v }];

/** A Prometheus that answers each planned expression of the profiles through `answer`, and records what it was asked. */
function fakeDirect(profiles: SloProfile[], answer: Answerer) {
  const byExpr = new Map<string, () => Answer>();
  for (const p of profiles) {
    for (const slo of planProfile(p, FINE).slos) {
      if (isPlanError(slo)) continue;
      for (const r of slo.errorRatios) byExpr.set(r.expr, () => answer(slo.slo.name, "ratio", r.window));
      byExpr.set(slo.events, () => answer(slo.slo.name, "events", slo.window));
    }
  }
  const asked: Array<{ expr: string; time: Date | undefined }> = [];
  const client: InstantQuerier = {
    query(expr, time) {
      asked.push({ expr, time });
      const a = byExpr.get(expr)?.() ?? [];
      return a instanceof PrometheusError ? Promise.reject(a) : Promise.resolve(a);
    },
  };
  return { client, asked };
}

/** The auth SLO as a user might write it without sum(...): one series per job, code and pod. */
const unsummed = profile("auth", "unsummed", {
  targetRef: { name: "auth-service" },
  slos: [
    {
      name: "errors",
      objective: 99.9,
      window: "30d",
      indicator: { ratio: { errors: 'rate(http_requests_total{job="auth",code=~"5.."}[{{window}}])', total: 'rate(http_requests_total{job="auth"}[{{window}}])' } },
    },
  ],
});

/**
 * A Prometheus that counts `unsummed`'s expressions as `counts` says (undefined: no series) and
 * otherwise answers an error ratio of 0.0009 over 10 000 events.
 */
function byText(counts: { errors: number | undefined; total: number | undefined }) {
  const asked: string[] = [];
  const client: InstantQuerier = {
    query(expr) {
      asked.push(expr);
      if (expr.startsWith("count(")) {
        const n = expr.includes("5..") ? counts.errors : counts.total;
        return Promise.resolve(n === undefined ? [] : value(n));
      }
      return Promise.resolve(expr.startsWith("sum(") ? value(10_000) : value(0.0009));
    },
  };
  return { client, asked };
}

/** A steady service: the same error ratio in every window. */
const steady = (ratios: Record<string, number>, events = 10_000): Answerer => (slo, what) => (what === "events" ? value(events) : value(ratios[slo]));

function verdicts(slos: SloMeasurement[]) {
  return slos.map((s) => [s.name, s.verdict, s.consumedPercent]);
}

describe("readDirect", () => {
  it("measures every SLO with instant queries at the given time", async () => {
    const { client, asked } = fakeDirect([game, auth], steady({ availability: 0.0075, latency: 0.05, errors: 0.0009 }));
    const [g, a] = await readDirect(client, [game, auth], NOW, FINE);
    expect(g?.measurements.error).toBeUndefined();
    expect(g?.measurements.at).toBe(NOW);
    expect(verdicts(g?.measurements.slos ?? [])).toEqual([
      ["availability", "Ok", 150],
      ["latency", "Ok", 100],
    ]);
    expect(g?.measurements.slos[0]?.burnRates.map((b) => [b.window, b.value])).toEqual([
      ["2s", 1.5],
      ["2s", 1.5],
      ["2s", 1.5],
      ["2s", 1.5],
      ["2s", 1.5],
      ["4s", 1.5],
      ["12s", 1.5],
    ]);
    expect(verdicts(a?.measurements.slos ?? [])).toEqual([["errors", "Ok", 90]]);
    expect(g?.problems).toEqual([]);
    // Per 2m SLO: windows 2s, 4s, 12s, 2m and the events; per 30d SLO: 8 windows and the events, and
    // for its ratio indicator the series counts of errors and total.
    expect(asked).toHaveLength(2 * 5 + 9 + 2);
    expect(asked.every((q) => q.time === NOW)).toBe(true);
  });

  it("gives zero traffic and missing series no verdict", async () => {
    const { client } = fakeDirect([game], (slo, what) => {
      if (slo === "availability") return what === "events" ? value(0) : value(undefined);
      return [];
    });
    const [g] = await readDirect(client, [game], NOW, FINE);
    expect(g?.measurements.slos.map((s) => [s.verdict, s.events, s.consumedPercent, s.sli])).toEqual([
      ["NoData", 0, undefined, undefined],
      ["NoData", undefined, undefined, undefined],
    ]);
    expect(g?.problems).toEqual([]);
  });

  it("gives too few events InsufficientData", async () => {
    const { client } = fakeDirect([game], steady({ availability: 0.5, latency: 0.5 }, 42));
    const [g] = await readDirect(client, [game], NOW, FINE);
    expect(g?.measurements.slos.map((s) => [s.verdict, s.events, s.consumedPercent])).toEqual([
      ["InsufficientData", 42, undefined],
      ["InsufficientData", 42, undefined],
    ]);
  });

  it("names a histogram without a bucket at the threshold", async () => {
    const { client } = fakeDirect([game], (slo, what) => (what === "events" ? value(5000) : slo === "latency" ? [] : value(0)));
    const [g] = await readDirect(client, [game], NOW, FINE);
    expect(verdicts(g?.measurements.slos ?? [])).toEqual([
      ["availability", "Ok", 0],
      ["latency", "NoData", undefined],
    ]);
    expect(g?.problems).toEqual([{ slo: "latency", reason: "NoBucket", message: expect.stringContaining("bucket boundary") as unknown as string }]);
  });

  it("leaves an SLO whose query Prometheus refuses without a verdict, and says why", async () => {
    const { client } = fakeDirect([game], (slo, what, window) =>
      slo === "latency" && window === "4s" ? new PrometheusError("bad_query", "parse error: unexpected }", 400) : steady({ availability: 0.005, latency: 0.01 })(slo, what, window),
    );
    const [g] = await readDirect(client, [game], NOW, FINE);
    expect(g?.measurements.error).toBeUndefined();
    expect(verdicts(g?.measurements.slos ?? [])).toEqual([
      ["availability", "Ok", 100],
      ["latency", "NoData", undefined],
    ]);
    expect(g?.problems).toHaveLength(1);
    expect(g?.problems[0]).toMatchObject({ slo: "latency", reason: "BadQuery" });
    expect(g?.problems[0]?.message).toContain("parse error: unexpected }");
  });

  it("reports an unmeasurable indicator and measures the rest", async () => {
    const odd = profile("x", "odd", {
      targetRef: { name: "odd" },
      slos: [
        { name: "availability", objective: 99, window: "2m", indicator: { istio: { kind: "availability" } } },
        { name: "latency", objective: 99, indicator: { latency: { metric: "rpc_latency", selector: "{}", threshold: "1s", unit: "seconds" } } },
      ],
    });
    delete odd.spec.slos[1]!.indicator.latency!.unit; // as stored before the CRD required a unit
    const { client } = fakeDirect([odd], steady({ availability: 0.01 }));
    const [o] = await readDirect(client, [odd], NOW, FINE);
    expect(verdicts(o?.measurements.slos ?? [])).toEqual([
      ["availability", "Ok", 100],
      ["latency", "NoData", undefined],
    ]);
    expect(o?.problems).toEqual([{ slo: "latency", reason: "InvalidIndicator", message: expect.stringContaining("set latency.unit") as unknown as string }]);
  });

  it("fails every profile, with no numbers, when Prometheus is unreachable, and stops asking", async () => {
    const { client, asked } = fakeDirect([game, auth], () => new PrometheusError("unreachable", "Prometheus at http://p:9090 is unreachable: ECONNREFUSED"));
    const readings = await readDirect(client, [game, auth], NOW, { ...FINE, concurrency: 1 });
    for (const r of readings) {
      expect(r.measurements.error).toMatch(/unreachable/);
      for (const s of r.measurements.slos) {
        expect(s.verdict).toBe("NoData");
        expect(s.consumedPercent).toBeUndefined();
        expect(s.sli).toBeUndefined();
        expect(s.burnRates.every((b) => b.value === undefined)).toBe(true);
      }
    }
    expect(asked).toHaveLength(1);
  });

  it.each(["timeout", "server"] as const)("fails only the profile whose query hit a %s", async (kind) => {
    const { client } = fakeDirect([game, auth], (slo, what, window) =>
      slo === "errors" && window === "30d" ? new PrometheusError(kind, `Prometheus ${kind}`) : steady({ availability: 0.005, latency: 0.05, errors: 0.001 })(slo, what, window),
    );
    const [g, a] = await readDirect(client, [game, auth], NOW, FINE);
    expect(g?.measurements.error).toBeUndefined();
    expect(verdicts(g?.measurements.slos ?? [])).toEqual([
      ["availability", "Ok", 100],
      ["latency", "Ok", 100],
    ]);
    expect(a?.measurements.error).toBe(`Prometheus ${kind}`);
    expect(a?.measurements.slos.map((s) => [s.name, s.verdict, s.consumedPercent])).toEqual([["errors", "NoData", undefined]]);
  });

  it("refuses a ratio SLO whose errors query returns several series, naming the field and the count", async () => {
    const { client, asked } = byText({ errors: 3, total: 1 });
    const [u] = await readDirect(client, [unsummed], NOW, FINE);
    expect(u?.measurements.error).toBeUndefined();
    expect(u?.measurements.slos.map((s) => [s.name, s.verdict, s.consumedPercent])).toEqual([["errors", "NoData", undefined]]);
    expect(u?.problems).toEqual([
      {
        slo: "errors",
        reason: "MultipleSeries",
        field: "spec.slos[0].indicator.ratio.errors",
        message: "the query returned 3 series over the last 5m; wrap it in sum(...) so it returns one",
      },
    ]);
    // The user's own expressions are counted as written, over the SLO's shortest window.
    expect(asked.filter((q) => q.startsWith("count("))).toEqual([
      'count(rate(http_requests_total{job="auth",code=~"5.."}[5m]))',
      'count(rate(http_requests_total{job="auth"}[5m]))',
    ]);
  });

  it("names total when only total returns several series", async () => {
    const { client } = byText({ errors: 1, total: 2 });
    const [u] = await readDirect(client, [unsummed], NOW, FINE);
    expect(u?.problems.map((p) => [p.reason, p.field, p.message])).toEqual([
      ["MultipleSeries", "spec.slos[0].indicator.ratio.total", "the query returned 2 series over the last 5m; wrap it in sum(...) so it returns one"],
    ]);
    expect(u?.measurements.slos[0]?.verdict).toBe("NoData");
  });

  it("measures a ratio SLO whose errors and total return one series each, or none", async () => {
    for (const counts of [{ errors: 1, total: 1 }, { errors: undefined, total: 1 }]) {
      const { client } = byText(counts);
      const [u] = await readDirect(client, [unsummed], NOW, FINE);
      expect(u?.problems).toEqual([]);
      expect(verdicts(u?.measurements.slos ?? [])).toEqual([["errors", "Ok", 90]]);
    }
  });

  it("takes no reading from an answer of several series where its sum(...) allows one, and names the field and count", async () => {
    const { client } = fakeDirect([game], (slo, what, window) =>
      slo === "latency" && what === "ratio" && window === "4s"
        ? [{ metric: { pod: "a" }, value: 0.01 }, { metric: { pod: "b" }, value: 0.5 }]
        : steady({ availability: 0.005, latency: 0.01 })(slo, what, window),
    );
    const [g] = await readDirect(client, [game], NOW, FINE);
    expect(g?.measurements.error).toBe("Prometheus answered 2 series to the 4s error-ratio query of spec.slos[1].indicator.istio (SLO latency), which aggregates to one; no reading is taken from it");
    expect(g?.measurements.slos.every((s) => s.verdict === "NoData" && s.consumedPercent === undefined)).toBe(true);
  });

  it("lets programming errors through instead of hiding them as no data", async () => {
    const client: InstantQuerier = { query: () => Promise.reject(new TypeError("boom")) };
    await expect(readDirect(client, [game], NOW, FINE)).rejects.toThrow("boom");
  });
});

/** Recorded series as Prometheus returns them for the instant queries; `counts` are the series counts of ratio expressions. */
function recorded(
  series: Array<[name: string, ns: string, profile: string, slo: string, window: string, value: number | undefined]>,
  counts: Array<[ns: string, profile: string, slo: string, window: string, part: string, value: number]> = [],
) {
  const asked: string[] = [];
  const client: InstantQuerier = {
    query(expr) {
      asked.push(expr);
      if (expr === SERIES_COUNT_RECORD) {
        return Promise.resolve(counts.map(([namespace, p, slo, window, part, v]) => ({ metric: { __name__: expr, namespace, profile: p, slo, window, part }, value: v })));
      }
      return Promise.resolve(
        series
          .filter(([name]) => name === expr)
          // Each series of one key gets a replica label of its own, as two Prometheus servers would give it.
          .map(([name, namespace, p, slo, window, v], i) => ({ metric: { __name__: name, namespace, profile: p, slo, window, replica: String(i) }, value: v })),
      );
    },
  };
  return { client, asked };
}

describe("readRecorded", () => {
  const R = ERROR_RATIO_RECORD;
  const E = EVENTS_RECORD;

  it("reads every profile's every window with two queries, and a third for the series counts of ratio SLOs, and splits them by label", async () => {
    const windows2m = ["2s", "4s", "12s", "2m"];
    const windows30d = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"];
    const { client, asked } = recorded([
      ...windows2m.map((w): [string, string, string, string, string, number] => [R, "games", "game", "availability", w, 0.0045]),
      [E, "games", "game", "availability", "2m", 24_000],
      ...windows2m.map((w): [string, string, string, string, string, number | undefined] => [R, "games", "game", "latency", w, w === "2s" ? undefined : 0.035]),
      [E, "games", "game", "latency", "2m", 24_000],
      ...windows30d.map((w): [string, string, string, string, string, number] => [R, "auth", "auth", "errors", w, 0.0015]),
      [E, "auth", "auth", "errors", "30d", 1e6],
      // Another profile's series, and one without Tollgate's labels, are ignored.
      [R, "other", "other", "availability", "2m", 0.5],
      [R, "games", "game", "availability", "9s", 0.9],
    ]);
    const [g, a] = await readRecorded(client, [game, auth], NOW, FINE);
    expect(asked.sort()).toEqual([E, R, SERIES_COUNT_RECORD].sort());
    expect(verdicts(g?.measurements.slos ?? [])).toEqual([
      ["availability", "Ok", 90],
      ["latency", "Ok", 70],
    ]);
    expect(g?.measurements.slos[1]?.burnRates.map((b) => b.value)).toEqual([undefined, undefined, undefined, undefined, undefined, 0.7, 0.7]);
    expect(g?.measurements.slos[0]?.events).toBe(24_000);
    expect(verdicts(a?.measurements.slos ?? [])).toEqual([["errors", "Ok", 150]]);
    expect(a?.measurements.slos[0]?.burnRates.map((b) => b.value)).toEqual([1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5]);
    expect(g?.problems).toEqual([]);
  });

  it("says when an SLO has no recorded series yet", async () => {
    const { client } = recorded([[E, "games", "game", "availability", "2m", 0], [R, "games", "game", "availability", "2m", undefined]]);
    const [g] = await readRecorded(client, [game], NOW, FINE);
    expect(g?.measurements.slos.map((s) => s.verdict)).toEqual(["NoData", "NoData"]);
    expect(g?.problems.map((p) => [p.slo, p.reason])).toEqual([["latency", "NotRecorded"]]);
  });

  it("refuses a ratio SLO whose recorded series count says its errors query returns several series", async () => {
    const windows30d = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"];
    const { client, asked } = recorded([
      ...windows30d.map((w): [string, string, string, string, string, number] => [R, "auth", "unsummed", "errors", w, 0.0015]),
      [E, "auth", "unsummed", "errors", "30d", 1e6],
    ], [
      ["auth", "unsummed", "errors", "5m", "errors", 3],
      ["auth", "unsummed", "errors", "5m", "total", 1],
    ]);
    const [u] = await readRecorded(client, [unsummed], NOW, FINE);
    expect(asked.sort()).toEqual([E, R, SERIES_COUNT_RECORD].sort());
    expect(u?.measurements.slos.map((s) => [s.name, s.verdict, s.consumedPercent])).toEqual([["errors", "NoData", undefined]]);
    expect(u?.problems).toEqual([
      {
        slo: "errors",
        reason: "MultipleSeries",
        field: "spec.slos[0].indicator.ratio.errors",
        message: "the query returned 3 series over the last 5m; wrap it in sum(...) so it returns one",
      },
    ]);
  });

  it("measures a ratio SLO whose recorded counts are one, or absent (no series)", async () => {
    const windows30d = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"];
    const { client } = recorded([
      ...windows30d.map((w): [string, string, string, string, string, number] => [R, "auth", "unsummed", "errors", w, 0.0015]),
      [E, "auth", "unsummed", "errors", "30d", 1e6],
    ], [["auth", "unsummed", "errors", "5m", "total", 1]]);
    const [u] = await readRecorded(client, [unsummed], NOW, FINE);
    expect(u?.problems).toEqual([]);
    expect(verdicts(u?.measurements.slos ?? [])).toEqual([["errors", "Ok", 150]]);
  });

  it("takes no reading from two recorded series for one profile, SLO and window, and says how many", async () => {
    const { client } = recorded([
      [R, "games", "game", "availability", "2m", 0.0045],
      [R, "games", "game", "availability", "2m", 0.5],
      [E, "games", "game", "availability", "2m", 24_000],
    ]);
    const [g] = await readRecorded(client, [game], NOW, FINE);
    expect(g?.measurements.error).toBe(
      `Prometheus answered 2 ${ERROR_RATIO_RECORD} series for games/game SLO availability window 2m, where its recording rule writes one (several Prometheus servers answering without deduplication, or two rule sets recording this profile); no reading is taken from them`,
    );
    expect(g?.measurements.slos.every((s) => s.verdict === "NoData")).toBe(true);
  });

  it("fails every profile when Prometheus cannot answer", async () => {
    const client: InstantQuerier = { query: () => Promise.reject(new PrometheusError("timeout", "Prometheus did not answer within 10000 ms")) };
    const readings = await readRecorded(client, [game, auth], NOW, FINE);
    expect(readings.map((r) => r.measurements.error)).toEqual(["Prometheus did not answer within 10000 ms", "Prometheus did not answer within 10000 ms"]);
    expect(readings.flatMap((r) => r.measurements.slos.map((s) => s.verdict))).toEqual(["NoData", "NoData", "NoData"]);
  });
});

describe("readRecorded over thousands of profiles", () => {
  it("lets the event loop turn between slices of profiles, and keeps their order", async () => {
    const many: SloProfile[] = Array.from({ length: 1_000 }, (_, i) => ({ namespace: "games", name: `game-${i}`, spec: game.spec }));
    const { client } = recorded(many.map((p): [string, string, string, string, string, number] => [EVENTS_RECORD, "games", p.name, "availability", "2m", 24_000]));
    const { value: readings, turns } = await loopTurnsDuring(() => readRecorded(client, many, NOW, FINE));
    // A turn of the loop between every slice of 100 after the queries answered: other passes run meanwhile.
    expect(turns).toBeGreaterThanOrEqual(9);
    expect(readings.map((r) => r.name)).toEqual(many.map((p) => p.name));
    expect(readings.every((r) => r.measurements.slos[0]?.events === 24_000)).toBe(true);
  });
});

describe("readSlos", () => {
  it("dispatches on the mode", async () => {
    const { client, asked } = recorded([]);
    await readSlos("RecordingRules", client, [game], NOW, FINE);
    expect(asked).toHaveLength(2);
    await readSlos("Direct", client, [game], NOW, FINE);
    expect(asked).toHaveLength(2 + 10);
  });
});

describe("tiles", () => {
  const TILE = { ...FINE, tile: "5m" };
  const digest = (() => {
    const plan = planProfile(auth, { ...FINE, tiles: { tile: "5m", coverageMs: {} } }).slos[0];
    if (!plan || isPlanError(plan) || !plan.tiles) throw new Error("auth's 30d SLO has tiles");
    return plan.tiles.digest;
  })();
  const hours = (h: number) => h * 3_600_000;
  const since = (namespace: string, name: string, slo: string, d: string, agoMs: number): Sample => ({
    metric: { __name__: TILES_SINCE_RECORD, namespace, profile: name, slo, [TILE_LABEL]: d },
    value: (NOW.getTime() - agoMs) / 1000,
  });

  it("readRecorded asks once more, for how far each SLO's tiles of its current definition reach", async () => {
    const asked: string[] = [];
    const client: InstantQuerier = {
      query(expr) {
        asked.push(expr);
        if (expr !== TILES_SINCE_RECORD) return Promise.resolve([]);
        // A run of an older definition of the same SLO is not this one's.
        return Promise.resolve([since("auth", "auth", "errors", digest, hours(30)), since("auth", "auth", "errors", "0123456789ab", hours(900))]);
      },
    };
    const [g, a] = await readRecorded(client, [game, auth], NOW, TILE);
    expect(asked.sort()).toEqual([EVENTS_RECORD, ERROR_RATIO_RECORD, SERIES_COUNT_RECORD, TILES_SINCE_RECORD].sort());
    expect(a?.tileCoverageMs).toEqual({ errors: hours(30) });
    // The 2m SLOs have no window long enough for tiles.
    expect(g?.tileCoverageMs).toEqual({});
  });

  it("readRecorded says nothing of tiles when they are off, and asks nothing more", async () => {
    const { client, asked } = recorded([]);
    const [a] = await readRecorded(client, [auth], NOW, FINE);
    expect(a?.tileCoverageMs).toBeUndefined();
    expect(asked).not.toContain(TILES_SINCE_RECORD);
  });

  /** A Prometheus holding auth's tiles since `agoMs` ago (none when undefined), answering every other query with one series. */
  function tiledPrometheus(agoMs: number | undefined, fail?: PrometheusError) {
    const asked: string[] = [];
    const client: InstantQuerier = {
      query(expr) {
        asked.push(expr);
        if (expr.startsWith(TILES_SINCE_RECORD)) {
          if (fail) return Promise.reject(fail);
          return Promise.resolve(agoMs === undefined ? [] : [since("auth", "auth", "errors", digest, agoMs)]);
        }
        const events = expr.includes("* 2592000") || (expr.startsWith(`sum(sum_over_time(${EVENTS_TILE_RECORD}`) && !expr.includes("/"));
        return Promise.resolve(value(expr.startsWith("count(") ? 1 : events ? 1e6 : 0.0015));
      },
    };
    return { client, asked };
  }
  const fromTiles = (asked: readonly string[]) => asked.filter((e) => e.includes(BAD_TILE_RECORD) || e.startsWith(`sum(sum_over_time(${EVENTS_TILE_RECORD}`));

  it("readDirect sums the windows the tiles cover from them, reads the rest raw, and says which", async () => {
    const { client, asked } = tiledPrometheus(hours(30));
    const [a] = await readDirect(client, [auth], NOW, TILE);
    expect(asked[0]).toBe(`${TILES_SINCE_RECORD}{namespace="auth",profile="auth"}`);
    // 2h, 6h and 1d from tiles; 3d and 30d (ratio and events) raw.
    expect(fromTiles(asked)).toHaveLength(3);
    expect(a?.tileCoverageMs).toEqual({ errors: hours(30) });
    expect(a?.rawLongWindows).toEqual([{ slo: "errors", windows: ["3d", "30d"] }]);
    expect(verdicts(a?.measurements.slos ?? [])).toEqual([["errors", "Ok", 150]]);
  });

  it("readDirect reads everything raw, and says so, when no tiles are recorded or their query fails", async () => {
    for (const p of [tiledPrometheus(undefined), tiledPrometheus(hours(1000), new PrometheusError("bad_query", "unknown function"))]) {
      const [a] = await readDirect(p.client, [auth], NOW, TILE);
      expect(fromTiles(p.asked)).toEqual([]);
      expect(a?.rawLongWindows).toEqual([{ slo: "errors", windows: ["2h", "6h", "1d", "3d", "30d"] }]);
      expect(a?.measurements.error).toBeUndefined();
    }
  });

  it("readDirect fails the batch when Prometheus cannot be reached for the tiles", async () => {
    const { client, asked } = tiledPrometheus(hours(1000), new PrometheusError("unreachable", "Prometheus at http://127.0.0.1:1 is unreachable"));
    const [a] = await readDirect(client, [auth], NOW, TILE);
    expect(a?.measurements.error).toBe("Prometheus at http://127.0.0.1:1 is unreachable");
    expect(asked).toHaveLength(1);
  });

  it("readDirect with every window covered reads the long ones from tiles only", async () => {
    const { client, asked } = tiledPrometheus(hours(24 * 31));
    const [a] = await readDirect(client, [auth], NOW, TILE);
    expect(a?.rawLongWindows).toBeUndefined();
    expect(asked.filter((e) => /\[(2h|6h|1d|3d|30d)\]/.test(e))).toEqual([]);
    expect(fromTiles(asked)).toHaveLength(6);
    expect(verdicts(a?.measurements.slos ?? [])).toEqual([["errors", "Ok", 150]]);
  });
});
