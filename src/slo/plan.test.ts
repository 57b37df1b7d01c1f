import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../api/profile.ts";
import { isPlanError, planProfile } from "./plan.ts";

const spec = profileSpecSchema.parse({
  targetRef: { name: "game-service" },
  slos: [
    { name: "availability", objective: 99.5, window: "2m", indicator: { istio: { kind: "availability" } } },
    { name: "latency", objective: 95, window: "28d", indicator: { istio: { kind: "latency", threshold: "500ms" } } },
    { name: "errors", objective: 99, indicator: { ratio: { errors: "sum(rate(bad[{{window}}]))", total: "sum(rate(all[{{window}}]))" } } },
    { name: "unknown-unit", objective: 99, indicator: { latency: { metric: "rpc_latency", selector: "{}", threshold: "1s", unit: "seconds" } } },
  ],
});
// A latency SLO without a unit, as stored before the CRD required one: the plan must refuse it, not throw.
delete spec.slos[3]!.indicator.latency!.unit;

describe("planProfile", () => {
  const plan = planProfile({ namespace: "games", name: "game", spec }, { minBurnWindowMs: 2_000 });

  it.each([
    // slo, SLO window as queried, windows read, histogram-based
    ["availability", "2m", ["2s", "4s", "12s", "2m"], false],
    ["latency", "4w", ["4m40s", "28m", "56m", "1h52m", "5h36m", "22h24m", "2d19h12m", "4w"], true],
    ["errors", "30d", ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"], false],
  ] as Array<[string, string, string[], boolean]>)("plans %s", (name, window, windows, histogram) => {
    const p = plan.slos.find((s) => s.slo.name === name);
    if (!p || isPlanError(p)) throw new Error(`no plan for ${name}`);
    expect(p.window).toBe(window);
    expect(p.errorRatios.map((r) => r.window)).toEqual(windows);
    expect(p.histogram).toBe(histogram);
    for (const r of p.errorRatios) expect(r.expr).toContain(`[${r.window}]`);
    expect(p.events).toContain(`[${window}]`);
  });

  it("keeps an unmeasurable SLO as an error and plans the rest", () => {
    expect(plan.slos.map((s) => (isPlanError(s) ? s.error : "ok"))).toEqual(["ok", "ok", "ok", expect.stringMatching(/set latency.unit/)]);
  });

  it("scales with the given floor", () => {
    const p = planProfile({ namespace: "games", name: "game", spec }, { minBurnWindowMs: 10_000 }).slos[0];
    if (!p || isPlanError(p)) throw new Error("no plan");
    expect(p.errorRatios.map((r) => r.window)).toEqual(["10s", "12s", "2m"]);
  });
});
