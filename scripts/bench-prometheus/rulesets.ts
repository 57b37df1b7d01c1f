// What the bench compares. A rule set is a function from profiles to a Prometheus rules file, loaded
// alone and measured the same way as every other; "direct" loads no rules and asks Tollgate's Direct
// mode queries instead. Another way of recording the same SLOs is one more entry here. The one named
// TILES_ENTRY needs its tiles backfilled, which the bench does before measuring anything.

import type { SloProfile } from "../../src/slo/plan.ts";
import { profileRuleSet } from "../../src/slo/profile-rules.ts";
import { profileRuleGroups, rulesFileYaml, type RuleOptions } from "../../src/slo/rules.ts";
import { slothRulesYaml } from "./sloth.ts";

export interface RuleSetContext {
  /** The sloth binary, built on first use. */
  sloth(): Promise<string>;
}

export interface RulesEntry {
  kind: "rules";
  name: string;
  /** How the tables name it. */
  label: string;
  description: string;
  rules(profiles: readonly SloProfile[], ctx: RuleSetContext): Promise<string>;
}

export interface QueriesEntry {
  kind: "queries";
  name: string;
  label: string;
  description: string;
}

export type BenchEntry = RulesEntry | QueriesEntry;

export const TILES_ENTRY = "tollgate-tiles";

/** Recording rules alone, as Tollgate wrote them before tiles, or with the alerts that read them, as it writes them now. */
function tollgateRules(profiles: readonly SloProfile[], opts: RuleOptions, alerts: boolean): string {
  const sets = profiles.map((p) => (alerts ? profileRuleSet(p, opts) : profileRuleGroups(p, opts)));
  const problem = sets.flatMap((s) => s.problems)[0];
  if (problem) throw new Error(`Tollgate refused an SLO: ${problem.error}`);
  return rulesFileYaml(sets.flatMap((s) => s.groups));
}

export const ENTRIES: readonly BenchEntry[] = [
  {
    kind: "rules",
    name: "tollgate",
    label: "Tollgate before",
    description: "Tollgate's recording rules with every window read from raw series (src/slo/rules.ts, tiles off)",
    async rules(profiles) {
      return tollgateRules(profiles, {}, false);
    },
  },
  {
    kind: "rules",
    name: "tollgate-tiles",
    label: "Tollgate after",
    description:
      "Tollgate's rules as it writes them now: long windows summed from 5-minute tiles, and the burn-rate and absent-metrics alerts that read them (src/slo/profile-rules.ts with { tiles: true }; tiles backfilled for 30 days)",
    async rules(profiles) {
      return tollgateRules(profiles, { tiles: true }, true);
    },
  },
  {
    kind: "rules",
    name: "sloth",
    label: "Sloth",
    description: "Sloth v0.16.0's rules for the same SLOs (sloth generate, default plugins and alerts)",
    async rules(profiles, ctx) {
      return slothRulesYaml(await ctx.sloth(), profiles);
    },
  },
  {
    kind: "queries",
    name: "direct",
    label: "Direct",
    description: "no rules: Tollgate's Direct-mode instant queries, per profile",
  },
];
