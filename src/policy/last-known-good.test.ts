import { describe, expect, it } from "vitest";
import { readBudget } from "./budget.ts";
import { health, trackLastKnownGood, type Health, type Tracked } from "./last-known-good.ts";
import { at, deployment, gameSpec, measure, prometheusDown, type SloInput } from "./test-builders.ts";

const spec = gameSpec();
const policy = spec.policy;

describe("health", () => {
  it.each<[string, SloInput, SloInput, Health]>([
    ["well within budget and not burning", { consumed: 40, b5m: 0.5 }, { consumed: 10, b5m: 0.2 }, "healthy"],
    ["burning in the 5m window", { consumed: 40, b5m: 1 }, { consumed: 10, b5m: 0.2 }, "unhealthy"],
    ["the other SLO burning", { consumed: 40, b5m: 0.5 }, { consumed: 10, b5m: 4 }, "unhealthy"],
    ["at freezeAt", { consumed: 100, b5m: 0.1 }, { consumed: 10, b5m: 0.2 }, "unhealthy"],
    ["just below freezeAt", { consumed: 99.9, b5m: 0.1 }, { consumed: 10, b5m: 0.2 }, "healthy"],
    ["an SLO without data (it might be the one burning)", { consumed: 40, b5m: 0.5 }, "NoData", "unknown"],
    ["an SLO too quiet for a verdict", { consumed: 40, b5m: 0.5 }, "InsufficientData", "healthy"],
    ["burning even though another SLO has no data", { consumed: 40, b5m: 3 }, "NoData", "unhealthy"],
  ])("%s → %s", (_name, a, l, expected) => {
    expect(health(readBudget(spec, {}, measure(at(0), a, l)), policy)).toBe(expected);
  });

  it("is unknown while Prometheus is down", () => {
    expect(health(readBudget(spec, {}, prometheusDown(at(0))), policy)).toBe("unknown");
  });
});

describe("trackLastKnownGood", () => {
  const v1 = deployment({ revision: 1, templateHash: "v1" });
  const lkg0 = { revision: 0, templateHash: "v0", since: at(-60).toISOString() };
  const cand = (min: number, hash = "v1", revision = 1) => ({ revision, templateHash: hash, since: at(min).toISOString() });

  it.each<[string, Tracked, Parameters<typeof trackLastKnownGood>[1], Health, number, Tracked]>([
    ["the first revision seen healthy becomes the candidate", {}, v1, "healthy", 0, { candidate: cand(0) }],
    ["a candidate short of stableAfter stays one", { candidate: cand(0) }, v1, "healthy", 9.99, { candidate: cand(0) }],
    ["a candidate that ran stableAfter becomes last known good", { candidate: cand(0) }, v1, "healthy", 10, { lastKnownGood: cand(0) }],
    ["the newest stable revision replaces the last known good", { lastKnownGood: lkg0, candidate: cand(0) }, v1, "healthy", 10, { lastKnownGood: cand(0) }],
    ["one burning observation drops the candidate", { lastKnownGood: lkg0, candidate: cand(0) }, v1, "unhealthy", 9, { lastKnownGood: lkg0 }],
    ["a revision that burns from the start never becomes a candidate", { lastKnownGood: lkg0 }, v1, "unhealthy", 30, { lastKnownGood: lkg0 }],
    ["a new template restarts the watch", { candidate: cand(0) }, deployment({ revision: 2, templateHash: "v2" }), "healthy", 9, { candidate: cand(9, "v2", 2) }],
    ["a new template while data is missing clears the old candidate", { candidate: cand(0) }, deployment({ revision: 2, templateHash: "v2" }), "unknown", 9, {}],
    ["missing data keeps the candidate without promoting it", { candidate: cand(0) }, v1, "unknown", 30, { candidate: cand(0) }],
    ["a rollout still running is not live yet", {}, { ...v1, rolloutComplete: false }, "healthy", 0, {}],
    ["a rollout still running keeps an existing candidate", { candidate: cand(0) }, { ...v1, rolloutComplete: false }, "healthy", 30, { candidate: cand(0) }],
    ["the live revision is the last known good: nothing to watch", { lastKnownGood: cand(0) }, v1, "unhealthy", 30, { lastKnownGood: cand(0) }],
    [
      "a rollback renumbers the last known good template",
      { lastKnownGood: cand(0) },
      deployment({ revision: 3, templateHash: "v1", revisions: [{ revision: 2, templateHash: "v2" }, { revision: 3, templateHash: "v1" }] }),
      "healthy",
      30,
      { lastKnownGood: cand(0, "v1", 3) },
    ],
    ["no Deployment: nothing changes", { lastKnownGood: lkg0, candidate: cand(0) }, undefined, "healthy", 30, { lastKnownGood: lkg0, candidate: cand(0) }],
    ["a live revision without a ReplicaSet yet: nothing changes", { candidate: cand(0) }, { ...v1, templateHash: undefined }, "healthy", 30, { candidate: cand(0) }],
  ])("%s", (_name, prev, d, h, minutes, expected) => {
    expect(trackLastKnownGood(prev, d, h, policy, at(minutes))).toEqual(expected);
  });

  it("honours policy.stableAfter", () => {
    const slow = gameSpec({ stableAfter: "1h" }).policy;
    expect(trackLastKnownGood({ candidate: cand(0) }, v1, "healthy", slow, at(59))).toEqual({ candidate: cand(0) });
    expect(trackLastKnownGood({ candidate: cand(0) }, v1, "healthy", slow, at(60))).toEqual({ lastKnownGood: cand(0) });
  });
});
