import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../../api/profile.ts";
import type { SloProfile } from "../../slo/plan.ts";
import { rulesRejectedCheck } from "./rules-rejected.ts";

const spec = (mode?: "Direct" | "RecordingRules") =>
  profileSpecSchema.parse({
    targetRef: { name: "shop" },
    slos: [{ name: "availability", objective: 99.5, window: "1m", indicator: { istio: { kind: "availability" } } }],
    ...(mode ? { prometheus: { mode } } : {}),
  });

describe("rulesRejectedCheck", () => {
  const asked: SloProfile[] = [];
  const rules = {
    rejected: (namespace: string, name: string, profile?: SloProfile) => {
      if (profile) asked.push(profile);
      return name === "shop" ? { field: "spec.slos[0].indicator", message: "Prometheus cannot parse ..." } : undefined;
    },
  };

  it("refuses a RecordingRules profile whose rules Prometheus refused, with the writer's field and reason", () => {
    const check = rulesRejectedCheck(rules, "RecordingRules");
    expect(check({ namespace: "games", name: "shop" }, spec())).toEqual({ field: "spec.slos[0].indicator", message: "Prometheus cannot parse ...", reason: "RulesRejected" });
    expect(asked.at(-1)).toEqual({ namespace: "games", name: "shop", spec: spec() });
    expect(check({ namespace: "games", name: "other" }, spec())).toBeUndefined();
  });

  it("leaves a profile read Direct alone: it loads no rules", () => {
    expect(rulesRejectedCheck(rules, "RecordingRules")({ namespace: "games", name: "shop" }, spec("Direct"))).toBeUndefined();
    expect(rulesRejectedCheck(rules, undefined)({ namespace: "games", name: "shop" }, spec())).toBeUndefined();
    expect(rulesRejectedCheck(rules, undefined)({ namespace: "games", name: "shop" }, spec("RecordingRules"))).toMatchObject({ reason: "RulesRejected" });
  });
});
