import { formatDuration, parseDuration } from "../api/duration.ts";
import { errorBudget } from "./budget.ts";
import { isPlanError, planProfile, type SloPlan, type SloProfile } from "./plan.ts";
import { plainDecimal, quoteLabelValue } from "./promql.ts";
import { ERROR_RATIO_RECORD, ruleGroupName, type AlertingRule, type RuleGroup, type RuleProblem } from "./rules.ts";
import { burnAlerts, type ScaledBurnAlert, type WindowOptions } from "./windows.ts";

/**
 * Alerting rules: the SRE Workbook's multi-window burn-rate alerts and an absent-metrics alert per SLO,
 * and alerts on Tollgate itself. The SLO alerts read only the error ratios the profile's recording rules
 * write (rules.ts), never raw series, so a 3-day window costs one sample per evaluation.
 */

/** Fires while an SLO burns its budget faster than one of the Workbook's pairs allows. Labels: severity, namespace, profile, slo, long_window, short_window. */
export const BURN_ALERT = "TollgateSloErrorBudgetBurn";
/** Fires while an SLO has had no error ratio to alert on for as long as its fastest page looks back. */
export const ABSENT_ALERT = "TollgateSloMetricsAbsent";

export interface AlertOptions extends WindowOptions {
  /** Evaluation interval of the group; defaults to the profile's policy.evaluationInterval, as its recording rules. */
  interval?: string;
}

export function alertGroupName(namespace: string, profile: string): string {
  return `${ruleGroupName(namespace, profile)}/alerts`;
}

/**
 * A profile's SLO alerts as one group: per SLO, a burn alert per Workbook pair and the absent-metrics
 * alert. An SLO that cannot be measured has no recorded series and gets no alerts, as in rules.ts;
 * its problem is returned instead.
 */
export function profileAlertGroup(profile: SloProfile, opts: AlertOptions = {}): { group: RuleGroup<AlertingRule>; problems: RuleProblem[] } {
  const windowOpts: WindowOptions = opts.minBurnWindowMs === undefined ? {} : { minBurnWindowMs: opts.minBurnWindowMs };
  const rules: AlertingRule[] = [];
  const problems: RuleProblem[] = [];
  for (const plan of planProfile(profile, windowOpts).slos) {
    if (isPlanError(plan)) {
      problems.push({ namespace: profile.namespace, profile: profile.name, slo: plan.slo.name, error: plan.error });
      continue;
    }
    const pairs = distinctPairs(burnAlerts(plan.window, windowOpts));
    for (const pair of pairs) rules.push(burnAlert(profile, plan, pair));
    const fastest = pairs.reduce((a, b) => (b.long.ms < a.long.ms ? b : a));
    rules.push(absentAlert(profile, plan, fastest));
  }
  return { group: { name: alertGroupName(profile.namespace, profile.name), interval: opts.interval ?? profile.spec.policy.evaluationInterval, rules }, problems };
}

/**
 * With a short SLO window several pairs scale onto the floor and so onto the same two windows; of
 * those, the lowest factor of a severity fires whenever a higher one would, and two alerts with the
 * same labels would be one alert to Alertmanager.
 */
function distinctPairs(pairs: readonly ScaledBurnAlert[]): ScaledBurnAlert[] {
  return pairs.filter(
    (p) => !pairs.some((q) => q.severity === p.severity && q.long.ms === p.long.ms && q.short.ms === p.short.ms && q.factor < p.factor),
  );
}

function ratioSelector(profile: SloProfile, slo: string, window: string): string {
  const labels = { namespace: profile.namespace, profile: profile.name, slo, window };
  return `${ERROR_RATIO_RECORD}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${quoteLabelValue(v)}`)
    .join(",")}}`;
}

function sloLabels(profile: SloProfile, slo: string): Record<string, string> {
  return { namespace: profile.namespace, profile: profile.name, slo };
}

/** Figures for people: 2 rather than 2.0000000000000004, 0.1 rather than 0.09999999999999432. */
function figure(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/**
 * Strictly above factor × budget on both windows, as in the Workbook and in the operator's own
 * firingBurnAlerts (budget.ts), so the alert and Tollgate's status agree on when a pair fires. No
 * `for`: the short window already stops a burn that has ended from paging, and a `for` would only
 * delay the page by its length.
 */
function burnAlert(profile: SloProfile, plan: SloPlan, pair: ScaledBurnAlert): AlertingRule {
  const slo = plan.slo.name;
  const budget = errorBudget(plan.slo.objective);
  const threshold = `(${figure(pair.factor)} * ${plainDecimal(budget)})`;
  // `window` differs between the two series; dropping it lets `and` match on namespace, profile and slo.
  const side = (window: string) => `max without (window) (${ratioSelector(profile, slo, window)} > ${threshold})`;
  const sloMs = parseDuration(plan.window);
  const spentPercent = figure((pair.factor * pair.long.ms * 100) / sloMs);
  const allOf = formatDuration(Math.round(sloMs / pair.factor / 1000) * 1000);
  const who = `SLO ${slo} of ${profile.namespace}/${profile.name}`;
  return {
    alert: BURN_ALERT,
    expr: `${side(pair.long.window)} and ${side(pair.short.window)}`,
    labels: { severity: pair.severity, ...sloLabels(profile, slo), long_window: pair.long.window, short_window: pair.short.window },
    annotations: {
      summary: `${who} is burning its error budget at over ${figure(pair.factor)}× (last ${pair.long.window} and last ${pair.short.window})`,
      description:
        `Over both the last ${pair.long.window} and the last ${pair.short.window}, more than ${figure(pair.factor * budget * 100)} % of the events of ${who} failed: ` +
        `over ${figure(pair.factor)} × its ${figure(budget * 100)} % error budget (objective ${figure(plan.slo.objective)} % over ${plan.window}). ` +
        `At that rate ${spentPercent} % of the budget goes every ${pair.long.window}, and all of it within ${allOf}.`,
    },
  };
}

/**
 * The error ratio over the fastest page's short window is absent when its recording rules are not
 * loaded or the indicator's metrics do not exist, and NaN (0/0) when the workload served nothing;
 * either way no burn alert of the SLO can fire. The `for` is the fastest page's long window: once the
 * short window has had no ratio for that long, that page could not have fired on anything in its
 * whole look-back, and a quiet spell shorter than that (a low-traffic service at night) is no alert.
 * Ticket, not page: nothing is known to be failing, only unwatched.
 */
function absentAlert(profile: SloProfile, plan: SloPlan, fastest: ScaledBurnAlert): AlertingRule {
  const slo = plan.slo.name;
  const ratio = ratioSelector(profile, slo, fastest.short.window);
  const who = `SLO ${slo} of ${profile.namespace}/${profile.name}`;
  return {
    alert: ABSENT_ALERT,
    // NaN is the one value not equal to itself, so this drops a NaN ratio as absent() would a missing one.
    // absent() of an expression has no labels of its own: the rule's labels name the SLO.
    expr: `absent(${ratio} == ${ratio})`,
    for: fastest.long.window,
    labels: { severity: "ticket", ...sloLabels(profile, slo) },
    annotations: {
      summary: `${who} has had no error ratio for ${fastest.long.window}; its burn-rate alerts cannot fire`,
      description:
        `Tollgate's recorded error ratio of ${who} over ${fastest.short.window} (${ERROR_RATIO_RECORD}) has been missing or undefined for ${fastest.long.window}: ` +
        `the profile's recording rules are not loaded, the indicator's metrics do not exist, or the workload served no requests. ` +
        `Until it returns, no burn-rate alert of this SLO can fire.`,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Tollgate's own alerts, from its /metrics (src/metrics/slo-metrics.ts, src/runtime/metrics.ts)

export const OPERATOR_ALERT_GROUP = "tollgate/operator";
export const PROMETHEUS_READS_ALERT = "TollgatePrometheusReadsFailing";
export const RECONCILE_ERRORS_ALERT = "TollgateReconcileErrors";
export const FROZEN_ALERT = "TollgateProfileFrozenLong";

/**
 * - Reads failing: a failed read means no verdict, so the policy holds and canaries wait; errors in
 *   every 5 minutes for 10 minutes is an outage rather than a blip. Summed over the failure kinds,
 *   which alternate (unreachable, timeout) while a Prometheus restarts.
 * - Reconcile errors: a conflicting status write fails a reconcile too and is retried after a short
 *   backoff, so a few are normal; more than a tenth of reconciles failing for 10 minutes is not. A profile stuck alone
 *   among many stays under the share and shows in its own conditions instead.
 * - Frozen longer than a day: from the phase gauge, as no metric says since when a profile is frozen,
 *   so the day counts from the first evaluation that saw it frozen and starts again after a gap in
 *   the gauge (the operator restarting, or leadership moving). Only the leader's gauge counts: a
 *   replica that lost leadership keeps exporting the last phase it saw.
 */
export function operatorAlertGroup(opts: { interval?: string } = {}): RuleGroup<AlertingRule> {
  return {
    name: OPERATOR_ALERT_GROUP,
    ...(opts.interval !== undefined ? { interval: opts.interval } : {}),
    rules: [
      {
        alert: PROMETHEUS_READS_ALERT,
        expr: "sum by (mode) (increase(tollgate_prometheus_query_errors_total[5m])) > 0",
        for: "10m",
        labels: { severity: "ticket" },
        annotations: {
          summary: "Tollgate cannot read Prometheus ({{ $labels.mode }} reads)",
          description:
            "Tollgate's {{ $labels.mode }} reads from Prometheus have kept failing for 10 minutes (tollgate_prometheus_query_errors_total says of which kind). " +
            "Without measurements no SLO has a verdict: budgets are not updated, the policy holds its state and canaries wait.",
        },
      },
      {
        alert: RECONCILE_ERRORS_ALERT,
        expr:
          "sum by (controller) (rate(tollgate_reconcile_errors_total[5m])) / sum by (controller) (rate(tollgate_reconcile_duration_seconds_count[5m])) > 0.1",
        for: "10m",
        labels: { severity: "ticket" },
        annotations: {
          summary: "Over 10 % of Tollgate's {{ $labels.controller }} reconciles fail",
          description:
            "More than a tenth of the {{ $labels.controller }} controller's reconciles have failed for 10 minutes (now {{ $value | humanizePercentage }}). " +
            "Failed reconciles are retried with backoff; the operator's log says why they fail.",
        },
      },
      {
        alert: FROZEN_ALERT,
        expr: '(tollgate_profile_phase{phase="Frozen"} == 1) and on (job, instance) (tollgate_leader == 1)',
        for: "1d",
        labels: { severity: "ticket" },
        annotations: {
          summary: "Profile {{ $labels.namespace }}/{{ $labels.profile }} has been frozen for over a day",
          description:
            "Deployments of {{ $labels.namespace }}/{{ $labels.profile }} have been frozen for more than a day: its error budget is spent. " +
            "The freeze lifts when consumption falls below the policy's unfreezeBelow, or by an override.",
        },
      },
    ],
  };
}
