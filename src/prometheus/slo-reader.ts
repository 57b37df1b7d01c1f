import { measureSlo, noDataMeasurement } from "../slo/budget.ts";
import { isPlanError, planProfile, type ProfilePlan, type SloPlan, type SloProfile } from "../slo/plan.ts";
import { EVENTS_RECORD, ERROR_RATIO_RECORD } from "../slo/rules.ts";
import type { Measurements, SloMeasurement } from "../slo/types.ts";
import type { WindowOptions } from "../slo/windows.ts";
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
 * series for the SLO (rules not loaded yet, or their evaluation fails).
 */
export type SloProblemReason = "InvalidIndicator" | "BadQuery" | "NoBucket" | "NotRecorded";

export interface SloProblem {
  slo: string;
  reason: SloProblemReason;
  message: string;
}

export interface ProfileReading {
  namespace: string;
  name: string;
  measurements: Measurements;
  problems: SloProblem[];
}

export type ReadMode = "Direct" | "RecordingRules";

export interface ReadOptions extends WindowOptions {
  /** Direct mode: queries in flight at once. Default 8. */
  concurrency?: number;
}

/** One instant query's answer: whether any series came back, and its value (undefined for NaN/±Inf). */
export interface Answer {
  present: boolean;
  value: number | undefined;
}

const ABSENT: Answer = { present: false, value: undefined };

export function answerOf(samples: readonly Sample[]): Answer {
  // Every expression Tollgate builds is summed to at most one series.
  const first = samples[0];
  return first ? { present: true, value: first.value } : ABSENT;
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
 * profile gets `error`), a timeout or server error fails only the profile whose query hit it, and a
 * query Prometheus refuses leaves that SLO without a verdict and names it in `problems`.
 */
export async function readDirect(client: InstantQuerier, profiles: readonly SloProfile[], now: Date, opts: ReadOptions = {}): Promise<ProfileReading[]> {
  const plans = profiles.map((p) => planProfile(p, opts));
  const ratioAnswers = plans.map((p) => p.slos.map(() => new Map<string, Answer>()));
  const eventAnswers = plans.map((p) => p.slos.map((): Answer => ABSENT));
  const badQuery = plans.map((p) => p.slos.map((): string | undefined => undefined));
  const profileError: Array<string | undefined> = plans.map(() => undefined);
  let unreachable: string | undefined;

  const tasks: Array<() => Promise<void>> = [];
  plans.forEach((plan, i) => {
    plan.slos.forEach((slo, j) => {
      if (!isLive(slo)) return;
      const run = (expr: string, keep: (a: Answer) => void) => async () => {
        if (unreachable !== undefined || profileError[i] !== undefined || badQuery[i]?.[j] !== undefined) return;
        try {
          keep(answerOf(await client.query(expr, now)));
        } catch (err) {
          if (!(err instanceof PrometheusError)) throw err;
          if (err.kind === "unreachable") unreachable ??= err.message;
          else if (err.kind === "bad_query") {
            const row = badQuery[i];
            if (row) row[j] ??= `Prometheus refused a query of ${slo.slo.name}: ${err.message} (query: ${expr})`;
          } else profileError[i] ??= err.message;
        }
      };
      for (const r of slo.errorRatios) tasks.push(run(r.expr, (a) => ratioAnswers[i]?.[j]?.set(r.window, a)));
      tasks.push(
        run(slo.events, (a) => {
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
      return measure(slo, ratioAnswers[i]?.[j] ?? new Map(), eventAnswers[i]?.[j] ?? ABSENT, plan.profile.spec.policy.minEvents, problems);
    });
    return { namespace: plan.profile.namespace, name: plan.profile.name, measurements: { slos, at: now }, problems };
  });
}

function seriesKey(namespace: string, profile: string, slo: string, window: string): string {
  return JSON.stringify([namespace, profile, slo, window]);
}

function index(samples: readonly Sample[]): Map<string, Answer> {
  const out = new Map<string, Answer>();
  for (const s of samples) {
    const { namespace, profile, slo, window } = s.metric;
    if (namespace === undefined || profile === undefined || slo === undefined || window === undefined) continue;
    const key = seriesKey(namespace, profile, slo, window);
    if (!out.has(key)) out.set(key, { present: true, value: s.value });
  }
  return out;
}

/**
 * Recording-rule mode: two instant queries at `now` read every profile's every window from the series
 * the rules in rules.ts record, then split by their namespace/profile/slo/window labels. Any Prometheus
 * error fails every profile: both queries are the batch.
 */
export async function readRecorded(client: InstantQuerier, profiles: readonly SloProfile[], now: Date, opts: ReadOptions = {}): Promise<ProfileReading[]> {
  const plans = profiles.map((p) => planProfile(p, opts));
  let ratios: Map<string, Answer>;
  let events: Map<string, Answer>;
  try {
    const [r, e] = await Promise.all([client.query(ERROR_RATIO_RECORD, now), client.query(EVENTS_RECORD, now)]);
    ratios = index(r);
    events = index(e);
  } catch (err) {
    if (!(err instanceof PrometheusError)) throw err;
    return plans.map((plan) => failedReading(plan, errorMessage(err), now, opts));
  }

  return plans.map((plan) => {
    const { namespace, name } = plan.profile;
    const problems: SloProblem[] = [];
    const slos = plan.slos.map((slo) => {
      if (!isLive(slo)) {
        problems.push(invalidProblem(slo.slo.name, slo.error));
        return noDataMeasurement(slo.slo, opts);
      }
      const sloName = slo.slo.name;
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
    return { namespace, name, measurements: { slos, at: now }, problems };
  });
}

/** Reads in the given mode. */
export function readSlos(mode: ReadMode, client: InstantQuerier, profiles: readonly SloProfile[], now: Date, opts: ReadOptions = {}): Promise<ProfileReading[]> {
  return mode === "Direct" ? readDirect(client, profiles, now, opts) : readRecorded(client, profiles, now, opts);
}
