import { describe, expect, it } from "vitest";
import { PHASES } from "../api/status.ts";
import { withCanary } from "./phase.ts";

describe("withCanary", () => {
  it("shows a running canary over Healthy and Warning only", () => {
    const shown = Object.fromEntries(PHASES.map((p) => [p, withCanary(p, true)]));
    expect(shown).toEqual({
      Healthy: "Progressing",
      Warning: "Progressing",
      Frozen: "Frozen",
      RollingBack: "RollingBack",
      Progressing: "Progressing",
      Degraded: "Degraded",
      Terminating: "Terminating",
      Unknown: "Unknown",
    });
  });
  it("leaves the budget's phase when no canary runs", () => {
    for (const p of PHASES) expect(withCanary(p, false)).toBe(p);
  });
});
