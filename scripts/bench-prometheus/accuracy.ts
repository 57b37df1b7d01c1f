// How far windows summed from tiles are from the same windows read raw, on the bench's Prometheus with
// thirty days of backfilled tiles: each tiled rule's expression and its raw counterpart's, exactly as
// the rules have them, evaluated at the same instant.

import { parseDuration } from "../../src/api/duration.ts";
import type { SloProfile } from "../../src/slo/plan.ts";
import { ERROR_RATIO_RECORD, EVENTS_RECORD, ruleGroups } from "../../src/slo/rules.ts";
import { pool } from "./measure.ts";
import type { BenchPrometheus } from "./prometheus.ts";
import { compare, summarize, tiledPairs, type Comparison, type ErrorSummary, type TiledPair } from "./tiles.ts";

/** Two at a time, as the bench's other statistics queries: one per core. */
const CONCURRENCY = 2;

export interface AccuracyRow {
  window: string;
  /** The SLO's name (its rules' slo label). */
  slo: string;
  /** The record compared: the error ratio or the events. */
  record: string;
  /** At each SLO's last tile. */
  atTile: ErrorSummary;
  /** At the end of the backfill, where the last tile is up to one tile old. */
  atEnd: ErrorSummary;
  /**
   * For the error ratio, the largest |tiled − raw| / (1 − objective): the difference in burn rate,
   * which is what Tollgate compares with its thresholds. At the last tile, and at the end.
   */
  maxBurnRateDelta?: { atTile: number; atEnd: number };
}

export interface Accuracy {
  profiles: number;
  comparisons: number;
  rows: AccuracyRow[];
  /** The largest error-ratio error over every window and profile, at the last tile; NaN with none. */
  maxErrorRatioPercent: number;
  /** How far before the end of the backfill the last tiles were, in seconds: least and most. */
  tileAgeS: { min: number; max: number };
  notes: string[];
}

function windowMs(window: string): number {
  try {
    return parseDuration(window);
  } catch {
    return Infinity;
  }
}

/**
 * Compares, for every profile of `profiles` (their tiles backfilled from their own rules), each window
 * its rules sum from tiles with the same window read raw. Each SLO is compared at its last tile (its
 * tiles group's evaluations fall at the group's own phase within the tile, as Prometheus spreads
 * groups) and again at `end`, where a tiled window ends up to one tile early.
 */
export async function measureAccuracy(prom: BenchPrometheus, profiles: readonly SloProfile[], end: Date, log: (msg: string) => void): Promise<Accuracy> {
  const t0 = Date.now();
  const notes: string[] = [];
  const pairs = tiledPairs(ruleGroups(profiles, { tiles: true }).groups, ruleGroups(profiles).groups);
  const value = async (expr: string, at: Date): Promise<number | undefined> => (await prom.query(expr, at)).samples[0]?.value;

  const lastTile = new Map<string, Date | undefined>();
  for (const read of new Set(pairs.map((p) => p.tileRead))) {
    const ts = await value(`timestamp(${read})`, end);
    lastTile.set(read, ts === undefined ? undefined : new Date(Math.round(ts * 1000)));
  }
  const ages = [...lastTile.values()].flatMap((d) => (d ? [(end.getTime() - d.getTime()) / 1000] : []));
  const missing = [...lastTile.values()].filter((d) => d === undefined).length;
  if (missing > 0) notes.push(`${missing} tile series have no tile within the lookback before the end of the backfill; their windows are left out`);

  // The SLO's allowed error ratio, for the difference in burn rate.
  const budget = (pair: TiledPair): number => {
    const { namespace, profile, slo } = pair.labels;
    const objective = profiles.find((p) => p.namespace === namespace && p.name === profile)?.spec.slos.find((s) => s.name === slo)?.objective;
    return objective === undefined ? NaN : 1 - objective / 100;
  };
  const delta = (a: number | undefined, b: number | undefined, pair: TiledPair) =>
    a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.abs(a - b) / budget(pair);
  const results: Array<{ pair: TiledPair; atTile: Comparison; atEnd: Comparison; burnDelta: { atTile: number; atEnd: number } }> = [];
  let failed = 0;
  await pool(pairs, CONCURRENCY, async (pair) => {
    const tileAt = lastTile.get(pair.tileRead);
    if (!tileAt) return;
    try {
      const [tiledAtTile, rawAtTile, tiledAtEnd, rawAtEnd] = [await value(pair.tiled, tileAt), await value(pair.raw, tileAt), await value(pair.tiled, end), await value(pair.raw, end)];
      results.push({
        pair,
        atTile: compare(tiledAtTile, rawAtTile),
        atEnd: compare(tiledAtEnd, rawAtEnd),
        burnDelta: { atTile: delta(tiledAtTile, rawAtTile, pair), atEnd: delta(tiledAtEnd, rawAtEnd, pair) },
      });
    } catch (err) {
      failed++;
      if (failed === 1) notes.push(`a comparison failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  if (failed > 0) notes.push(`${failed} comparisons failed`);

  const sloOf = (pair: TiledPair) => pair.labels.slo ?? "";
  const keys = [...new Set(results.map((r) => JSON.stringify([r.pair.window, sloOf(r.pair), r.pair.record])))];
  const order = (record: string) => (record === ERROR_RATIO_RECORD ? 0 : record === EVENTS_RECORD ? 1 : 2);
  const rows = keys
    .map((k) => JSON.parse(k) as [string, string, string])
    .sort(([wa, sa, ra], [wb, sb, rb]) => windowMs(wa) - windowMs(wb) || (sa < sb ? -1 : sa > sb ? 1 : 0) || order(ra) - order(rb))
    .map(([window, slo, record]) => {
      const mine = results.filter((r) => r.pair.window === window && sloOf(r.pair) === slo && r.pair.record === record);
      const what = (r: (typeof mine)[number]) => r.pair.labels.profile ?? "";
      const most = (f: (r: (typeof mine)[number]) => number) => Math.max(...mine.map(f).filter((v) => !Number.isNaN(v)));
      return {
        window,
        slo,
        record,
        atTile: summarize(mine.map((r) => ({ what: what(r), c: r.atTile }))),
        atEnd: summarize(mine.map((r) => ({ what: what(r), c: r.atEnd }))),
        ...(record === ERROR_RATIO_RECORD ? { maxBurnRateDelta: { atTile: most((r) => r.burnDelta.atTile), atEnd: most((r) => r.burnDelta.atEnd) } } : {}),
      };
    });
  const ratioMax = rows.filter((r) => r.record === ERROR_RATIO_RECORD && r.atTile.n > 0).map((r) => r.atTile.maxPercent);
  log(`accuracy: ${results.length} tiled windows of ${profiles.length} profiles compared with raw ones in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return {
    profiles: profiles.length,
    comparisons: results.length,
    rows,
    maxErrorRatioPercent: ratioMax.length > 0 ? Math.max(...ratioMax) : NaN,
    tileAgeS: { min: ages.length > 0 ? Math.min(...ages) : NaN, max: ages.length > 0 ? Math.max(...ages) : NaN },
    notes,
  };
}
