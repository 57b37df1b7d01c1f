/**
 * The error-budget policy: `decide` is a pure (spec, previous status, measurements, Deployment facts,
 * override, now) → (next status, actions) function; the controller reads, decides, carries out the
 * actions in order, and writes the status when `statusChanged` says so.
 *
 * Rules worth knowing before reading the code:
 * - Consumption is the worst Ok SLO's. warnAt → Warning; freezeAt → Frozen; rollbackAt → one rollback
 *   to the last known good template if the service is burning now (5m-role and 1h-role burn rates of an
 *   SLO at rollbackAt both above 1) and the live template is not that one; the freeze lifts below
 *   unfreezeBelow or under a valid tollgate.dev/override-freeze annotation.
 * - Once per incident: an incident is a freeze, from status.freeze.since until it lifts; a rollback
 *   recorded at or after that time (status.rollback.at) blocks any other, so consumption that stays
 *   above rollbackAt for days never loops, and a hotfix shipped under an override is not rolled back.
 * - Deployment actions are level-triggered against the Deployment facts (freeze while it should be
 *   frozen and is not paused and labelled; unfreeze while it should not be and carries Tollgate's
 *   label; a rollback in flight is repeated until the template is there): each is idempotent, a lost
 *   one is retried next cycle, and an already frozen Deployment gets no action. Events and
 *   notifications are edge-triggered from the change in conditions, so they are told once.
 * - Missing data never acts: conditions about the budget hold word for word, nothing unfreezes or
 *   rolls back, and only onNoData Freeze adds a freeze.
 */
export { decide } from "./decide.ts";
export type { PolicyDecision, PolicyInput } from "./input.ts";
export type { EventAction, FreezeAction, NotifyAction, PolicyAction, RollbackAction, Severity } from "./actions.ts";
export type { DeploymentFacts } from "./deployment.ts";
export { OVERRIDE_ANNOTATION, overrideActive, overrideFromAnnotations, parseOverride, type FreezeOverride, type OverrideAnnotation } from "./override.ts";
export { statusChanged, writeReason, type WriteOptions } from "./status-changed.ts";
export { burningNow } from "./budget.ts";
export { SKIP_CAUSES, type SkipCause } from "./rollback.ts";
export * from "./condition-names.ts";
export { withCanary } from "./phase.ts";
