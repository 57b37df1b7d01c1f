import type { KubeClient } from "./client.ts";
import { ApiError } from "./errors.ts";
import { Resources } from "./resources.ts";
import type { KubeObject } from "./types.ts";
import type { SloProfile } from "../slo/plan.ts";
import { prometheusRule, prometheusRuleName, type PrometheusRuleOptions } from "../slo/profile-rules.ts";
import { RuleSetMemo } from "../slo/rule-set-memo.ts";
import type { RuleOptions, RuleProblem } from "../slo/rules.ts";

export const PROMETHEUS_RULE_CRD = "prometheusrules.monitoring.coreos.com";

interface Crd extends KubeObject {
  spec?: { versions?: Array<{ name: string; served?: boolean }> };
}

/**
 * Recording rules and the alerts that read them as PrometheusRule objects, for clusters running
 * prometheus-operator: one per profile, owned by it so Kubernetes deletes it with the profile.
 */
export class PrometheusRuleApplier {
  private readonly client: KubeClient;
  private readonly recheckMs: number;
  private served: Promise<boolean> | undefined;
  /**
   * The digest of what was last applied per object, so an unchanged profile costs no API call per
   * cycle; a digest, not the body: one body is a profile's every rule, tens of KB.
   */
  private readonly applied = new Map<string, { digest: string; atMs: number }>();
  /** What each profile's object last rendered to, so a pass whose inputs did not change renders nothing. */
  private readonly memo = new RuleSetMemo((profile: SloProfile, opts: PrometheusRuleOptions) => {
    const { object, problems } = prometheusRule(profile, opts);
    return { object, problems, content: JSON.stringify(object) };
  });

  /** `recheckMs`: re-apply an unchanged object this often anyway, to restore one deleted by hand. */
  constructor(client: KubeClient, opts: { recheckMs?: number } = {}) {
    this.client = client;
    this.recheckMs = opts.recheckMs ?? 10 * 60_000;
  }

  /**
   * Whether the API serves PrometheusRule v1. Asked once: installing prometheus-operator later takes
   * an operator restart. A failed lookup (API unreachable) is not cached, so the next call asks again;
   * a refusal is (the chart's namespaced mode grants no CRD read), so it is asked once, not per reconcile.
   */
  crdServed(): Promise<boolean> {
    this.served ??= this.client.find<Crd>(Resources.CustomResourceDefinition, undefined, PROMETHEUS_RULE_CRD).then(
      (crd) => crd?.spec?.versions?.some((v) => v.name === Resources.PrometheusRule.version && v.served !== false) ?? false,
      (err: unknown) => {
        // Forbidden to read CRDs: assume absent rather than fail every reconcile.
        if (err instanceof ApiError && err.status === 403) return false;
        this.served = undefined;
        throw err;
      },
    );
    return this.served;
  }

  /** Applies the profile's PrometheusRule when it differs from what was last applied. */
  async ensure(profile: SloProfile, ownerUid: string | undefined, opts: RuleOptions = {}): Promise<{ changed: boolean; problems: RuleProblem[] }> {
    const ruleOpts = { ...opts, ownerUid };
    const key = `${profile.namespace}/${prometheusRuleName(profile.name)}`;
    const last = this.applied.get(key);
    const fresh = last !== undefined && Date.now() - last.atMs < this.recheckMs;
    const known = fresh ? this.memo.unchanged(profile, ruleOpts) : undefined;
    if (known && known.digest === last?.digest) return { changed: false, problems: known.problems };
    const { object, problems, digest: body } = this.memo.rendered(profile, ruleOpts);
    if (last?.digest === body && fresh) return { changed: false, problems };
    // force: the object is Tollgate's alone; a hand edit of its rules is undone, not a conflict.
    await this.client.apply(Resources.PrometheusRule, object as unknown as KubeObject, { force: true });
    this.applied.set(key, { digest: body, atMs: Date.now() });
    return { changed: last?.digest !== body, problems };
  }

  /** Forgets a deleted profile; its object goes with it by garbage collection. */
  forget(namespace: string, name: string): void {
    this.applied.delete(`${namespace}/${prometheusRuleName(name)}`);
    this.memo.forget(namespace, name);
  }
}
