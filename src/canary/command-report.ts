import { ignoredAnnotation } from "../api/annotation-value.ts";
import { askedBy, CANARY_COMMAND_ANNOTATION, namesRun, type CanaryCommandAnnotation, type CanaryCommandName } from "./command.ts";
import type { CanaryAction, CanaryStatus } from "./types.ts";

/** CanaryProgressing's reason while the annotation cannot be read; its event reuses it. */
export const COMMAND_INVALID = "CanaryCommandInvalid";

/** The CanaryProgressing condition as the canary's pass decided it. */
export interface CanaryCondition {
  status: "True" | "False";
  reason: string;
  message: string;
}

type EventAction = Extract<CanaryAction, { action: "event" }>;

/** The phases of a run each command acts on (step.ts), where one for another run may be mistaken for this run's. */
const ACTS_ON: Record<CanaryCommandName, CanaryStatus["phase"]> = { promote: "Progressing", abort: "Progressing", retry: "Failed" };

/**
 * The CanaryProgressing condition with what the tollgate.dev/canary-command annotation cannot do, told
 * as DeploymentsFrozen tells an override it cannot follow (policy/conditions.ts):
 *
 * - A value the parser refuses: reason CanaryCommandInvalid, the problem first, then what the canary
 *   does meanwhile (the status stays the canary's own, and nothing it said is lost). A Warning event
 *   says the same when the reason becomes CanaryCommandInvalid, once, as events follow transitions.
 * - A valid command for another run than `run` (the run the step machine judged it against), while
 *   `run` is in the phase that command acts on: ignored as designed, and said after the canary's own
 *   message, with its reason unchanged and no event: an honoured command stays on the profile and
 *   names an older run once the next one starts, so an event there would come with later canaries.
 */
export function reportCommand(
  condition: CanaryCondition,
  annotation: CanaryCommandAnnotation | undefined,
  run: CanaryStatus | undefined,
  before: { reason: string } | undefined,
): { condition: CanaryCondition; events: EventAction[] } {
  if (annotation && !annotation.ok) {
    const told: CanaryCondition = { ...condition, reason: COMMAND_INVALID, message: `${ignoredAnnotation(CANARY_COMMAND_ANNOTATION, annotation.problem)} ${condition.message}` };
    const events: EventAction[] = before?.reason === COMMAND_INVALID ? [] : [{ action: "event", type: "Warning", reason: COMMAND_INVALID, message: told.message }];
    return { condition: told, events };
  }
  const c = annotation?.command;
  if (!c || !run || run.phase !== ACTS_ON[c.command] || namesRun(c, run)) return { condition, events: [] };
  const now = run.startedAt ? `, not the one of ${run.templateHash ?? "?"} started at ${run.startedAt}` : "";
  const ignored = `The ${c.command} ${askedBy(c)} in the ${CANARY_COMMAND_ANNOTATION} annotation is for the canary run of ${c.templateHash} started at ${c.startedAt}${now}, so it does nothing.`;
  return { condition: { ...condition, message: `${condition.message} ${ignored}` }, events: [] };
}
