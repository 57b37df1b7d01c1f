import type { ProfileStatus } from "../../api/status.ts";
import type { PerformanceProfile } from "../../api/types.ts";
import { setCondition } from "../../api/conditions.ts";

/**
 * A problem in a spec the API server admitted: a query Prometheus cannot parse, a threshold with no
 * bucket, something the operator does not let a tenant name. `reason` is the Ready condition's
 * (InvalidSpec unless the problem has a name of its own, e.g. EndpointNotAllowed).
 */
export interface SpecProblem {
  field: string;
  message: string;
  reason?: string;
}

/**
 * The status of a profile Tollgate cannot act on: Ready=False with `reason` (InvalidSpec naming the
 * field, or TargetClaimed naming the profile that governs the Deployment). Everything else in the
 * status is kept as it was, so a freeze or a last known good survives a bad edit and the policy
 * resumes from it once the spec is fixed.
 */
export function refusedStatus(profile: PerformanceProfile, reason: string, message: string, now: Date): ProfileStatus {
  const generation = profile.metadata?.generation;
  const prev: ProfileStatus = profile.status ?? {};
  return {
    ...prev,
    observedGeneration: generation,
    conditions: setCondition(prev.conditions, { type: "Ready", status: "False", reason, message }, generation, now),
  };
}
