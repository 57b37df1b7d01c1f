import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../api/profile.ts";
import { isPlanError, planSlo, type SloProfile } from "./plan.ts";
import { BAD_TILE_RECORD, EVENTS_TILE_RECORD, tiledErrorRatio, tileSelector } from "./tiles.ts";

const game: SloProfile = {
  namespace: "games",
  name: "game",
  spec: profileSpecSchema.parse({
    targetRef: { name: "game-service" },
    slos: [{ name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } }],
  }),
};
const slo = game.spec.slos[0]!;

describe("tiles", () => {
  it("sum the windows longer than an hour from the SLO's tiles, and leave the short burn windows raw", () => {
    const plan = planSlo(game, slo, { tiles: true });
    if (isPlanError(plan)) throw new Error(plan.error);
    const tiled = plan.errorRatios.filter((r) => r.expr.includes(BAD_TILE_RECORD)).map((r) => r.window);
    const raw = plan.errorRatios.filter((r) => r.expr.includes("istio_requests_total")).map((r) => r.window);
    expect(tiled).toEqual(["2h", "6h", "1d", "3d", "30d"]);
    expect(raw).toEqual(["5m", "30m", "1h"]);
    expect(plan.events).toBe(`sum_over_time(${EVENTS_TILE_RECORD}{namespace="games",profile="game",slo="availability"}[29d23h59m59s999ms])`);
    expect(plan.tiles?.bad).toContain('response_code=~"5.."}[5m]');
    expect(plan.tiles?.events).toMatch(/^sum\(increase\(istio_requests_total\{.*\}\[5m\]\)\)$/);
  });

  it("are not read unless asked for: only recording rules record them", () => {
    const plan = planSlo(game, slo);
    if (isPlanError(plan)) throw new Error(plan.error);
    expect(plan.tiles).toBeUndefined();
    expect(plan.errorRatios.every((r) => !r.expr.includes(BAD_TILE_RECORD))).toBe(true);
  });

  it("select one SLO's tiles by its labels, quoted", () => {
    expect(tiledErrorRatio(tileSelector("ns", 'we"ird', "slo"), "1d")).toBe(
      `sum_over_time(${BAD_TILE_RECORD}{namespace="ns",profile="we\\"ird",slo="slo"}[23h59m59s999ms]) / sum_over_time(${EVENTS_TILE_RECORD}{namespace="ns",profile="we\\"ird",slo="slo"}[23h59m59s999ms])`,
    );
  });
});
