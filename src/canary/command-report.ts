import { ignoredAnnotation } from "../api/annotation-value.ts";
import { CANARY_COMMAND_ANNOTATION, type CanaryCommandAnnotation } from "./command.ts";
import type { CanaryAction } from "./types.ts";

/** CanaryProgressing's reason while the annotation cannot be read; its event reuses it. */
export const COMMAND_INVALID = "CanaryCommandInvalid";

/** The CanaryProgressing condition as the canary's pass decided it. */
export interface CanaryCondition {
  status: "True" | "False";
  reason: string;
  message: string;
}

type EventAction = Extract<CanaryAction, { action: "event" }>;

/**
 * The CanaryProgressing condition with what the tollgate.dev/canary-command annotation cannot do, told
 * as DeploymentsFrozen tells an override it cannot follow (policy/conditions.ts): for a value the
 * parser refuses, reason CanaryCommandInvalid, the problem first, then what the canary does meanwhile
 * (the status stays the canary's own, and nothing it said is lost). A Warning event says the same when
 * the reason becomes CanaryCommandInvalid, once, as events follow transitions.
 *
 * A valid command for another run than the one in progress does nothing and is not said here: a
 * condition's message alone is not worth a status write (policy/status-changed.ts), so a sentence about
 * the annotation would outlive the annotation until the next write; and an honoured command stays on
 * the profile, naming an older run once the next starts. `kubectl tollgate canary` names the run it
 * sees, and refuses before writing when there is none to act on.
 */
export function reportCommand(
  condition: CanaryCondition,
  annotation: CanaryCommandAnnotation | undefined,
  before: { reason: string } | undefined,
): { condition: CanaryCondition; events: EventAction[] } {
  if (!annotation || annotation.ok) return { condition, events: [] };
  const told: CanaryCondition = { ...condition, reason: COMMAND_INVALID, message: `${ignoredAnnotation(CANARY_COMMAND_ANNOTATION, annotation.problem)} ${condition.message}` };
  const events: EventAction[] = before?.reason === COMMAND_INVALID ? [] : [{ action: "event", type: "Warning", reason: COMMAND_INVALID, message: told.message }];
  return { condition: told, events };
}
