import { fnv1a32, mix32 } from "../../sharding/shard-of.ts";

/**
 * When a profile's next periodic pass is due. Each profile has its own instant within the evaluation
 * interval (its slot, from a stable hash of its key), and its passes fall on that instant every
 * interval. Without it every profile comes back exactly one interval after its last pass, so the
 * passes of a restart's first round, all within a few seconds, stay bunched together for good: the
 * whole cluster's work every interval at once, and each pass waiting behind thousands of others.
 * On slots the work of an interval is spread evenly over it, whatever happened before.
 *
 * After a restart or a pass out of turn (an edit), the next pass comes on the slot, sooner than an
 * interval later; a slot less than a tenth of the interval away is left for the one after it, so a
 * pass never repeats at once (timers fire a little early, and a quick pass then ends just before its
 * own slot). So passes are between a tenth of the interval and 1.1 intervals apart, one interval in
 * the steady state.
 */
export function untilSlot(key: string, periodMs: number, nowMs: number): number {
  if (!(periodMs > 0) || !Number.isFinite(periodMs)) return periodMs;
  const slot = (mix32(fnv1a32(key)) / 2 ** 32) * periodMs;
  const delay = (((slot - nowMs) % periodMs) + periodMs) % periodMs;
  return Math.ceil(delay < periodMs / 10 ? delay + periodMs : delay);
}
