import { describe, expect, it } from "vitest";
import { planProfile, isPlanError } from "../slo/plan.ts";
import { profile } from "../slo/test-builders.ts";
import { explainJson, explainProfile, explainText, type QueryValue } from "./explain-view.ts";

const shortWindow = profile("shop", "checkout", {
  targetRef: { name: "checkout" },
  slos: [
    {
      name: "orders",
      objective: 99,
      window: "1h",
      indicator: { ratio: { errors: 'sum(rate(orders_failed_total[{{window}}]))', total: 'sum(rate(orders_total[{{window}}]))' } },
    },
  ],
});

describe("explainProfile", () => {
  it("lists exactly the queries the operator's planner reads, error ratios first, then events", () => {
    const e = explainProfile(shortWindow);
    const plan = planProfile(shortWindow).slos[0];
    if (!plan || isPlanError(plan)) throw new Error("the fixture must plan");
    const slo = e.slos[0]!;
    expect(slo.queries.filter((q) => q.kind === "errorRatio").map((q) => q.expr)).toEqual(plan.errorRatios.map((r) => r.expr));
    expect(slo.queries.find((q) => q.kind === "events")?.expr).toBe(plan.events);
    expect(slo.queries.filter((q) => q.kind === "seriesCount").map((q) => q.part)).toEqual(["errors", "total"]);
  });

  it("names every role a short SLO window folds onto one queried window, and the recorded series", () => {
    const slo = explainProfile(shortWindow).slos[0]!;
    // A 1h window scales 5m, 30m, 1h and 2h below the 10s floor, so all four read 10s.
    const tenSeconds = slo.queries.find((q) => q.kind === "errorRatio" && q.window === "10s");
    expect(tenSeconds?.roles).toEqual(["5m", "30m", "1h", "2h"]);
    expect(tenSeconds?.recorded).toBe('tollgate_slo:error_ratio:rate{namespace="shop",profile="checkout",slo="orders",window="10s"}');
    expect(slo.budget).toBe(0.01);
  });

  it("says why an SLO cannot be measured instead of printing a query for it", () => {
    const bad = profile("shop", "bad", {
      targetRef: { name: "bad" },
      slos: [{ name: "slow", objective: 99, window: "1h", indicator: { latency: { metric: "http_request_duration_seconds", selector: '{le="1"}', threshold: "500ms" } } }],
    });
    const slo = explainProfile(bad).slos[0]!;
    expect(slo.queries).toEqual([]);
    expect(slo.error).toMatch(/must not match the le label/);
    expect(explainText(explainProfile(bad))).toContain("cannot be measured:");
  });
});

describe("explainText", () => {
  it("prints each query with its purpose and, given values, the burn rate and the budget consumed over the SLO window", () => {
    const e = explainProfile(shortWindow);
    const slo = e.slos[0]!;
    const values = new Map<string, QueryValue>();
    for (const q of slo.queries) values.set(q.expr, q.kind === "events" ? { value: 5400 } : q.kind === "seriesCount" ? { value: 1 } : { value: 0.02 });
    const text = explainText(e, values);
    expect(text).toContain("SLO orders: 99 % good over 1h (error budget 1 % of events)");
    expect(text).toContain("error ratio over 10s (burn-rate roles 5m, 30m, 1h, 2h): 0.02000 (burn rate 2.00x)");
    expect(text).toContain("error ratio over 1h (the SLO window: budget consumed): 0.02000 (burn rate 2.00x, 200.0 % of the budget consumed)");
    expect(text).toContain("events over 1h (the SLO window; fewer than policy.minEvents is no verdict): 5400 events");
    expect(text).toContain("sum(rate(orders_failed_total[10s]))");
  });

  it("says no data and errors in words, never as 0", () => {
    const e = explainProfile(shortWindow);
    const [first, second] = e.slos[0]!.queries;
    const text = explainText(e, new Map<string, QueryValue>([[first!.expr, { value: undefined }], [second!.expr, { error: "parse error" }]]));
    expect(text).toContain("(burn-rate roles 5m, 30m, 1h, 2h): no data");
    expect(text).toContain(": error: parse error");
  });
});

describe("explainJson", () => {
  it("has a value and an error field on every query, null when there is none", () => {
    const e = explainProfile(shortWindow);
    const doc = explainJson(e) as { slos: Array<{ queries: Array<{ value: unknown; error: unknown }> }> };
    expect(doc.slos[0]!.queries.every((q) => q.value === null && q.error === null)).toBe(true);
  });
});
