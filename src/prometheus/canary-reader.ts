import type { CanaryMeasurement, CanarySloReading } from "../canary/types.ts";
import { burnRate } from "../slo/budget.ts";
import type { CanaryPlan } from "../slo/canary.ts";
import { answerOf, type Answer, type InstantQuerier } from "./slo-reader.ts";

/** An answer of several series to a query summed to one cannot be read; the check is not made. */
class SeveralSeries extends Error {}

/**
 * One canary check's numbers: per gating SLO, the canary's burn rate and request count over the
 * interval (two instant queries each). Any failure, a refused query or an answer of several series
 * included, becomes `error`, which holds the step: a check Tollgate could not make is never a failed
 * check.
 */
export async function readCanary(client: InstantQuerier, plan: CanaryPlan, now: Date): Promise<CanaryMeasurement> {
  const one = async (expr: string, what: string, slo: string): Promise<Answer> => {
    const answer = answerOf(await client.query(expr, now));
    if (answer.series > 1) {
      throw new SeveralSeries(`Prometheus answered ${answer.series} series to the canary's ${plan.window} ${what} query of SLO ${slo}, whose sum(...) returns one; the step holds`);
    }
    return answer;
  };
  try {
    const slos = await Promise.all(
      plan.slos.map(async (q): Promise<CanarySloReading> => {
        const [ratio, events] = await Promise.all([one(q.errorRatio, "error-ratio", q.slo), one(q.events, "events", q.slo)]);
        const rate = burnRate(ratio.value, q.objective);
        const count = events.value;
        return { slo: q.slo, ...(rate !== undefined ? { burnRate: rate } : {}), ...(count !== undefined && count >= 0 ? { events: count } : {}) };
      }),
    );
    return { slos };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err), slos: [] };
  }
}
