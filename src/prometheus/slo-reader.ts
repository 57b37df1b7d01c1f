import { parseDuration } from "../api/duration.ts";
import { measureSlo, noDataMeasurement } from "../slo/budget.ts";
import { isPlanError, planProfile, type ProfilePlan, type SloPlan, type SloProfile } from "../slo/plan.ts";
import type { RatioPart } from "../slo/promql.ts";
import { EVENTS_RECORD, ERROR_RATIO_RECORD, SERIES_COUNT_RECORD } from "../slo/rules.ts";
import { coverageFromSince, isTileable, profileTilesSelector, TILE_LABEL, TILES_SINCE_RECORD, type TileOptions } from "../slo/tiles.ts";
import type { Measurements, SloMeasurement } from "../slo/types.ts";
import { canonicalWindow, queryWindows, type WindowOptions } from "../slo/windows.ts";
import { PrometheusError, type Sample } from "./client.ts";

/** What the reader needs of a Prometheus client; PrometheusClient fits. */
export interface InstantQuerier {
  query(expr: string, time?: Date): Promise<Sample[]>;
}

/** The same querier, calling `count` before each query (for the queries-sent metric). */
export function countingQuerier(client: InstantQuerier, count: () => void): InstantQuerier {
  return {
    query: (expr, time) => {
      count();
      return client.query(expr, time);
    },
  };
}

/**
 * Why an SLO has no verdict although Prometheus answered: for the MetricsAvailable / Ready condition
 * messages. InvalidIndicator: the spec cannot become PromQL. BadQuery: Prometheus refused the PromQL.
 * NoBucket: the histogram has events but no bucket at the threshold. NotRecorded: no recording-rule
 * series for the SLO (rules not loaded yet, or their evaluation fails). MultipleSeries: a ratio's
 * errors or total returns several series, which Tollgate would have to add up unasked.
 */
export type SloProblemReason = "InvalidIndicator" | "BadQuery" | "NoBucket" | "NotRecorded" | "MultipleSeries";

export interface SloProblem {
  slo: string;
  reason: SloProblemReason;
  /** The spec field at fault, when narrower than the SLO's indicator (e.g. spec.slos[0].indicator.ratio.errors). */
  field?: string;
  message: string;
}

export interface ProfileReading {
  namespace: string;
  name: string;
  measurements: Measurements;
  problems: SloProblem[];
  /**
   * With tiles on and Prometheus answering: per SLO, how long its current tiles have been recorded (ms),
   * which decides the windows the rules sum from them.
   */
  tileCoverageMs?: Record<string, number>;
  /** Direct mode: per SLO, the windows long enough to sum from tiles that were read raw (no tiles cover them). */
  rawLongWindows?: Array<{ slo: string; windows: string[] }>;
}

export type ReadMode = "Direct" | "RecordingRules";

export interface ReadOptions extends WindowOptions {
  /** Direct mode: queries in flight at once. Default 8. */
  concurrency?: number;
  /**
   * The tile of the tiles recording rules record (tiles.ts); undefined when they record none. Recorded
   * reads then also say how far each SLO's tiles reach, and Direct reads sum the windows they cover.
   */
  tile?: string;
}

/** Unix seconds of TILES_SINCE_RECORD by namespace, profile, slo and tile digest. */
function indexSince(samples: readonly Sample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    const { namespace, profile, slo } = s.metric;
    const digest = s.metric[TILE_LABEL];
    if (namespace === undefined || profile === undefined || slo === undefined || digest === undefined || s.value === undefined) continue;
    const key = JSON.stringify([namespace, profile, slo, digest]);
    // Two copies (see index) of one run agree; of two runs the later is the one that holds now.
    out.set(key, Math.max(out.get(key) ?? Number.NEGATIVE_INFINITY, s.value));
  }
  return out;
}

/** Per SLO with tiles in `plan`, how long its tiles of the current digest have been recorded at `now`. */
function tileCoverage(plan: ProfilePlan, since: ReadonlyMap<string, number>, now: Date): Record<string, number> {
  const out: Record<string, number> = {};
  for (const slo of plan.slos) {
    if (!isLive(slo) || !slo.tiles) continue;
    out[slo.slo.name] = coverageFromSince(since.get(JSON.stringify([plan.profile.namespace, plan.profile.name, slo.slo.name, slo.tiles.digest])), now.getTime());
  }
  return out;
}

/**
 * One instant query's answer: whether any series came back, its value (undefined for NaN/±Inf), and
 * how many series there were. Every expression Tollgate builds is summed to at most one series, so
 * `series` above one means the answer cannot be read: no value is taken from it.
 */
export interface Answer {
  present: boolean;
  value: number | undefined;
  series: number;
}

const ABSENT: Answer = { present: false, value: undefined, series: 0 };

export function answerOf(samples: readonly Sample[]): Answer {
  const first = samples[0];
  if (!first) return ABSENT;
  return { present: true, value: samples.length === 1 ? first.value : undefined, series: samples.length };
}

/** The indicator field of the SLO at `index`, by the kind it sets: spec.slos[1].indicator.latency. */
function indicatorField(slo: SloPlan["slo"], index: number): string {
  const kind = slo.indicator.ratio ? "ratio" : slo.indicator.latency ? "latency" : slo.indicator.istio ? "istio" : undefined;
  return `spec.slos[${index}].indicator${kind ? `.${kind}` : ""}`;
}

/**
 * An answer of several series to a query Tollgate aggregates to one (sum, count): PromQL cannot give
 * it, so Prometheus's answer, not the spec, is at fault, and nothing of it is read.
 */
function severalSeries(n: number, query: string, field: string, slo: string): string {
  return `Prometheus answered ${n} series to the ${query} of ${field} (SLO ${slo}), which aggregates to one; no reading is taken from it`;
}

/** The ratio part of `slo` whose count says it returns several series, as a problem naming its field. */
function multipleSeries(plan: SloPlan, index: number, counts: ReadonlyMap<RatioPart, number>): SloProblem | undefined {
  for (const c of plan.seriesCounts) {
    const n = counts.get(c.part) ?? 0;
    if (n > 1) {
      return {
        slo: plan.slo.name,
        reason: "MultipleSeries",
        field: `spec.slos[${index}].indicator.ratio.${c.part}`,
        message: `the query returned ${n} series over the last ${c.window}; wrap it in sum(...) so it returns one`,
      };
    }
  }
  return undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isLive(p: SloPlan | { error: string }): p is SloPlan {
  return !("error" in p);
}

/** Turns the answers for one planned SLO into its measurement and, when it has no verdict, the reason. */
function measure(
  plan: SloPlan,
  ratios: ReadonlyMap<string, Answer>,
  events: Answer,
  minEvents: number,
  problems: SloProblem[],
): SloMeasurement {
  const errorRatios = new Map([...ratios].map(([w, a]) => [w, a.value]));
  const m = measureSlo(plan, { errorRatios, events: events.value }, minEvents);
  const sloRatio = ratios.get(plan.window) ?? ABSENT;
  if (plan.histogram && m.verdict === "NoData" && (m.events ?? 0) > 0 && !sloRatio.present) {
    problems.push({
      slo: plan.slo.name,
      reason: "NoBucket",
      message: `${plan.slo.name} has ${m.events} events but no histogram bucket at its threshold; the threshold must equal a bucket boundary of the histogram`,
    });
  }
  return m;
}

function failedReading(plan: ProfilePlan, error: string, at: Date, opts: WindowOptions): ProfileReading {
  return {
    namespace: plan.profile.namespace,
    name: plan.profile.name,
    measurements: { error, slos: plan.profile.spec.slos.map((s) => noDataMeasurement(s, opts)), at },
    problems: [],
  };
}

function invalidProblem(slo: string, error: string): SloProblem {
  return { slo, reason: "InvalidIndicator", message: `${slo} cannot be measured: ${error}` };
}

async function pool(tasks: ReadonlyArray<() => Promise<void>>, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      if (task) await task();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, tasks.length)) }, worker));
}

/**
 * Direct mode: each SLO's error ratios and event count by instant queries at `now`, for plain
 * Prometheus setups without rule loading. An unreachable Prometheus stops the whole batch (every
 * profile gets `error`), a timeout, server error or malformed answer fails only the profile whose query
 * hit it, and a query Prometheus refuses, or a ratio expression of several series, leaves that SLO
 * without a verdict and names it in `problems`.
 */
export async function readDirect(client: InstantQuerier, profiles: readonly SloProfile[], now: Date, opts: ReadOptions = {}): Promise<ProfileReading[]> {
  let coverage: Array<Record<string, number> | undefined>;
  try {
    coverage = await directTileCoverage(client, profiles, now, opts);
  } catch (err) {
    if (!(err instanceof PrometheusError)) throw err;
    return profiles.map((p) => failedReading(planProfile(p, opts), err.message, now, opts));
  }
  const plans = profiles.map((p, i) => planProfile(p, withCoverage(opts, coverage[i])));
  const ratioAnswers = plans.map((p) => p.slos.map(() => new Map<string, Answer>()));
  const eventAnswers = plans.map((p) => p.slos.map((): Answer => ABSENT));
  const badQuery = plans.map((p) => p.slos.map((): string | undefined => undefined));
  const seriesCounts = plans.map((p) => p.slos.map(() => new Map<RatioPart, number>()));
  const profileError: Array<string | undefined> = plans.map(() => undefined);
  let unreachable: string | undefined;

  const tasks: Array<() => Promise<void>> = [];
  plans.forEach((plan, i) => {
    plan.slos.forEach((slo, j) => {
      if (!isLive(slo)) return;
      const field = indicatorField(slo.slo, j);
      /** Runs `expr`; `what` names it should its answer have several series where it aggregates to one. */
      const run = (expr: string, what: string, keep: (a: Answer) => void) => async () => {
        if (unreachable !== undefined || profileError[i] !== undefined || badQuery[i]?.[j] !== undefined) return;
        try {
          const answer = answerOf(await client.query(expr, now));
          if (answer.series > 1) profileError[i] ??= severalSeries(answer.series, what, field, slo.slo.name);
          else keep(answer);
        } catch (err) {
          if (!(err instanceof PrometheusError)) throw err;
          if (err.kind === "unreachable") unreachable ??= err.message;
          else if (err.kind === "bad_query") {
            const row = badQuery[i];
            if (row) row[j] ??= `Prometheus refused a query of ${slo.slo.name}: ${err.message} (query: ${expr})`;
          } else profileError[i] ??= err.message;
        }
      };
      for (const c of slo.seriesCounts) tasks.push(run(c.expr, `${c.window} series count of ${c.part}`, (a) => seriesCounts[i]?.[j]?.set(c.part, a.value ?? 0)));
      for (const r of slo.errorRatios) tasks.push(run(r.expr, `${r.window} error-ratio query`, (a) => ratioAnswers[i]?.[j]?.set(r.window, a)));
      tasks.push(
        run(slo.events, `${slo.window} events query`, (a) => {
          const row = eventAnswers[i];
          if (row) row[j] = a;
        }),
      );
    });
  });
  await pool(tasks, opts.concurrency ?? 8);

  return plans.map((plan, i) => {
    const failure = unreachable ?? profileError[i];
    if (failure !== undefined) return failedReading(plan, failure, now, opts);
    const problems: SloProblem[] = [];
    const slos = plan.slos.map((slo, j) => {
      if (!isLive(slo)) {
        problems.push(invalidProblem(slo.slo.name, slo.error));
        return noDataMeasurement(slo.slo, opts);
      }
      const refused = badQuery[i]?.[j];
      if (refused !== undefined) {
        problems.push({ slo: slo.slo.name, reason: "BadQuery", message: refused });
        return noDataMeasurement(slo.slo, opts);
      }
      const several = multipleSeries(slo, j, seriesCounts[i]?.[j] ?? new Map());
      if (several) {
        problems.push(several);
        return noDataMeasurement(slo.slo, opts);
      }
      return measure(slo, ratioAnswers[i]?.[j] ?? new Map(), eventAnswers[i]?.[j] ?? ABSENT, plan.profile.spec.policy.minEvents, problems);
    });
    const tileCoverageMs = coverage[i];
    const raw = tileCoverageMs && opts.tile !== undefined ? rawLongWindows(plan, { tile: opts.tile, coverageMs: tileCoverageMs }) : [];
    return {
      namespace: plan.profile.namespace,
      name: plan.profile.name,
      measurements: { slos, at: now },
      problems,
      ...(tileCoverageMs ? { tileCoverageMs } : {}),
      ...(raw.length > 0 ? { rawLongWindows: raw } : {}),
    };
  });
}

/** The plan options with tiles as far as `coverageMs` says they reach; no tiles when the reader has none. */
function withCoverage(opts: ReadOptions, coverageMs: Record<string, number> | undefined): ReadOptions & { tiles?: TileOptions } {
  return opts.tile !== undefined && coverageMs ? { ...opts, tiles: { tile: opts.tile, coverageMs } } : opts;
}

/**
 * Direct mode sums a long window from tiles where recorded tiles cover it (Tollgate's rules, from when
 * the profile was read in RecordingRules mode, or loaded by hand): one query per profile that has long windows
 * asks how far they reach. A Prometheus that cannot be reached throws (the batch fails as with any
 * query); any other failure of that one query reads the profile raw, which costs more but is right.
 */
async function directTileCoverage(client: InstantQuerier, profiles: readonly SloProfile[], now: Date, opts: ReadOptions): Promise<Array<Record<string, number> | undefined>> {
  const tile = opts.tile;
  if (tile === undefined) return profiles.map(() => undefined);
  const out: Array<Record<string, number> | undefined> = profiles.map(() => undefined);
  const tasks = profiles.map((profile, i) => async () => {
    const plan = planProfile(profile, { ...opts, tiles: { tile, coverageMs: {} } });
    if (!plan.slos.some((s) => isLive(s) && s.tiles)) return;
    let since = new Map<string, number>();
    try {
      since = indexSince(await client.query(`${TILES_SINCE_RECORD}${profileTilesSelector(profile.namespace, profile.name)}`, now));
    } catch (err) {
      if (!(err instanceof PrometheusError) || err.kind === "unreachable") throw err;
    }
    out[i] = tileCoverage(plan, since, now);
  });
  await pool(tasks, opts.concurrency ?? 8);
  return out;
}

/** The SLOs' windows long enough to sum from tiles that the plan still reads raw. */
function rawLongWindows(plan: ProfilePlan, tiles: TileOptions): Array<{ slo: string; windows: string[] }> {
  const out: Array<{ slo: string; windows: string[] }> = [];
  for (const slo of plan.slos) {
    if (!isLive(slo) || !slo.tiles) continue;
    const windows = slo.errorRatios.map((r) => r.window).filter((w) => isTileable(parseDuration(w), tiles) && !slo.tiledWindows.includes(w));
    if (windows.length > 0) out.push({ slo: slo.slo.name, windows });
  }
  return out;
}

function seriesKey(namespace: string, profile: string, slo: string, window: string): string {
  return JSON.stringify([namespace, profile, slo, window]);
}

/**
 * Recorded series by their Tollgate labels. Each key has one series from its one rule; several (two
 * Prometheus servers behind a query frontend that does not deduplicate, say) are counted, not chosen
 * from.
 */
function index(samples: readonly Sample[]): Map<string, Answer> {
  const out = new Map<string, Answer>();
  for (const s of samples) {
    const { namespace, profile, slo, window } = s.metric;
    if (namespace === undefined || profile === undefined || slo === undefined || window === undefined) continue;
    const key = seriesKey(namespace, profile, slo, window);
    const seen = out.get(key);
    out.set(key, seen ? { present: true, value: undefined, series: seen.series + 1 } : { present: true, value: s.value, series: 1 });
  }
  return out;
}

/** Recorded series counts of ratio expressions, by namespace, profile, slo, window and part. */
function indexCounts(samples: readonly Sample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    const { namespace, profile, slo, window, part } = s.metric;
    if (namespace === undefined || profile === undefined || slo === undefined || window === undefined || part === undefined) continue;
    const key = JSON.stringify([namespace, profile, slo, window, part]);
    // Duplicates of a count (see index) agree; the larger is the safe one to act on.
    out.set(key, Math.max(out.get(key) ?? 0, s.value ?? 0));
  }
  return out;
}

/** The first recorded key of `plan` with several series, as a message; undefined when each has one. */
function duplicated(plan: ProfilePlan, ratios: ReadonlyMap<string, Answer>, events: ReadonlyMap<string, Answer>): string | undefined {
  const { namespace, name } = plan.profile;
  for (const slo of plan.slos) {
    if (!isLive(slo)) continue;
    const keys: Array<[string, string, ReadonlyMap<string, Answer>]> = [
      ...slo.errorRatios.map((r): [string, string, ReadonlyMap<string, Answer>] => [ERROR_RATIO_RECORD, r.window, ratios]),
      [EVENTS_RECORD, slo.window, events],
    ];
    for (const [record, window, answers] of keys) {
      const n = answers.get(seriesKey(namespace, name, slo.slo.name, window))?.series ?? 0;
      if (n > 1) {
        return `Prometheus answered ${n} ${record} series for ${namespace}/${name} SLO ${slo.slo.name} window ${window}, where its recording rule writes one (several Prometheus servers answering without deduplication, or two rule sets recording this profile); no reading is taken from them`;
      }
    }
  }
  return undefined;
}

/**
 * Recording-rule mode: instant queries at `now` read every profile's every window from the series the
 * rules in rules.ts record, then split by their namespace/profile/slo/window labels: two queries, a
 * third for the series counts when a profile has a ratio SLO, and a fourth for how far the tiles reach
 * when a profile has windows long enough for them. Any Prometheus error fails every
 * profile: the queries are the batch.
 */
export async function readRecorded(client: InstantQuerier, profiles: readonly SloProfile[], now: Date, opts: ReadOptions = {}): Promise<ProfileReading[]> {
  // Planned with tiles only for their digests: the reads go by series name and window label alone.
  // A plan is ~13 KB; one per profile held across the queries was 130 MB at 10,000 profiles, every
  // batch. So each plan is made where it is used, to read its profile's answers, and dropped.
  const planOf = (p: SloProfile) => planProfile(p, opts.tile !== undefined ? { ...opts, tiles: { tile: opts.tile, coverageMs: {} } } : opts);
  // Which queries the batch needs, from the specs: planning every profile to learn it cost as much as
  // the reading itself. A ratio SLO has its series counted; an SLO window long enough has tiles. (A
  // spec whose plan fails asks for a query that finds nothing of it: one query a batch, not per profile.)
  const tile = opts.tile;
  let counted = false;
  let tiled = false;
  for (const profile of profiles) {
    for (const slo of profile.spec.slos) {
      counted ||= slo.indicator.ratio !== undefined;
      tiled ||= tile !== undefined && hasTileableWindow(slo.window, tile, opts);
    }
    if (counted && (tiled || tile === undefined)) break;
  }
  let ratios: Map<string, Answer>;
  let events: Map<string, Answer>;
  let counts: Map<string, number>;
  let since: Map<string, number>;
  try {
    const [r, e, c, t] = await Promise.all([
      client.query(ERROR_RATIO_RECORD, now),
      client.query(EVENTS_RECORD, now),
      counted ? client.query(SERIES_COUNT_RECORD, now) : Promise.resolve([]),
      tiled ? client.query(TILES_SINCE_RECORD, now) : Promise.resolve([]),
    ]);
    ratios = index(r);
    events = index(e);
    counts = indexCounts(c);
    since = indexSince(t);
  } catch (err) {
    if (!(err instanceof PrometheusError)) throw err;
    return inSlices(profiles, (p) => failedReading(planOf(p), errorMessage(err), now, opts));
  }
  return inSlices(profiles, readingOf);

  function readingOf(p: SloProfile): ProfileReading {
    const plan = planOf(p);
    const { namespace, name } = plan.profile;
    const several = duplicated(plan, ratios, events);
    if (several !== undefined) return failedReading(plan, several, now, opts);
    const problems: SloProblem[] = [];
    const slos = plan.slos.map((slo, j) => {
      if (!isLive(slo)) {
        problems.push(invalidProblem(slo.slo.name, slo.error));
        return noDataMeasurement(slo.slo, opts);
      }
      const sloName = slo.slo.name;
      const partCounts = new Map(slo.seriesCounts.map((c) => [c.part, counts.get(JSON.stringify([namespace, name, sloName, c.window, c.part])) ?? 0]));
      const multiple = multipleSeries(slo, j, partCounts);
      if (multiple) {
        problems.push(multiple);
        return noDataMeasurement(slo.slo, opts);
      }
      const byWindow = new Map<string, Answer>();
      for (const r of slo.errorRatios) {
        const a = ratios.get(seriesKey(namespace, name, sloName, r.window));
        if (a) byWindow.set(r.window, a);
      }
      const eventAnswer = events.get(seriesKey(namespace, name, sloName, slo.window));
      if (byWindow.size === 0 && eventAnswer === undefined) {
        problems.push({
          slo: sloName,
          reason: "NotRecorded",
          message: `no ${ERROR_RATIO_RECORD} series for ${namespace}/${name} ${sloName}: the recording rules are not loaded yet, Prometheus fails to evaluate them, or the SLO's metrics have no series`,
        });
      }
      return measure(slo, byWindow, eventAnswer ?? ABSENT, plan.profile.spec.policy.minEvents, problems);
    });
    return { namespace, name, measurements: { slos, at: now }, problems, ...(opts.tile !== undefined ? { tileCoverageMs: tileCoverage(plan, since, now) } : {}) };
  }
}

/** Whether an SLO over `window` reads any window from tiles of length `tile`, as planSlo decides it. */
function hasTileableWindow(window: string, tile: string, opts: WindowOptions): boolean {
  try {
    return queryWindows(canonicalWindow(window), opts).some((w) => isTileable(parseDuration(w), { tile }));
  } catch {
    return false; // a window the plan refuses too: that SLO is reported, not read
  }
}

/** Profiles read between two turns of the event loop (a few ms of work). */
const READ_SLICE = 25;

/**
 * fn over every item, a slice at a time with a turn of the event loop between: a reading is tens of
 * microseconds, and thousands at once would hold every pass in flight for that long together.
 */
async function inSlices<T, R>(items: readonly T[], fn: (item: T) => R): Promise<R[]> {
  const out: R[] = [];
  for (const [i, item] of items.entries()) {
    if (i > 0 && i % READ_SLICE === 0) await new Promise((r) => setImmediate(r));
    out.push(fn(item));
  }
  return out;
}

/** Reads in the given mode. */
export function readSlos(mode: ReadMode, client: InstantQuerier, profiles: readonly SloProfile[], now: Date, opts: ReadOptions = {}): Promise<ProfileReading[]> {
  return mode === "Direct" ? readDirect(client, profiles, now, opts) : readRecorded(client, profiles, now, opts);
}
