// Tollgate's tiles as the bench backfills and checks them. Everything about a tile (its PromQL, its
// labels, its group's interval) comes from the rule groups src/slo/rules.ts makes with tiles on; only
// the two tile record names are known here, to pick the tile rules out of those groups.

import { parseDuration } from "../../src/api/duration.ts";
import type { RecordingRule, RuleGroup } from "../../src/slo/rules.ts";
import { BAD_TILE_RECORD, EVENTS_TILE_RECORD } from "../../src/slo/tiles.ts";
import { formatSelector } from "../../src/slo/promql.ts";
import { quantile, recordedReads } from "./stats.ts";

/** What is backfilled: the tiles themselves. Any other rule of a tiles group (the run's start) is not. */
export const TILE_RECORDS: ReadonlySet<string> = new Set([BAD_TILE_RECORD, EVENTS_TILE_RECORD]);

function isTileRule(rule: RecordingRule): boolean {
  return TILE_RECORDS.has(rule.record);
}

function tileKey(rule: RecordingRule, interval: string | undefined): string {
  return JSON.stringify([rule.record, rule.expr, interval ?? ""]);
}

function quote(value: string): string {
  // A JSON string is a valid PromQL double-quoted string: the escapes it writes are Go's.
  return JSON.stringify(value);
}

function selectorOf(labels: Record<string, string>): string {
  return formatSelector(
    Object.keys(labels)
      .sort()
      .map((name) => ({ name, op: "=" as const, rawValue: quote(labels[name] ?? "") })),
  );
}

export interface TileBackfillPlan {
  /** The tile rules to evaluate from the raw series, in their groups (same names and intervals). */
  sources: RuleGroup[];
  /**
   * For every other tile rule with the same record, PromQL and interval as a source (another profile of
   * the same workload and SLOs), a copy of that source's tiles relabelled as its own: the values its own
   * rule would record from the same raw series, without evaluating them again. One rule per source.
   */
  copies: RuleGroup[];
  sourceRules: number;
  copiedRules: number;
  /** The tile interval, in ms: every tiles group's. */
  tileMs: number;
}

/**
 * Splits the tile rules of `groups` (as ruleGroups(profiles, { tiles: true }) returns them) into the
 * ones to backfill from raw series and the copies of them; throws when the tiles groups do not share
 * one interval.
 */
export function planTileBackfill(groups: readonly RuleGroup[]): TileBackfillPlan {
  const sources: RuleGroup[] = [];
  const firstOf = new Map<string, { group: RuleGroup; rule: RecordingRule; targets: RecordingRule[] }>();
  const intervals = new Set<string>();
  for (const g of groups) {
    const tiles = g.rules.filter(isTileRule);
    if (tiles.length === 0) continue;
    if (g.interval === undefined) throw new Error(`the tiles group ${g.name} has no interval of its own`);
    intervals.add(g.interval);
    const own: RecordingRule[] = [];
    for (const rule of tiles) {
      const key = tileKey(rule, g.interval);
      const first = firstOf.get(key);
      if (first) first.targets.push(rule);
      else {
        firstOf.set(key, { group: g, rule, targets: [] });
        own.push(rule);
      }
    }
    if (own.length > 0) sources.push({ name: g.name, interval: g.interval, rules: own });
  }
  if (intervals.size > 1) throw new Error(`the tiles groups have different intervals: ${[...intervals].join(", ")}`);
  const [interval] = intervals;
  const copiesByGroup = new Map<string, RuleGroup>();
  let copiedRules = 0;
  for (const { group, rule, targets } of firstOf.values()) {
    if (targets.length === 0) continue;
    const source = `${rule.record}${selectorOf(rule.labels)}`;
    const expr = targets
      .map((t) => {
        let e = source;
        const names = new Set([...Object.keys(rule.labels), ...Object.keys(t.labels)]);
        for (const name of [...names].sort()) {
          const value = t.labels[name] ?? "";
          if ((rule.labels[name] ?? "") !== value) e = `label_replace(${e}, ${quote(name)}, ${quote(value)}, "", "")`;
        }
        return e;
      })
      .join(" or ");
    const name = `${group.name}/copies`;
    let g = copiesByGroup.get(name);
    if (!g) copiesByGroup.set(name, (g = { name, ...(group.interval !== undefined ? { interval: group.interval } : {}), rules: [] }));
    // No labels of its own: every label, the name aside, comes from the relabelled source.
    g.rules.push({ record: rule.record, expr, labels: {} });
    copiedRules += targets.length;
  }
  return {
    sources,
    copies: [...copiesByGroup.values()],
    sourceRules: firstOf.size,
    copiedRules,
    tileMs: interval === undefined ? NaN : parseDuration(interval),
  };
}

/**
 * The profiles whose tiles are all sources: the first, in order, to have tiles of their PromQL. Their
 * tiles come from their own rules' expressions, and only theirs are compared with the raw windows.
 */
export function sourceProfiles<P>(profiles: readonly P[], groupsOf: (p: P) => readonly RuleGroup[]): P[] {
  const seen = new Set<string>();
  return profiles.filter((p) => {
    const keys = groupsOf(p).flatMap((g) => g.rules.filter(isTileRule).map((r) => tileKey(r, g.interval)));
    const fresh = keys.length > 0 && keys.every((k) => !seen.has(k));
    for (const k of keys) seen.add(k);
    return fresh;
  });
}

/**
 * The span promtool backfills, on tile boundaries, in Unix seconds: from the last boundary at or before
 * the raw series begin (so a window of the whole backfill, read at any tile, has all its tiles; the
 * first ones, partly before the data, extrapolate as increase() does, like the raw read of the same
 * window) to the last boundary before they end. promtool places each evaluation as Prometheus does, at
 * the group's own phase within the tile, so the tiles fall where a Prometheus evaluating the group would
 * have put them.
 */
export function tileSpan(rawStartMs: number, rawEndMs: number, tileMs: number): { startS: number; endS: number } {
  return { startS: (Math.floor(rawStartMs / tileMs) * tileMs) / 1000, endS: (Math.floor(rawEndMs / tileMs) * tileMs) / 1000 };
}

// ---------------------------------------------------------------------------------------------------
// Accuracy

/** A rule that sums tiles, and the rule without tiles that records the same series. */
export interface TiledPair {
  record: string;
  labels: Record<string, string>;
  /** The window label, as the table groups by it. */
  window: string;
  tiled: string;
  raw: string;
  /** An instant read of one of the tile series the rule sums: where its latest tile is. */
  tileRead: string;
}

function labelsKey(record: string, labels: Record<string, string>): string {
  return JSON.stringify([record, Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/**
 * Every rule of `tiled` that sums tile records over a range, paired with the rule of `raw` that has the
 * same record and labels; throws when one has no counterpart.
 */
export function tiledPairs(tiled: readonly RuleGroup[], raw: readonly RuleGroup[]): TiledPair[] {
  const rawByKey = new Map<string, RecordingRule>();
  for (const g of raw) for (const r of g.rules) rawByKey.set(labelsKey(r.record, r.labels), r);
  const out: TiledPair[] = [];
  for (const g of tiled) {
    for (const r of g.rules) {
      const reads = recordedReads(r.expr, TILE_RECORDS).filter((read) => read.rangeS !== undefined);
      const [first] = reads;
      if (!first) continue;
      const counterpart = rawByKey.get(labelsKey(r.record, r.labels));
      if (!counterpart) throw new Error(`the tiled rule ${r.record}${selectorOf(r.labels)} has no rule without tiles to compare with`);
      out.push({
        record: r.record,
        labels: r.labels,
        window: r.labels.window ?? "",
        tiled: r.expr,
        raw: counterpart.expr,
        tileRead: `${first.metric}${formatSelector(first.matchers)}`,
      });
    }
  }
  return out;
}

export type Comparison =
  | { kind: "relative"; percent: number }
  /** The raw value is 0 and the tiled one is not: no relative error; the absolute difference. */
  | { kind: "raw-zero"; absolute: number }
  /** Neither has a value (no events: 0/0), which is agreement. */
  | { kind: "no-data" }
  /** One has a value and the other has none. */
  | { kind: "one-missing" };

function present(v: number | undefined): v is number {
  return v !== undefined && !Number.isNaN(v);
}

/** |tiled − raw| / |raw| in per cent; both 0 is 0 %, a raw 0 against a tiled non-zero is set apart. */
export function compare(tiled: number | undefined, raw: number | undefined): Comparison {
  if (!present(tiled) && !present(raw)) return { kind: "no-data" };
  if (!present(tiled) || !present(raw)) return { kind: "one-missing" };
  if (raw === 0) return tiled === 0 ? { kind: "relative", percent: 0 } : { kind: "raw-zero", absolute: Math.abs(tiled) };
  return { kind: "relative", percent: (Math.abs(tiled - raw) / Math.abs(raw)) * 100 };
}

export interface ErrorSummary {
  /** Comparisons with a relative error. */
  n: number;
  maxPercent: number;
  medianPercent: number;
  /** Where the largest is, for the reader to look. */
  worst?: string;
  rawZero: number;
  rawZeroMaxAbsolute: number;
  noData: number;
  oneMissing: number;
}

export function summarize(comparisons: ReadonlyArray<{ what: string; c: Comparison }>): ErrorSummary {
  const relative = comparisons.flatMap(({ what, c }) => (c.kind === "relative" ? [{ what, percent: c.percent }] : []));
  const rawZero = comparisons.flatMap(({ c }) => (c.kind === "raw-zero" ? [c.absolute] : []));
  let worst: { what: string; percent: number } | undefined;
  for (const r of relative) if (!worst || r.percent > worst.percent) worst = r;
  return {
    n: relative.length,
    maxPercent: worst?.percent ?? NaN,
    medianPercent: quantile(
      relative.map((r) => r.percent),
      0.5,
    ),
    ...(worst ? { worst: worst.what } : {}),
    rawZero: rawZero.length,
    rawZeroMaxAbsolute: rawZero.length > 0 ? Math.max(...rawZero) : 0,
    noData: comparisons.filter(({ c }) => c.kind === "no-data").length,
    oneMissing: comparisons.filter(({ c }) => c.kind === "one-missing").length,
  };
}
