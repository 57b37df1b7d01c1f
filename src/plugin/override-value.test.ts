import { describe, expect, it } from "vitest";
import { parseOverride } from "../policy/override.ts";
import { reviewedUser } from "./identity.ts";
import { overrideClearedText, overridePatch, overrideSetText, overrideValue } from "./override-value.ts";

const NOW = new Date("2026-11-30T12:00:00.250Z");

describe("overrideValue", () => {
  it("writes the annotation the operator's parser honours, expiring the given time from now", () => {
    const v = overrideValue({ by: "alice@example.com", reason: " hotfix INC-42 ", duration: "2h", now: NOW });
    expect(v).toEqual({
      ok: true,
      value: '{"by":"alice@example.com","reason":"hotfix INC-42","expires":"2026-11-30T14:00:00Z"}',
      override: { by: "alice@example.com", reason: "hotfix INC-42", expires: "2026-11-30T14:00:00.000Z" },
    });
    if (!v.ok) throw new Error("must be ok");
    expect(parseOverride(v.value, NOW)).toEqual({ ok: true, override: v.override });
  });

  it("refuses an override past the operator's 7d cap, saying so, and takes exactly 7d", () => {
    const v = overrideValue({ by: "alice", reason: "long fix", duration: "8d", now: NOW });
    expect(v).toEqual({ ok: false, problem: expect.stringContaining("--for 8d is longer than the 7d an override may last") });
    expect(overrideValue({ by: "alice", reason: "long fix", duration: "7d", now: NOW }).ok).toBe(true);
  });

  it("refuses a duration that is not one, or none, and an empty reason, naming the flag", () => {
    expect(overrideValue({ by: "a", reason: "r", duration: "2 hours", now: NOW })).toEqual({ ok: false, problem: '--for must be a duration such as 30m, 2h or 1d, not "2 hours"' });
    expect(overrideValue({ by: "a", reason: "r", duration: "0s", now: NOW }).ok).toBe(false);
    expect(overrideValue({ by: "a", reason: "  ", duration: "1h", now: NOW })).toEqual({ ok: false, problem: expect.stringContaining("--reason") });
  });

  it("refuses what the operator would not honour with the operator's reason", () => {
    const v = overrideValue({ by: "a", reason: "x".repeat(1025), duration: "1h", now: NOW });
    expect(v).toEqual({ ok: false, problem: expect.stringContaining('"reason" is longer than 1024 characters') });
  });
});

describe("overridePatch", () => {
  it("touches only the override annotation, null to remove it", () => {
    expect(overridePatch("{}")).toEqual({ metadata: { annotations: { "tollgate.dev/override-freeze": "{}" } } });
    expect(overridePatch(null)).toEqual({ metadata: { annotations: { "tollgate.dev/override-freeze": null } } });
  });
});

describe("reviewedUser", () => {
  it("is the user name the API server authenticated", () => {
    expect(reviewedUser({ status: { userInfo: { username: "system:serviceaccount:ops:sre", groups: ["x"] } } })).toBe("system:serviceaccount:ops:sre");
  });

  it("throws when the review carries no user name", () => {
    expect(() => reviewedUser({ status: {} })).toThrow("status.userInfo.username");
  });
});

describe("messages", () => {
  it("say whether the override lifts a freeze now or only a later one", () => {
    const o = { by: "alice", reason: "hotfix", expires: "2026-11-30T14:00:00.000Z" };
    expect(overrideSetText("shop/game", o, true)).toContain("lifts the freeze on its next evaluation");
    expect(overrideSetText("shop/game", o, false)).toContain("not frozen now");
    expect(overrideClearedText("shop/game", false)).toContain("nothing changed");
  });
});
