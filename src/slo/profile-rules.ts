import { operatorAlertGroup, profileAlertGroup } from "./alerts.ts";
import type { SloProfile } from "./plan.ts";
import { profileRuleGroups, type Rule, type RuleGroup, type RuleOptions, type RuleProblem, type RulesFile } from "./rules.ts";

/**
 * Everything Tollgate has Prometheus load for a profile read from recording rules: the recording rules
 * (rules.ts) and the alerts that read them (alerts.ts). The rules file, the PrometheusRule and
 * `tollgate rules` all take it from here, so what a pipeline ships is what the operator writes.
 */

/**
 * The profile's recording-rule groups, then its alert group. The alerts read the error ratios those
 * rules record, over the same burn windows (opts.minBurnWindowMs) and at the same interval; they come
 * last so that where groups run in step (promtool's tests) they see the ratios of the same instant.
 * An SLO that cannot be measured gets neither, and is one problem, not two.
 */
export function profileRuleSet(profile: SloProfile, opts: RuleOptions = {}): { groups: Array<RuleGroup<Rule>>; problems: RuleProblem[] } {
  const { groups, problems } = profileRuleGroups(profile, opts);
  const { group: alerts } = profileAlertGroup(profile, { interval: opts.interval, minBurnWindowMs: opts.minBurnWindowMs });
  // Both plan the same SLOs, but the recording rules decide: an alert on a ratio nothing records would
  // only ever say its metrics are absent.
  const unmeasured = new Set(problems.map((p) => p.slo));
  const rules = alerts.rules.filter((r) => !unmeasured.has(r.labels.slo ?? ""));
  return { groups: [...groups, ...(rules.length > 0 ? [{ ...alerts, rules }] : [])], problems };
}

export interface PrometheusRuleObject {
  apiVersion: "monitoring.coreos.com/v1";
  kind: "PrometheusRule";
  metadata: {
    name: string;
    /** Omitted only for Tollgate's own alerts printed without a namespace: kubectl's then applies. */
    namespace?: string;
    labels: Record<string, string>;
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }>;
  };
  spec: RulesFile;
}

export interface PrometheusRuleOptions extends RuleOptions {
  /** Extra labels, e.g. what the Prometheus's ruleSelector matches (release: prometheus). */
  labels?: Record<string, string>;
  /** The PerformanceProfile's uid, so the rules are garbage-collected with it. */
  ownerUid?: string;
  /**
   * Whether the operator applies and keeps the object (app.kubernetes.io/managed-by: tollgate); true
   * unless told. False for `tollgate rules`: a pipeline that ships the object manages it.
   */
  managed?: boolean;
}

export function prometheusRuleName(profile: string): string {
  return `${profile}-tollgate-slos`.slice(0, 253);
}

/**
 * A PrometheusRule per profile rather than one for all: one object for thousands of profiles would
 * pass etcd's object size limit, and per-profile objects are owned by (and deleted with) their profile.
 * It lives in the profile's namespace: a prometheus-operator that enforces a namespace label sets it
 * from the object's namespace, which is then the one the rules' own label names.
 */
export function prometheusRule(profile: SloProfile, opts: PrometheusRuleOptions = {}): { object: PrometheusRuleObject; problems: RuleProblem[] } {
  const { groups, problems } = profileRuleSet(profile, opts);
  const object: PrometheusRuleObject = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: prometheusRuleName(profile.name),
      namespace: profile.namespace,
      labels: {
        ...opts.labels,
        ...(opts.managed === false ? {} : { "app.kubernetes.io/managed-by": "tollgate" }),
        // Label values stop at 63 characters; longer profile names still own the object by ownerReference.
        ...(profile.name.length <= 63 ? { "tollgate.dev/profile": profile.name } : {}),
      },
    },
    spec: { groups },
  };
  if (opts.ownerUid) {
    object.metadata.ownerReferences = [
      { apiVersion: "tollgate.dev/v1alpha1", kind: "PerformanceProfile", name: profile.name, uid: opts.ownerUid, controller: true, blockOwnerDeletion: true },
    ];
  }
  return { object, problems };
}

export const OPERATOR_PROMETHEUS_RULE = "tollgate-operator-alerts";

/**
 * Tollgate's own alerts (operatorAlertGroup) as a PrometheusRule, for `tollgate rules --operator -o
 * prometheusrule`. The chart ships the same rules from `tollgate rules --operator` with its release's
 * labels (charts/tollgate/templates/operator-alerts.yaml).
 */
export function operatorPrometheusRule(opts: { namespace?: string; labels?: Record<string, string> } = {}): PrometheusRuleObject {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: OPERATOR_PROMETHEUS_RULE, ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}), labels: { ...opts.labels } },
    spec: { groups: [operatorAlertGroup()] },
  };
}
