import type { RulesFileWriter } from "../../prometheus/rules-file.ts";
import type { PrometheusRuleApplier } from "../rules.ts";
import type { Actuator, ActContext } from "./actuator.ts";
import type { RulesAction } from "./actions.ts";

/**
 * A profile's recording rules and the alerts that read them, where its Prometheus loads them: a rule
 * file in the rules directory when one is set, else a PrometheusRule object (deleted with its profile
 * by garbage collection).
 * A failed write is logged, not thrown: rules applied before still record, and missing series read
 * as no data, which never acts.
 */
export class RulesActuator implements Actuator<RulesAction> {
  private readonly rulesFile: RulesFileWriter | undefined;
  private readonly prometheusRules: PrometheusRuleApplier | undefined;

  constructor(opts: { rulesFile?: RulesFileWriter; prometheusRules?: PrometheusRuleApplier }) {
    this.rulesFile = opts.rulesFile;
    this.prometheusRules = opts.prometheusRules;
  }

  async act(a: RulesAction, ctx: ActContext): Promise<boolean> {
    const name = ctx.profile.metadata?.name ?? "";
    if (a.op === "remove") {
      this.prometheusRules?.forget(ctx.namespace, name);
      await this.rulesFile?.remove(ctx.namespace, name);
      return false;
    }
    if (!ctx.slo) return false;
    const opts = a.tiles ? { tiles: a.tiles } : {};
    try {
      const result = this.rulesFile
        ? ctx.prometheusUrl !== undefined
          ? await this.rulesFile.ensure(ctx.slo, ctx.prometheusUrl, opts)
          : undefined
        : await this.prometheusRules?.ensure(ctx.slo, ctx.profile.metadata?.uid, opts);
      if (result?.changed) ctx.log.info({ target: this.rulesFile ? "file" : "PrometheusRule", problems: result.problems.length }, "recording rules updated");
      return result?.changed ?? false;
    } catch (err) {
      ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, "recording rules could not be written; reading what Prometheus records");
      return false;
    }
  }
}
