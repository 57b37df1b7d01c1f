// What a rule set or a set of queries costs Prometheus, from the numbers Prometheus gives: the query
// statistics of /api/v1/query?stats=all and its own /metrics. Pure: the exchanges are the caller's.

import { parse } from "yaml";
import { parseDuration } from "../../src/api/duration.ts";
import { parseSelector, type Matcher } from "../../src/slo/promql.ts";

// ---------------------------------------------------------------------------------------------------
// Rules files

export interface RuleEntry {
  group: string;
  /** The group's evaluation interval in seconds (its own, else the global one). */
  intervalS: number;
  kind: "record" | "alert";
  /** The recorded series' name, or the alert's. */
  name: string;
  labels: Record<string, string>;
  expr: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every rule of a Prometheus rules file, recording and alerting alike, in file order. */
export function rulesOf(yamlText: string, globalIntervalS: number): RuleEntry[] {
  const file: unknown = parse(yamlText);
  if (!isRecord(file) || !Array.isArray(file.groups)) throw new Error("a rules file is an object with a list of groups");
  const out: RuleEntry[] = [];
  for (const g of file.groups as unknown[]) {
    if (!isRecord(g) || typeof g.name !== "string" || !Array.isArray(g.rules)) throw new Error("a rule group has a name and a list of rules");
    const intervalS = typeof g.interval === "string" ? parseDuration(g.interval) / 1000 : globalIntervalS;
    for (const r of g.rules as unknown[]) {
      if (!isRecord(r) || typeof r.expr !== "string") throw new Error(`group ${g.name} has a rule without an expression`);
      const record = typeof r.record === "string" ? r.record : undefined;
      const alert = typeof r.alert === "string" ? r.alert : undefined;
      const name = record ?? alert;
      if (name === undefined) throw new Error(`group ${g.name} has a rule that neither records nor alerts`);
      const labels: Record<string, string> = {};
      if (isRecord(r.labels)) for (const [k, v] of Object.entries(r.labels)) labels[k] = String(v);
      out.push({ group: g.name, intervalS, kind: record ? "record" : "alert", name, labels, expr: r.expr });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Query statistics

/** data.stats.samples.totalQueryableSamples of a query's answer (stats=all); throws when it is missing. */
export function queryableSamples(data: unknown): number {
  const stats = isRecord(data) ? data.stats : undefined;
  const samples = isRecord(stats) ? stats.samples : undefined;
  const total = isRecord(samples) ? samples.totalQueryableSamples : undefined;
  if (typeof total !== "number" || !Number.isFinite(total)) throw new Error("the answer has no data.stats.samples.totalQueryableSamples: was it asked with stats=all?");
  return total;
}

/**
 * data.stats.timings.evalTotalTime of a query's answer (stats=all), in seconds: the engine's own time,
 * without the HTTP exchange or the wait for a query slot.
 */
export function evalSeconds(data: unknown): number {
  const stats = isRecord(data) ? data.stats : undefined;
  const timings = isRecord(stats) ? stats.timings : undefined;
  const total = isRecord(timings) ? timings.evalTotalTime : undefined;
  if (typeof total !== "number" || !Number.isFinite(total)) throw new Error("the answer has no data.stats.timings.evalTotalTime: was it asked with stats=all?");
  return total;
}

/** One rule's expression evaluated once at the measuring instant. */
export interface Evaluated {
  samples: number;
  /** Series in its result: what a recording rule would write. */
  series: number;
  /** The engine's time for it (evalSeconds). */
  seconds: number;
}

/** A read of a series some rule of the same set records: the selector's matchers, and its range if any. */
export interface RecordedRead {
  metric: string;
  matchers: Matcher[];
  rangeS?: number;
  /** The read as the expression writes it, name, selector and range. */
  text: string;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The reads in `expr` of any name in `recorded`, with their matchers and ranges. */
export function recordedReads(expr: string, recorded: ReadonlySet<string>): RecordedRead[] {
  if (recorded.size === 0) return [];
  const names = [...recorded].sort((a, b) => b.length - a.length).map(escapeRegex).join("|");
  // Not inside a quoted label value, not part of a longer name.
  const re = new RegExp(`(?<![\\w:"'])(${names})(?![\\w:])\\s*(\\{[^}]*\\})?\\s*(?:\\[\\s*([0-9a-z]+)\\s*\\])?`, "g");
  const out: RecordedRead[] = [];
  for (const m of expr.matchAll(re)) {
    const [text = "", metric = "", selector, range] = m;
    out.push({ metric, matchers: selector ? parseSelector(selector) : [], ...(range ? { rangeS: parseDuration(range) / 1000 } : {}), text: text.trim() });
  }
  return out;
}

function unquote(raw: string): string {
  if (raw.startsWith('"')) return JSON.parse(raw) as string;
  return raw.slice(1, -1);
}

/**
 * Whether the recording rule writes series `read` selects: its name, and every equality matcher on a
 * label the rule sets. Matchers on labels that come from the expression's result, and regex matchers,
 * are taken to match: a read selects at most what its rule records.
 */
function writes(rule: RuleEntry, read: RecordedRead): boolean {
  if (rule.kind !== "record" || rule.name !== read.metric) return false;
  return read.matchers.every((m) => m.op !== "=" || !(m.name in rule.labels) || rule.labels[m.name] === unquote(m.rawValue));
}

export interface SetSamples {
  /** Samples the expressions read at the measuring instant, per cycle (each rule weighted as below). */
  measured: number;
  /** The engine's time for all of them, one at a time, in seconds per cycle. */
  seconds: number;
  /**
   * Samples of series the set records itself that its expressions would read at steady state, per
   * cycle: a read over [r] of a series a rule writes every interval i reads ceil(r/i) samples of each
   * series the rule writes (as counted at the instant), an instant read one. The ceiling because
   * Tollgate's tile sums read a millisecond less than the window, so that exactly window/i tiles fall in it.
   */
  recorded: number;
  /**
   * What the same reads of recordings took at the instant, per cycle (from `recordedAtInstant`): the
   * measuring instant is the end of the backfill, where recordings exist only if they were backfilled
   * too. It is replaced by `recorded`, so a recording counts the same with history or without.
   */
  recordedAtInstant: number;
  /** At steady state: measured − recordedAtInstant + recorded. */
  total: number;
}

/**
 * A rule's share of one cycle: a rule in a group evaluated every 5 minutes runs once in ten cycles of
 * 30 s, so what it reads and spends counts a tenth per cycle.
 */
export function cycleWeight(rule: Pick<RuleEntry, "intervalS">, cycleS: number): number {
  return cycleS / rule.intervalS;
}

/** Samples of a series written every `intervalS` that a read over `rangeS` holds at steady state. */
export function samplesInRange(rangeS: number, intervalS: number): number {
  // In whole milliseconds, so that 30d / 30s is 86,400 and not a float's hair more.
  return Math.ceil(Math.round(rangeS * 1000) / Math.round(intervalS * 1000));
}

/** The names of the series the set's recording rules write. */
export function recordedNames(rules: readonly RuleEntry[]): Set<string> {
  return new Set(rules.filter((r) => r.kind === "record").map((r) => r.name));
}

/**
 * A query that reads exactly what `rule`'s expression reads of the set's own recordings (each read as
 * the expression writes it, duplicates kept), so that its totalQueryableSamples is the part of the
 * rule's samples that came from recordings; undefined when the rule reads none.
 */
export function recordedReadsQuery(rule: RuleEntry, recorded: ReadonlySet<string>): string | undefined {
  const reads = recordedReads(rule.expr, recorded);
  if (reads.length === 0) return undefined;
  // `or` evaluates both sides whatever they hold; count_over_time keeps a range read a valid expression.
  return reads.map((r) => (r.rangeS === undefined ? `(${r.text})` : `count_over_time(${r.text})`)).join(" or ");
}

/**
 * The samples a rule set reads per cycle of `cycleS` (the global evaluation interval), from each rule
 * evaluated once; `recordedAtInstant[i]`, when given, is what rule i's reads of recordings took then.
 */
export function setSamples(rules: readonly RuleEntry[], evaluated: readonly Evaluated[], cycleS: number, recordedAtInstant: readonly number[] = []): SetSamples {
  if (evaluated.length !== rules.length) throw new Error(`${evaluated.length} evaluations for ${rules.length} rules`);
  const names = recordedNames(rules);
  const byName = new Map<string, Array<{ rule: RuleEntry; series: number }>>();
  rules.forEach((rule, i) => {
    if (rule.kind !== "record") return;
    byName.set(rule.name, [...(byName.get(rule.name) ?? []), { rule, series: evaluated[i]?.series ?? 0 }]);
  });
  let measured = 0;
  let recorded = 0;
  let atInstant = 0;
  let seconds = 0;
  rules.forEach((rule, i) => {
    const weight = cycleWeight(rule, cycleS);
    measured += weight * (evaluated[i]?.samples ?? 0);
    seconds += weight * (evaluated[i]?.seconds ?? 0);
    atInstant += weight * (recordedAtInstant[i] ?? 0);
    for (const read of recordedReads(rule.expr, names)) {
      for (const w of byName.get(read.metric) ?? []) {
        if (!writes(w.rule, read)) continue;
        recorded += weight * w.series * (read.rangeS === undefined ? 1 : samplesInRange(read.rangeS, w.rule.intervalS));
      }
    }
  });
  return { measured, seconds, recorded, recordedAtInstant: atInstant, total: measured - atInstant + recorded };
}

// ---------------------------------------------------------------------------------------------------
// Prometheus's own /metrics

export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of one metric in a text exposition (Prometheus's format, as its /metrics serves). */
export function metricSamples(text: string, name: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== "{" && rest[0] !== " ") continue;
    const close = rest[0] === "{" ? rest.lastIndexOf("}") : -1;
    const labels: Record<string, string> = {};
    if (close > 0) for (const m of rest.slice(1, close).matchAll(LABEL)) labels[m[1] ?? ""] = (m[2] ?? "").replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    const value = Number(rest.slice(close + 1).trim().split(" ")[0]);
    out.push({ labels, value });
  }
  return out;
}

/** Per rule group (Prometheus's rule_group label, "file;name"), what the rules manager reports. */
export interface GroupMetrics {
  /** prometheus_rule_group_interval_seconds. */
  intervalS: number;
  rules: number;
  evaluations: number;
  lastDurationS: number;
  missed: number;
  failures: number;
}

export function groupMetrics(text: string): Map<string, GroupMetrics> {
  const out = new Map<string, GroupMetrics>();
  const get = (g: string) => {
    let m = out.get(g);
    if (!m) out.set(g, (m = { intervalS: NaN, rules: 0, evaluations: 0, lastDurationS: 0, missed: 0, failures: 0 }));
    return m;
  };
  const each = (name: string, f: (m: GroupMetrics, v: number) => void) => {
    for (const s of metricSamples(text, name)) {
      const g = s.labels.rule_group;
      if (g !== undefined) f(get(g), s.value);
    }
  };
  each("prometheus_rule_group_interval_seconds", (m, v) => (m.intervalS = v));
  each("prometheus_rule_group_rules", (m, v) => (m.rules = v));
  each("prometheus_rule_evaluations_total", (m, v) => (m.evaluations += v));
  each("prometheus_rule_group_last_duration_seconds", (m, v) => (m.lastDurationS = v));
  each("prometheus_rule_group_iterations_missed_total", (m, v) => (m.missed += v));
  each("prometheus_rule_evaluation_failures_total", (m, v) => (m.failures += v));
  return out;
}

/**
 * Full evaluations every group has finished: the least, over groups, of evaluations / rules. With
 * `intervalS`, over the groups evaluated that often only.
 */
export function completedRounds(groups: ReadonlyMap<string, GroupMetrics>, intervalS?: number): number {
  let least = Infinity;
  for (const g of groups.values()) {
    if (intervalS !== undefined && g.intervalS !== intervalS) continue;
    least = Math.min(least, g.rules > 0 ? Math.floor(g.evaluations / g.rules) : 0);
  }
  return Number.isFinite(least) ? least : 0;
}

/** Rule evaluations of the groups evaluated every `intervalS`, and how many rules they hold. */
export function evaluationsAt(groups: ReadonlyMap<string, GroupMetrics>, intervalS: number): { evaluations: number; rules: number } {
  let evaluations = 0;
  let rules = 0;
  for (const g of groups.values()) {
    if (g.intervalS !== intervalS) continue;
    evaluations += g.evaluations;
    rules += g.rules;
  }
  return { evaluations, rules };
}

/**
 * Σ over groups of the last evaluation's duration, each weighted by its share of a cycle (cycleS over
 * its interval), in seconds: the rules manager's time per cycle.
 */
export function cycleLastDurationS(groups: ReadonlyMap<string, GroupMetrics>, cycleS: number): number {
  let s = 0;
  for (const g of groups.values()) s += g.lastDurationS * (Number.isFinite(g.intervalS) && g.intervalS > 0 ? cycleS / g.intervalS : 1);
  return s;
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}
