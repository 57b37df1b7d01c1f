import { formatDuration, parseDuration } from "../api/duration.ts";
import { isPlanError, planProfile, type PlanOptions, type SloProfile } from "./plan.ts";
import { rulesYaml } from "./rules-yaml.ts";
import { BAD_TILE_RECORD, EVENTS_TILE_RECORD, TILE_LABEL, TILES_SINCE_RECORD } from "./tiles.ts";

/**
 * Recording rules that precompute every SLO's error ratios, so one instant query per series name
 * reads all profiles at once. One series name per quantity with the window as a label (instead of
 * a name per window) keeps the read O(1) however many windows the SLO windows scale to.
 */

/** Error ratio of one SLO over `window`. Labels: namespace, profile, slo, window. */
export const ERROR_RATIO_RECORD = "tollgate_slo:error_ratio:rate";
/** Events of one SLO over its SLO window. Labels: namespace, profile, slo, window. */
export const EVENTS_RECORD = "tollgate_slo:events:increase";

/**
 * Series a ratio SLO's own errors or total expression returns over the shortest window (SloPlan's
 * seriesCounts). Labels: namespace, profile, slo, window, and part (errors or total). Absent when the
 * expression has no series.
 */
export const SERIES_COUNT_RECORD = "tollgate_slo:ratio_series:count";

export const RULE_LABELS = ["namespace", "profile", "slo", "window"] as const;

export interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}

/** An alerting rule (src/slo/alerts.ts). */
export interface AlertingRule {
  alert: string;
  expr: string;
  /** How long expr must hold before the alert fires; omitted, it fires at the first evaluation that holds. */
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup<R extends RecordingRule | AlertingRule = RecordingRule> {
  name: string;
  /** How often Prometheus evaluates the group; omitted means its global evaluation_interval. */
  interval?: string;
  rules: R[];
}

/** Either kind of rule; Prometheus takes both in one group, Tollgate keeps them in groups of their own. */
export type Rule = RecordingRule | AlertingRule;

export interface RulesFile {
  groups: Array<RuleGroup<Rule>>;
}

/** An SLO left out of the rules because it cannot be measured as written. */
export interface RuleProblem {
  namespace: string;
  profile: string;
  slo: string;
  error: string;
}

export interface RuleOptions extends PlanOptions {
  /**
   * Evaluation interval of every group. Defaults to the profile's policy.evaluationInterval: Tollgate
   * reads no more often than that, and recording less often would delay a budget crossing.
   */
  interval?: string;
}

export function ruleGroupName(namespace: string, profile: string): string {
  return `tollgate/${namespace}/${profile}`;
}

/**
 * One group per profile: groups evaluate concurrently and rules within one sequentially, so a
 * profile's expensive SLO-window rules never hold up another profile's.
 */
export function profileRuleGroup(profile: SloProfile, opts: RuleOptions = {}): { group: RuleGroup; tiles?: RuleGroup; sums?: RuleGroup; problems: RuleProblem[] } {
  const rules: RecordingRule[] = [];
  const tiles: RecordingRule[] = [];
  const sums: RecordingRule[] = [];
  let tileInterval: string | undefined;
  const problems: RuleProblem[] = [];
  for (const plan of planProfile(profile, opts).slos) {
    if (isPlanError(plan)) {
      problems.push({ namespace: profile.namespace, profile: profile.name, slo: plan.slo.name, error: plan.error });
      continue;
    }
    const labels = (window: string) => ({ namespace: profile.namespace, profile: profile.name, slo: plan.slo.name, window });
    // Counts first: a group's rules run in order at one timestamp, so whoever reads an SLO's error ratio
    // also reads the count of the same evaluation and never takes a sum of several series unchecked.
    for (const c of plan.seriesCounts) rules.push({ record: SERIES_COUNT_RECORD, expr: c.expr, labels: { ...labels(c.window), part: c.part } });
    const tiled = new Set(plan.tiledWindows);
    for (const r of plan.errorRatios) (tiled.has(r.window) ? sums : rules).push({ record: ERROR_RATIO_RECORD, expr: r.expr, labels: labels(r.window) });
    (tiled.has(plan.window) ? sums : rules).push({ record: EVENTS_RECORD, expr: plan.events, labels: labels(plan.window) });
    if (plan.tiles) {
      tileInterval = plan.tiles.interval;
      const tileLabels = { namespace: profile.namespace, profile: profile.name, slo: plan.slo.name, [TILE_LABEL]: plan.tiles.digest };
      // The run's start last: it reads the events tile of this same evaluation.
      tiles.push(
        { record: BAD_TILE_RECORD, expr: plan.tiles.bad, labels: tileLabels },
        { record: EVENTS_TILE_RECORD, expr: plan.tiles.events, labels: tileLabels },
        { record: TILES_SINCE_RECORD, expr: plan.tiles.since, labels: tileLabels },
      );
    }
  }
  const interval = opts.interval ?? profile.spec.policy.evaluationInterval;
  const name = ruleGroupName(profile.namespace, profile.name);
  return {
    group: { name, interval, rules },
    // The tiles' own group runs once per tile, so consecutive tiles meet edge to edge.
    ...(tileInterval ? { tiles: { name: `${name}/tiles`, interval: tileInterval, rules: tiles } } : {}),
    ...(tileInterval && sums.length > 0 ? { sums: { name: `${name}/sums`, interval: sumsInterval(interval, tileInterval), rules: sums } } : {}),
    problems,
  };
}

/**
 * A sum of tiles changes only when a tile is added, so evaluating it every interval repeats the same
 * figure; twice per tile keeps each recorded value within Prometheus's 5-minute lookback at the default
 * tile, and the figure at most half a tile later than it could be. Never more often than the profile's
 * own interval.
 */
function sumsInterval(interval: string, tile: string): string {
  return formatDuration(Math.max(parseDuration(interval), parseDuration(tile) / 2));
}

/**
 * A profile's groups as they go into a rules file: its tiles, the windows summed from them, then the
 * windows read raw (where groups run in step, as in promtool's tests, the sums then see the tile of
 * the same instant); none when every SLO is unmeasurable. Recording rules only: what Tollgate writes
 * for a profile, the alerts that read them included, is profileRuleSet (profile-rules.ts).
 */
export function profileRuleGroups(profile: SloProfile, opts: RuleOptions = {}): { groups: RuleGroup[]; problems: RuleProblem[] } {
  const { group, tiles, sums, problems } = profileRuleGroup(profile, opts);
  return { groups: [...(tiles ? [tiles] : []), ...(sums ? [sums] : []), ...(group.rules.length > 0 ? [group] : [])], problems };
}

/** Recording-rule groups for many profiles (no alerts: see profileRuleGroups). */
export function ruleGroups(profiles: readonly SloProfile[], opts: RuleOptions = {}): { groups: RuleGroup[]; problems: RuleProblem[] } {
  const groups: RuleGroup[] = [];
  const problems: RuleProblem[] = [];
  for (const p of profiles) {
    const r = profileRuleGroups(p, opts);
    groups.push(...r.groups);
    problems.push(...r.problems);
  }
  return { groups, problems };
}

/** A Prometheus rules file (rule_files), as YAML: recording rules, alerts, or both. */
export function rulesFileYaml(groups: ReadonlyArray<RuleGroup<Rule>>): string {
  return rulesYaml(groups);
}
