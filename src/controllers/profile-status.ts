import type { PerformanceProfile } from "../api/types.ts";
import type { SpecValidation } from "../api/validate.ts";
import { conditionsChanged, setCondition, type Condition } from "../runtime/conditions.ts";

export interface ProfileStatusUpdate {
  observedGeneration: number | undefined;
  conditions: Condition[];
}

/** A problem found at runtime in a spec the API server admitted (a query Prometheus cannot parse). */
export interface SpecProblem {
  field: string;
  message: string;
}

/**
 * The profile's readiness: Ready, or InvalidSpec naming the field, from the schema's verdict and from
 * problems found at runtime.
 */
export function readinessStatus(
  profile: PerformanceProfile,
  result: SpecValidation,
  now: Date,
  problem?: SpecProblem,
): ProfileStatusUpdate {
  const generation = profile.metadata?.generation;
  const invalid = !result.ok ? result.message : problem ? `${problem.field}: ${problem.message}` : undefined;
  const ready =
    invalid === undefined
      ? { type: "Ready", status: "True" as const, reason: "Reconciled", message: "The profile is valid and Tollgate is reconciling it." }
      : { type: "Ready", status: "False" as const, reason: "InvalidSpec", message: invalid };
  return { observedGeneration: generation, conditions: setCondition(profile.status?.conditions, ready, generation, now) };
}

/** Whether writing `next` would change what the API server holds: the quiet path writes nothing. */
export function statusNeedsWrite(profile: PerformanceProfile, next: ProfileStatusUpdate): boolean {
  return (
    profile.status?.observedGeneration !== next.observedGeneration ||
    conditionsChanged(profile.status?.conditions, next.conditions)
  );
}
