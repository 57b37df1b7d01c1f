import { describe, expect, it } from "vitest";
import type { ProfileStatus } from "../api/status.ts";
import { dedupKey, incidentStart } from "./signals.ts";

const t = (min: number) => new Date(Date.parse("2026-11-22T08:00:00Z") + min * 60_000).toISOString();
const budgetLow = (since: string) => ({ type: "BudgetHealthy", status: "False" as const, reason: "BudgetLow", message: "", lastTransitionTime: since });

describe("incidentStart", () => {
  it.each<[string, ProfileStatus, string | undefined]>([
    ["no incident", {}, undefined],
    ["a warning", { conditions: [budgetLow(t(3))] }, t(3)],
    ["a freeze that followed a warning keeps the warning's start", { freeze: { since: t(5), reason: "BudgetExhausted" }, conditions: [budgetLow(t(3))] }, t(3)],
    ["a NoData freeze that a budget warning followed keeps the freeze's start", { freeze: { since: t(1), reason: "NoData" }, conditions: [budgetLow(t(4))] }, t(1)],
    ["a healthy budget is no incident", { conditions: [{ ...budgetLow(t(3)), status: "True" }] }, undefined],
  ])("%s", (_name, status, start) => {
    expect(incidentStart(status)).toBe(start);
  });
});

describe("dedupKey", () => {
  const now = new Date("2026-11-22T08:00:00Z");
  it("names the profile and the incident", () => {
    expect(dedupKey({ input: { profile: { namespace: "games", name: "game-service" }, now } }, t(3))).toBe(`tollgate/games/game-service/${t(3)}`);
  });
  it("fits PagerDuty's 255 characters however long the names, and stays stable", () => {
    const long = { input: { profile: { namespace: "n".repeat(63), name: "p".repeat(253) }, now } };
    const key = dedupKey(long, t(3));
    expect(key.length).toBeLessThanOrEqual(255);
    expect(dedupKey(long, t(3))).toBe(key);
    expect(dedupKey(long, t(4))).not.toBe(key);
  });
});
