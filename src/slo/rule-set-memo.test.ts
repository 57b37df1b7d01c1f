import { describe, expect, it } from "vitest";
import { profileRuleSet } from "./profile-rules.ts";
import { RuleSetMemo, ruleSetInputs } from "./rule-set-memo.ts";
import { rulesFileYaml, type RuleOptions } from "./rules.ts";
import type { SloProfile } from "./plan.ts";
import { game, profile } from "./test-builders.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The rules file's rendering, counted. */
function counted() {
  let renders = 0;
  const render = (p: SloProfile, opts: RuleOptions) => {
    renders++;
    const { groups, problems } = profileRuleSet(p, opts);
    return { groups, problems, content: rulesFileYaml(groups) };
  };
  return { render, renders: () => renders };
}

const direct = (p: SloProfile, opts: RuleOptions) => rulesFileYaml(profileRuleSet(p, opts).groups);
const tiled = (availability: number, latency = availability): RuleOptions => ({ tiles: { tile: "5m", coverageMs: { availability, latency } } });

describe("RuleSetMemo", () => {
  it("does not render a profile again while its spec and options are the same", () => {
    const c = counted();
    const memo = new RuleSetMemo(c.render);
    expect(memo.unchanged(game, tiled(0))).toBeUndefined();
    const first = memo.rendered(game, tiled(0));
    expect(first.content).toBe(direct(game, tiled(0)));
    for (let i = 0; i < 3; i++) expect(memo.unchanged(game, tiled(0))).toEqual({ key: expect.any(String), digest: first.digest, problems: first.problems });
    expect(c.renders()).toBe(1);
  });

  it("renders again when the spec changes", () => {
    const memo = new RuleSetMemo(counted().render);
    const before = memo.rendered(game, {});
    const stricter = { ...game, spec: { ...game.spec, slos: game.spec.slos.map((s) => ({ ...s, objective: 99.9 })) } };
    expect(memo.unchanged(stricter, {})).toBeUndefined();
    expect(memo.rendered(stricter, {}).digest).not.toBe(before.digest);
    expect(memo.unchanged(stricter, {})).toBeDefined();
  });

  it("renders again when the options change, the owner of a PrometheusRule included", () => {
    const memo = new RuleSetMemo(counted().render);
    memo.rendered(game, { interval: "30s" });
    expect(memo.unchanged(game, { interval: "1m" })).toBeUndefined();
    memo.rendered(game, { ownerUid: "a" } as RuleOptions);
    expect(memo.unchanged(game, { ownerUid: "b" } as RuleOptions)).toBeUndefined();
  });

  it("keeps its key while tiles' coverage grows between two windows, and renders exactly the rules the raw coverage makes", () => {
    // From nothing to past the SLO windows (30d and 7d): by the hour through the short windows, by the half day after.
    const coverages = [...Array.from({ length: 30 }, (_, i) => i * HOUR), ...Array.from({ length: 80 }, (_, i) => DAY + i * 0.5 * DAY)];
    let keys = 0;
    let contents = 0;
    let lastKey: string | undefined;
    let lastContent: string | undefined;
    for (const ms of coverages) {
      const { key, opts } = ruleSetInputs(game, tiled(ms, ms / 3));
      const content = direct(game, tiled(ms, ms / 3));
      // The rules rendered from the rounded coverage are the rules of the coverage as it came.
      expect(direct(game, opts)).toBe(content);
      if (key !== lastKey) keys++;
      if (content !== lastContent) contents++;
      // The key moves with the rules and only with them.
      expect(key === lastKey).toBe(content === lastContent);
      lastKey = key;
      lastContent = content;
    }
    expect(contents).toBeGreaterThan(2); // windows did move onto the tiles along the way
    expect(keys).toBe(contents);
  });

  it("leaves an SLO without coverage, and one with a window the plan refuses, as they came", () => {
    const odd = profile("games", "odd", {
      targetRef: { name: "odd" },
      slos: [{ name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } }],
    });
    expect(ruleSetInputs(odd, { tiles: { coverageMs: {} } }).opts).toEqual({ tiles: { coverageMs: {} } });
    const broken = { ...odd, spec: { ...odd.spec, slos: odd.spec.slos.map((s) => ({ ...s, window: "not-a-window" })) } };
    expect(ruleSetInputs(broken, { tiles: { coverageMs: { availability: 5 * HOUR } } }).opts).toEqual({ tiles: { coverageMs: { availability: 5 * HOUR } } });
  });

  it("forgets a deleted profile", () => {
    const memo = new RuleSetMemo(counted().render);
    memo.rendered(game, {});
    expect(memo.size).toBe(1);
    memo.forget(game.namespace, game.name);
    expect(memo.size).toBe(0);
    expect(memo.unchanged(game, {})).toBeUndefined();
  });

  it("holds at most maxProfiles, dropping the one asked for least recently", () => {
    const memo = new RuleSetMemo(counted().render, { maxProfiles: 2 });
    const named = (name: string) => ({ ...game, name });
    memo.rendered(named("a"), {});
    memo.rendered(named("b"), {});
    expect(memo.unchanged(named("a"), {})).toBeDefined(); // a is now the more recent
    memo.rendered(named("c"), {});
    expect(memo.size).toBe(2);
    expect(memo.unchanged(named("b"), {})).toBeUndefined();
    expect(memo.unchanged(named("a"), {})).toBeDefined();
    expect(memo.unchanged(named("c"), {})).toBeDefined();
  });
});
