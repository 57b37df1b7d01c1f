/**
 * The canary step machine: `stepCanary` is a pure (spec, previous status.canary, target and primary
 * Deployments, the canary's burn rates, the freeze, now) → (next status.canary, actions, requeue)
 * function, the same shape as the budget policy's `decide`. The controller reads, decides, carries out
 * the actions in order, and writes the status.
 *
 * Rules worth knowing before reading the code:
 * - The user's Deployment (the target) is the source of revisions and runs the canary; `<name>-primary`
 *   holds the last promoted template. Between canaries all traffic is on primary and the target is
 *   scaled to 0.
 * - Traffic never moves onto primary before primary has the replicas for it (bootstrap, abort,
 *   superseded canary, promotion): scalePrimary first, wait, then setWeights, then scaleCanary.
 * - No data or fewer than minEvents holds a step; it never counts as a failure. A canary with no
 *   ready pods at a check does count: its own metrics cannot see the requests Istio could not deliver.
 * - A freeze stops starts and promotions, not steps already under way or a promotion already copying.
 * - A person may promote, abort or retry a run through the tollgate.dev/canary-command annotation
 *   (command.ts), which names the run it is for and so acts on it once; a freeze holds a promotion.
 *   A value it cannot read is said in CanaryProgressing (command-report.ts); one for another run does nothing.
 */
export { stepCanary, POLL_MS } from "./step.ts";
export { judgeCheck, gatingSlos, minEvents, type CheckVerdict } from "./check.ts";
export { canaryFreeze } from "./freeze.ts";
export {
  CANARY_COMMAND_ANNOTATION,
  CANARY_COMMANDS,
  canaryCommandFromAnnotations,
  canaryCommandValue,
  parseCanaryCommand,
  type CanaryCommand,
  type CanaryCommandAnnotation,
  type CanaryCommandName,
} from "./command.ts";
export { COMMAND_INVALID, reportCommand, type CanaryCondition } from "./command-report.ts";
export type {
  CanaryAction,
  CanaryDecision,
  CanaryFreeze,
  CanaryInput,
  CanaryMeasurement,
  CanaryNotifyAction,
  CanarySloReading,
  CanarySpec,
  CanaryStatus,
  CanarySummary,
  WorkloadFacts,
} from "./types.ts";
