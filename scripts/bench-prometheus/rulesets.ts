// What the bench compares. A rule set is a function from profiles to a Prometheus rules file, loaded
// alone and measured the same way as every other; "direct" loads no rules and asks Tollgate's Direct
// mode queries instead. Another way of recording the same SLOs is one more entry here.

import type { SloProfile } from "../../src/slo/plan.ts";
import { ruleGroups, rulesFileYaml } from "../../src/slo/rules.ts";
import { slothRulesYaml } from "./sloth.ts";

export interface RuleSetContext {
  /** The sloth binary, built on first use. */
  sloth(): Promise<string>;
}

export interface RulesEntry {
  kind: "rules";
  name: string;
  description: string;
  rules(profiles: readonly SloProfile[], ctx: RuleSetContext): Promise<string>;
}

export interface QueriesEntry {
  kind: "queries";
  name: string;
  description: string;
}

export type BenchEntry = RulesEntry | QueriesEntry;

export const ENTRIES: readonly BenchEntry[] = [
  {
    kind: "rules",
    name: "tollgate",
    description: "the recording rules Tollgate writes today (src/slo/rules.ts)",
    async rules(profiles) {
      const { groups, problems } = ruleGroups(profiles);
      if (problems.length > 0) throw new Error(`Tollgate refused an SLO: ${problems[0]?.error ?? ""}`);
      return rulesFileYaml(groups);
    },
  },
  {
    kind: "rules",
    name: "sloth",
    description: "Sloth v0.16.0's rules for the same SLOs (sloth generate, default plugins and alerts)",
    async rules(profiles, ctx) {
      return slothRulesYaml(await ctx.sloth(), profiles);
    },
  },
  {
    kind: "queries",
    name: "direct",
    description: "no rules: Tollgate's Direct-mode instant queries, per profile",
  },
];
