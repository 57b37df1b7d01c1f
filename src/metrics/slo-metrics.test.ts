import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { BurnRole, Measurements } from "../slo/types.ts";
import { loopTurnsDuring } from "../runtime/loop-turns.ts";
import { MetricsRegistry } from "../runtime/metrics-registry.ts";
import { SloMetrics } from "./slo-metrics.ts";

describe("SloMetrics", () => {
  it("exports budget, burn rates and phase per profile, and drops them with the profile", async () => {
    const registry = new Registry();
    const metrics = new SloMetrics(registry);
    metrics.observe(
      "shop",
      "game",
      {
        at: new Date(),
        slos: [
          {
            name: "availability",
            objective: 99.5,
            window: "30d",
            verdict: "Ok",
            consumedPercent: 104.2,
            burnRates: [{ role: "5m", window: "5m", value: 2.5 }, { role: "1h", window: "1h" }],
          },
          { name: "latency", objective: 95, window: "30d", verdict: "NoData", burnRates: [] },
        ],
      },
      "Frozen",
    );
    const text = await registry.metrics();
    expect(text).toContain('tollgate_slo_budget_consumed_ratio{namespace="shop",profile="game",slo="availability"} 1.042');
    expect(text).toContain('tollgate_slo_burn_rate{namespace="shop",profile="game",slo="availability",window="5m"} 2.5');
    expect(text).not.toContain('window="1h"');
    expect(text).not.toContain('slo="latency"');
    expect(text).toContain('tollgate_profile_phase{namespace="shop",profile="game",phase="Frozen"} 1');
    // One series per profile: its current phase's.
    expect(text.match(/^tollgate_profile_phase\{/gm)).toHaveLength(1);
    metrics.forget("shop", "game");
    expect(await registry.metrics()).not.toContain('profile="game"');
  });

  it("exports the canary's weight until it is cleared or the profile goes, whatever the passes measure", async () => {
    const registry = new Registry();
    const metrics = new SloMetrics(registry);
    metrics.canary("shop", "game", 30);
    // A pass's measurements replace the SLO series and leave the weight alone.
    metrics.observe("shop", "game", { at: new Date(), slos: [] }, "Progressing");
    expect(await registry.metrics()).toContain('tollgate_canary_weight{namespace="shop",profile="game"} 30');
    metrics.canary("shop", "game", 0);
    expect(await registry.metrics()).toContain('tollgate_canary_weight{namespace="shop",profile="game"} 0');
    metrics.canary("shop", "game", undefined);
    expect(await registry.metrics()).not.toContain("tollgate_canary_weight{");
    metrics.canary("shop", "game", 10);
    metrics.forget("shop", "game");
    expect(await registry.metrics()).not.toContain('profile="game"');
  });

  it("shows each profile's last pass: a new phase replaces the old, and what a pass no longer measures is gone", async () => {
    const registry = new Registry();
    const metrics = new SloMetrics(registry);
    const pass = (consumed: number | undefined, windows: BurnRole[]): Measurements => ({
      at: new Date(),
      slos: [{ name: "availability", objective: 99.5, window: "30d", verdict: "Ok", consumedPercent: consumed, burnRates: windows.map((w) => ({ role: w, window: w, value: 0.5 })) }],
    });
    metrics.observe("shop", "game", pass(10, ["5m", "1h"]), "Healthy");
    metrics.observe("shop", "other", pass(50, ["5m"]), "Healthy");
    metrics.observe("shop", "game", pass(11, ["5m", "1h"]), "Warning");
    const text = await registry.metrics();
    expect(text).toContain('tollgate_slo_budget_consumed_ratio{namespace="shop",profile="game",slo="availability"} 0.11');
    expect(text).toContain('tollgate_slo_budget_consumed_ratio{namespace="shop",profile="other",slo="availability"} 0.5');
    expect(text).toContain('tollgate_slo_burn_rate{namespace="shop",profile="game",slo="availability",window="1h"} 0.5');
    expect(text).toContain('tollgate_profile_phase{namespace="shop",profile="game",phase="Warning"} 1');
    expect(text).not.toContain('profile="game",phase="Healthy"');
    expect(text.match(/^tollgate_profile_phase\{/gm)).toHaveLength(2);

    // The 1h window is gone and the budget has no verdict: those two series go, the rest stay.
    metrics.observe("shop", "game", pass(undefined, ["5m"]), "Warning");
    const after = await registry.metrics();
    expect(after).not.toContain('tollgate_slo_budget_consumed_ratio{namespace="shop",profile="game"');
    expect(after).not.toContain('window="1h"');
    expect(after).toContain('tollgate_slo_burn_rate{namespace="shop",profile="game",slo="availability",window="5m"} 0.5');
    expect(after).toContain('tollgate_slo_budget_consumed_ratio{namespace="shop",profile="other",slo="availability"} 0.5');
  });

  it("escapes label values as the exposition format asks", async () => {
    const registry = new Registry();
    const metrics = new SloMetrics(registry);
    metrics.observe("shop", "game", { at: new Date(), slos: [{ name: 'say "hi"\\', objective: 99, window: "1h", verdict: "Ok", consumedPercent: 1, burnRates: [] }] }, "Healthy");
    expect(await registry.metrics()).toContain('tollgate_slo_budget_consumed_ratio{namespace="shop",profile="game",slo="say \\"hi\\"\\\\"} 0.01');
  });

  /** Profiles with data: budget, 7 burn rates (one without a value), a phase; some names to escape. */
  function observeMany(metrics: SloMetrics, count: number): void {
    const phases = ["Healthy", "Warning", "Frozen"];
    for (let i = 0; i < count; i++) {
      const slos = ["availability", i % 50 === 0 ? 'odd "slo"\\\nname' : "latency"].map((name, j) => ({
        name,
        objective: 99.5,
        window: "30d",
        verdict: "Ok" as const,
        consumedPercent: i % 7 === 0 ? undefined : (i * 13 + j) / 10,
        burnRates: ["5m", "30m", "1h", "2h", "6h", "1d", "3d"].map((w, k) => ({ role: w as BurnRole, window: w, value: k === 6 ? undefined : i % 11 === 0 ? [Number.NaN, Number.POSITIVE_INFINITY][k % 2] : (i + k) / 100 })),
      }));
      metrics.observe(`ns-${i % 9}`, `svc-${i}`, { at: new Date(), slos }, phases[i % 3]!);
    }
  }

  it("writes its per-profile families in a MetricsRegistry exactly as prom-client formats them", async () => {
    const plain = new Registry();
    const own = new MetricsRegistry();
    observeMany(new SloMetrics(plain), 300);
    observeMany(new SloMetrics(own), 300);
    const text = await own.metrics();
    expect(text).toContain('tollgate_slo_burn_rate{namespace="ns-0",profile="svc-0",slo="availability",window="5m"} Nan');
    expect(text).toContain('slo="odd \\"slo\\"\\\\\\nname"');
    expect(text).toBe(await plain.metrics());
  });

  it("lets the event loop turn while it writes the series of thousands of profiles", async () => {
    const registry = new MetricsRegistry();
    observeMany(new SloMetrics(registry), 2_000);
    const { value: text, turns } = await loopTurnsDuring(() => registry.metrics());
    const lines = text.split("\n").filter((l) => l.startsWith("tollgate_slo_burn_rate{")).length;
    expect(lines).toBe(2_000 * 2 * 6);
    // 24,000 burn-rate series alone are 48 slices of 500, with a turn of the loop between each two.
    expect(turns).toBeGreaterThanOrEqual(47);
  });
});
