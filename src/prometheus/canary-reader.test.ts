import { describe, expect, it } from "vitest";
import { canarySpec } from "../canary/test-builders.ts";
import { canaryPlan, type CanaryPlan } from "../slo/canary.ts";
import { PrometheusError, type Sample } from "./client.ts";
import { readCanary } from "./canary-reader.ts";

const plan = canaryPlan("games", canarySpec({ slos: ["availability"] })) as CanaryPlan;
const sample = (value: number | undefined): Sample[] => [{ metric: {}, value }];

describe("readCanary", () => {
  it("turns the canary's error ratio into a burn rate against the SLO's budget", async () => {
    const m = await readCanary({ query: async (q) => (q.startsWith("sum(increase") ? sample(1200) : sample(0.01)) }, plan, new Date());
    expect(m).toEqual({ slos: [{ slo: "availability", burnRate: 2, events: 1200 }] });
  });

  it("leaves out what Prometheus has no number for", async () => {
    const m = await readCanary({ query: async (q) => (q.startsWith("sum(increase") ? [] : sample(undefined)) }, plan, new Date());
    expect(m).toEqual({ slos: [{ slo: "availability" }] });
  });

  it("reports a failed query as an error, which holds the step", async () => {
    const m = await readCanary(
      {
        query: async () => {
          throw new PrometheusError("unreachable", "Prometheus at http://prometheus:9090 is unreachable");
        },
      },
      plan,
      new Date(),
    );
    expect(m.error).toContain("unreachable");
    expect(m.slos).toEqual([]);
  });
});

describe("readCanary on an answer of several series", () => {
  it("holds the step with an error naming the SLO and the count, never taking the first series", async () => {
    const two: Sample[] = [{ metric: { pod: "a" }, value: 0 }, { metric: { pod: "b" }, value: 0.5 }];
    const m = await readCanary({ query: async (q) => (q.startsWith("sum(increase") ? sample(1200) : two) }, plan, new Date());
    expect(m.slos).toEqual([]);
    expect(m.error).toBe(`Prometheus answered 2 series to the canary's ${plan.window} error-ratio query of SLO availability, whose sum(...) returns one; the step holds`);
  });
});
