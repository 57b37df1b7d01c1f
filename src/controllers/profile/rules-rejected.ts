import type { RulesFileWriter } from "../../prometheus/rules-file.ts";
import type { ReadMode } from "../../prometheus/slo-reader.ts";
import type { TenantCheck } from "./observe.ts";

/**
 * Refuses a profile whose rules file Prometheus refused (its parser, or a reload), as long as the
 * profile reads RecordingRules and its spec still makes those rules: Ready=False, RulesRejected, with
 * Prometheus's reason. An edited spec is judged afresh; a profile read Direct loads no rules.
 */
export function rulesRejectedCheck(rules: Pick<RulesFileWriter, "rejected">, readMode: ReadMode | undefined): TenantCheck {
  return (profile, spec) => {
    if ((spec.prometheus?.mode ?? readMode ?? "Direct") !== "RecordingRules") return undefined;
    const rejection = rules.rejected(profile.namespace, profile.name, { namespace: profile.namespace, name: profile.name, spec });
    return rejection ? { ...rejection, reason: "RulesRejected" } : undefined;
  };
}
