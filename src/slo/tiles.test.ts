import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../api/profile.ts";
import { isPlanError, planSlo, type SloPlan, type SloProfile } from "./plan.ts";
import { BAD_TILE_RECORD, coverageFromSince, EVENTS_TILE_RECORD, TILES_SINCE_RECORD, tiledErrorRatio, tileSelector } from "./tiles.ts";

const game: SloProfile = {
  namespace: "games",
  name: "game",
  spec: profileSpecSchema.parse({
    targetRef: { name: "game-service" },
    slos: [{ name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } }],
  }),
};
const slo = game.spec.slos[0]!;

function plan(opts: Parameters<typeof planSlo>[2]): SloPlan {
  const p = planSlo(game, slo, opts);
  if (isPlanError(p)) throw new Error(p.error);
  return p;
}

const tiledWindows = (p: SloPlan) => p.errorRatios.filter((r) => r.expr.includes(BAD_TILE_RECORD)).map((r) => r.window);

describe("tiles", () => {
  it("sum the windows longer than twelve tiles from the SLO's tiles, and leave the short burn windows raw", () => {
    const p = plan({ tiles: true });
    const raw = p.errorRatios.filter((r) => r.expr.includes("istio_requests_total")).map((r) => r.window);
    expect(tiledWindows(p)).toEqual(["2h", "6h", "1d", "3d", "30d"]);
    expect(raw).toEqual(["5m", "30m", "1h"]);
    const digest = p.tiles?.digest ?? "";
    expect(digest).toMatch(/^[0-9a-f]{12}$/);
    expect(p.events).toBe(`sum(sum_over_time(${EVENTS_TILE_RECORD}{namespace="games",profile="game",slo="availability",tiles="${digest}"}[29d23h59m59s999ms]))`);
    expect(p.tiles?.interval).toBe("5m");
    expect(p.tiles?.bad).toContain('response_code=~"5.."}[5m]');
    expect(p.tiles?.events).toMatch(/^sum\(increase\(istio_requests_total\{.*\}\[5m\]\)\)$/);
    expect(p.tiles?.since).toBe(
      `(min_over_time(${TILES_SINCE_RECORD}{namespace="games",profile="game",slo="availability",tiles="${digest}"}[1h]) and ${EVENTS_TILE_RECORD}{namespace="games",profile="game",slo="availability",tiles="${digest}"}) or timestamp(${EVENTS_TILE_RECORD}{namespace="games",profile="game",slo="availability",tiles="${digest}"})`,
    );
  });

  it("sum a window only once the tiles have been recorded for all of it", () => {
    const hours = (h: number) => h * 3_600_000;
    expect(tiledWindows(plan({ tiles: { coverageMs: {} } }))).toEqual([]);
    expect(tiledWindows(plan({ tiles: { coverageMs: { availability: hours(1.99) } } }))).toEqual([]);
    expect(tiledWindows(plan({ tiles: { coverageMs: { availability: hours(2) } } }))).toEqual(["2h"]);
    expect(tiledWindows(plan({ tiles: { coverageMs: { availability: hours(80) } } }))).toEqual(["2h", "6h", "1d", "3d"]);
    expect(tiledWindows(plan({ tiles: { coverageMs: { other: hours(1000) } } }))).toEqual([]);
    // Recorded either way, so the coverage can grow.
    expect(plan({ tiles: { coverageMs: {} } }).tiles?.bad).toBeDefined();
  });

  it("follow the tile: a shorter one tiles shorter windows, and measures something else", () => {
    const p = plan({ tiles: { tile: "1m" } });
    expect(p.tiles?.interval).toBe("1m");
    expect(p.tiles?.bad).toContain("[1m]");
    expect(tiledWindows(p)).toEqual(["30m", "1h", "2h", "6h", "1d", "3d", "30d"]);
    expect(p.tiles?.digest).not.toBe(plan({ tiles: true }).tiles?.digest);
  });

  it("are told apart by what they measure: another indicator has another digest", () => {
    const latency = { ...slo, indicator: { istio: { kind: "latency" as const, threshold: "500ms" } } };
    const other = planSlo(game, latency, { tiles: true });
    if (isPlanError(other)) throw new Error(other.error);
    expect(other.tiles?.digest).not.toBe(plan({ tiles: true }).tiles?.digest);
    expect(plan({ tiles: true }).tiles?.digest).toBe(plan({ tiles: { coverageMs: {} } }).tiles?.digest);
  });

  it("are not read unless asked for: only recording rules record them", () => {
    const p = plan({});
    expect(p.tiles).toBeUndefined();
    expect(p.errorRatios.every((r) => !r.expr.includes(BAD_TILE_RECORD))).toBe(true);
  });

  it("are not recorded for an SLO whose windows are all short", () => {
    const short = { ...slo, window: "1h" };
    const p = planSlo(game, short, { tiles: true });
    if (isPlanError(p)) throw new Error(p.error);
    expect(p.tiles).toBeUndefined();
  });

  it("select one SLO's tiles by its labels, quoted", () => {
    expect(tiledErrorRatio(tileSelector("ns", 'we"ird', "slo", "abc"), "1d")).toBe(
      `sum(sum_over_time(${BAD_TILE_RECORD}{namespace="ns",profile="we\\"ird",slo="slo",tiles="abc"}[23h59m59s999ms])) / sum(sum_over_time(${EVENTS_TILE_RECORD}{namespace="ns",profile="we\\"ird",slo="slo",tiles="abc"}[23h59m59s999ms]))`,
    );
  });

  it("cover the time since their run began, never less than nothing", () => {
    expect(coverageFromSince(1_000, 1_000_000 + 7_200_000)).toBe(7_200_000);
    expect(coverageFromSince(2_000, 1_000_000)).toBe(0);
    expect(coverageFromSince(undefined, 1_000_000)).toBe(0);
    expect(coverageFromSince(Number.NaN, 1_000_000)).toBe(0);
  });
});
