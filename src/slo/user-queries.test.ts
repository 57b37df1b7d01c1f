import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../api/profile.ts";
import { queryWindows } from "./windows.ts";
import { userQueries } from "./user-queries.ts";

const errors = 'sum(rate(http_requests_total{code=~"5.."}[{{window}}]))';
const total = "sum(rate(http_requests_total[{{window}}]))";

describe("userQueries", () => {
  it("lists each ratio query with its field, once per window the SLO is read over, and nothing for presets", () => {
    const spec = profileSpecSchema.parse({
      targetRef: { name: "auth" },
      slos: [
        { name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } },
        { name: "errors", objective: 99.9, window: "30d", indicator: { ratio: { errors, total } } },
      ],
    });
    const windows = queryWindows("30d");
    expect(userQueries(spec)).toEqual([
      ...windows.map((w) => ({ field: "spec.slos[1].indicator.ratio.errors", expr: errors.replace("{{window}}", w) })),
      ...windows.map((w) => ({ field: "spec.slos[1].indicator.ratio.total", expr: total.replace("{{window}}", w) })),
    ]);
    expect(windows).toContain("5m");
    expect(windows).toContain("30d");
  });

  it("fills in the SLO's own short windows, where a suffix after {{window}} stops parsing", () => {
    const spec = profileSpecSchema.parse({
      targetRef: { name: "auth" },
      slos: [{ name: "errors", objective: 99.9, window: "1m", indicator: { ratio: { errors: "sum(rate(x[{{window}}30s]))", total } } }],
    });
    const exprs = userQueries(spec).filter((q) => q.field.endsWith(".errors")).map((q) => q.expr);
    expect(exprs).toContain("sum(rate(x[10s30s]))");
    expect(exprs).toContain("sum(rate(x[1m30s]))");
  });
});
