import type { CanaryMeasurement, CanarySloReading } from "../canary/types.ts";
import { burnRate } from "../slo/budget.ts";
import type { CanaryPlan } from "../slo/canary.ts";
import { answerOf, type InstantQuerier } from "./slo-reader.ts";

/**
 * One canary check's numbers: per gating SLO, the canary's burn rate and request count over the
 * interval (two instant queries each). Any failure, a refused query included, becomes `error`, which
 * holds the step: a check Tollgate could not make is never a failed check.
 */
export async function readCanary(client: InstantQuerier, plan: CanaryPlan, now: Date): Promise<CanaryMeasurement> {
  try {
    const slos = await Promise.all(
      plan.slos.map(async (q): Promise<CanarySloReading> => {
        const [ratio, events] = await Promise.all([client.query(q.errorRatio, now), client.query(q.events, now)]);
        const rate = burnRate(answerOf(ratio).value, q.objective);
        const count = answerOf(events).value;
        return { slo: q.slo, ...(rate !== undefined ? { burnRate: rate } : {}), ...(count !== undefined && count >= 0 ? { events: count } : {}) };
      }),
    );
    return { slos };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err), slos: [] };
  }
}
