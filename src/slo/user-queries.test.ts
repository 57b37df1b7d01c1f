import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../api/profile.ts";
import { userQueries } from "./user-queries.ts";

describe("userQueries", () => {
  it("lists each ratio query with its field and the window filled in, and nothing for presets", () => {
    const spec = profileSpecSchema.parse({
      targetRef: { name: "auth" },
      slos: [
        { name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } },
        {
          name: "errors",
          objective: 99.9,
          indicator: { ratio: { errors: 'sum(rate(http_requests_total{code=~"5.."}[{{window}}]))', total: "sum(rate(http_requests_total[{{window}}]))" } },
        },
      ],
    });
    expect(userQueries(spec)).toEqual([
      { field: "spec.slos[1].indicator.ratio.errors", expr: 'sum(rate(http_requests_total{code=~"5.."}[5m]))' },
      { field: "spec.slos[1].indicator.ratio.total", expr: "sum(rate(http_requests_total[5m]))" },
    ]);
  });
});
