import type { ProfileStatus } from "../api/status.ts";
import { findCondition, type Condition } from "../api/conditions.ts";

export interface WriteOptions {
  /** Write at least this often while SLOs have fresh numbers, so status shows the budget is being watched. */
  heartbeatMs: number;
  /** Budget movement, in points of percent, worth a write. Defaults to 1. */
  budgetStep?: number;
}

/**
 * Why `next` is worth an API write over `prev`, or undefined when it is not. Meaningful: the phase, the
 * generation, a condition's status or reason (messages carry numbers that move every cycle and ride
 * along with the next real write), any remembered state (freeze, override, last known good, candidate,
 * rollback, and fields other controllers own), an SLO's verdict, the budget moving a point, and the
 * heartbeat. Everything the policy needs to resume is in the remembered state, so skipping a write
 * never loses a decision.
 */
export function writeReason(prev: ProfileStatus | undefined, next: ProfileStatus, opts: WriteOptions): string | undefined {
  const p = prev ?? {};
  const step = opts.budgetStep ?? 1;
  if (p.observedGeneration !== next.observedGeneration) return "generation";
  if (p.phase !== next.phase) return "phase";
  if (conditionsMoved(p.conditions, next.conditions)) return "conditions";
  const { budget: b0, slos: s0, conditions: _c0, phase: _p0, observedGeneration: _g0, ...rest0 } = p;
  const { budget: b1, slos: s1, conditions: _c1, phase: _p1, observedGeneration: _g1, ...rest1 } = next;
  if (canonical(rest0) !== canonical(rest1)) return "state";
  if (!b0 !== !b1 || (b0 && b1 && (b0.worstSlo !== b1.worstSlo || Math.abs(b0.consumedPercent - b1.consumedPercent) >= step))) return "budget";
  const before = new Map((s0 ?? []).map((s) => [s.name, s]));
  if ((s0 ?? []).length !== (s1 ?? []).length) return "slos";
  for (const s of s1 ?? []) {
    const o = before.get(s.name);
    if (!o || o.verdict !== s.verdict || (o.consumedPercent === undefined) !== (s.consumedPercent === undefined)) return "slos";
    if (o.consumedPercent !== undefined && s.consumedPercent !== undefined && Math.abs(o.consumedPercent - s.consumedPercent) >= step) return "slos";
  }
  const last0 = latest(s0);
  const last1 = latest(s1);
  if (last1 !== undefined && (last0 === undefined || last1 - last0 >= opts.heartbeatMs)) return "heartbeat";
  return undefined;
}

/** Whether `next` is worth an API write; see writeReason. */
export function statusChanged(prev: ProfileStatus | undefined, next: ProfileStatus, opts: WriteOptions): boolean {
  return writeReason(prev, next, opts) !== undefined;
}

function conditionsMoved(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const left = a ?? [];
  const right = b ?? [];
  if (left.length !== right.length) return true;
  return right.some((c) => {
    const o = findCondition(left, c.type);
    return !o || o.status !== c.status || o.reason !== c.reason || o.observedGeneration !== c.observedGeneration;
  });
}

// lastEvaluated of SLOs without a verdict stays at their last verdict, so a long outage does not
// turn every cycle into a heartbeat write.
function latest(slos: ProfileStatus["slos"]): number | undefined {
  let max: number | undefined;
  for (const s of slos ?? []) {
    if (s.lastEvaluated === undefined) continue;
    const t = Date.parse(s.lastEvaluated);
    if (max === undefined || t > max) max = t;
  }
  return max;
}

/**
 * JSON with sorted keys, so key order from a round trip through the API server does not count as a change.
 * Keys sort by code unit, not by locale: the order must not depend on the process's locale, and
 * localeCompare would load ICU's collation data (~3 MiB resident) for nothing.
 */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}
