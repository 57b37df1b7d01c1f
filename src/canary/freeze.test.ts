import { describe, expect, it } from "vitest";
import type { ProfileStatus } from "../api/status.ts";
import { canaryFreeze } from "./freeze.ts";
import { T0, iso } from "./test-builders.ts";

const freeze = { since: iso(-30), reason: "BudgetExhausted", slo: "availability" };

const cases: { name: string; status: ProfileStatus | undefined; reason: string | undefined }[] = [
  { name: "no status", status: undefined, reason: undefined },
  { name: "Healthy", status: { phase: "Healthy" }, reason: undefined },
  { name: "Warning", status: { phase: "Warning" }, reason: undefined },
  { name: "Progressing (a canary runs)", status: { phase: "Progressing" }, reason: undefined },
  { name: "Frozen", status: { phase: "Frozen", freeze }, reason: "BudgetExhausted" },
  { name: "Frozen on no data", status: { phase: "Frozen", freeze: { ...freeze, reason: "NoData" } }, reason: "NoData" },
  { name: "RollingBack", status: { phase: "RollingBack", freeze }, reason: "RollingBack" },
  { name: "Frozen under a live override", status: { phase: "Frozen", freeze: { ...freeze, override: { by: "oncall", reason: "hotfix", expires: iso(30) } } }, reason: undefined },
  { name: "Frozen under an expired override", status: { phase: "Frozen", freeze: { ...freeze, override: { by: "oncall", reason: "hotfix", expires: iso(-1) } } }, reason: "BudgetExhausted" },
];

describe("canaryFreeze", () => {
  it.each(cases)("$name", (c) => {
    expect(canaryFreeze(c.status, T0)?.reason).toBe(c.reason);
  });

  it("names the SLO in the message", () => {
    expect(canaryFreeze({ phase: "Frozen", freeze }, T0)?.message).toBe(
      "rollouts are frozen (BudgetExhausted by availability); no canary starts or promotes until the freeze lifts",
    );
  });
});
