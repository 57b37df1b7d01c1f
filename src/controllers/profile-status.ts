import type { PerformanceProfile } from "../api/types.ts";
import { validateSpec } from "../api/validate.ts";
import { conditionsChanged, setCondition, type Condition } from "../runtime/conditions.ts";

export interface ProfileStatusUpdate {
  observedGeneration: number | undefined;
  conditions: Condition[];
}

/** The profile's readiness, decided from its spec alone: Ready, or InvalidSpec naming the field. */
export function readinessStatus(profile: PerformanceProfile, now: Date): ProfileStatusUpdate {
  const generation = profile.metadata?.generation;
  const result = validateSpec(profile.spec);
  const ready = result.ok
    ? { type: "Ready", status: "True" as const, reason: "Reconciled", message: "The profile is valid and Tollgate is reconciling it." }
    : { type: "Ready", status: "False" as const, reason: "InvalidSpec", message: result.message };
  return { observedGeneration: generation, conditions: setCondition(profile.status?.conditions, ready, generation, now) };
}

/** Whether writing `next` would change what the API server holds: the quiet path writes nothing. */
export function statusNeedsWrite(profile: PerformanceProfile, next: ProfileStatusUpdate): boolean {
  return (
    profile.status?.observedGeneration !== next.observedGeneration ||
    conditionsChanged(profile.status?.conditions, next.conditions)
  );
}
