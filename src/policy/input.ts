import type { ProfileSpec } from "../api/profile.ts";
import type { ProfileStatus } from "../api/status.ts";
import type { Measurements } from "../slo/types.ts";
import type { PolicyAction } from "./actions.ts";
import type { DeploymentFacts } from "./deployment.ts";
import type { OverrideAnnotation } from "./override.ts";
import type { SkipCause } from "./rollback.ts";

export interface PolicyInput {
  /** The PerformanceProfile, for messages and notification keys. */
  profile: { namespace: string; name: string };
  /** A valid, defaulted spec; an invalid one never reaches the policy (Ready=False, InvalidSpec). */
  spec: ProfileSpec;
  /** The status as stored: empty on the first reconcile, whatever a previous leader wrote after a restart. */
  status: ProfileStatus | undefined;
  measurements: Measurements;
  /** The target Deployment; undefined when it does not exist. */
  deployment: DeploymentFacts | undefined;
  /** The profile's tollgate.dev/override-freeze annotation, parsed; undefined when absent. */
  override: OverrideAnnotation | undefined;
  /** metadata.generation of the profile. */
  generation: number | undefined;
  now: Date;
}

export interface PolicyDecision {
  /** The whole next status: fields other controllers own (canary, autoscaling, notifications) are carried over. */
  status: ProfileStatus;
  /** In order: Deployment actions, then events, then notifications. */
  actions: PolicyAction[];
  /** Why RollbackSkipped holds, for logs and tests; undefined when no rollback was due or it happened. */
  rollbackSkipped?: SkipCause;
}
