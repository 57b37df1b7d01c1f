/** The condition types the policy owns. Ready is shared with the spec check in controllers/. */
export const READY = "Ready";
export const METRICS_AVAILABLE = "MetricsAvailable";
export const BUDGET_HEALTHY = "BudgetHealthy";
export const DEPLOYMENTS_FROZEN = "DeploymentsFrozen";
export const ROLLED_BACK = "RolledBack";
/** Its own condition, not a reason of RolledBack, so its reason can say which precondition failed. */
export const ROLLBACK_SKIPPED = "RollbackSkipped";

export const POLICY_CONDITIONS = [READY, METRICS_AVAILABLE, BUDGET_HEALTHY, DEPLOYMENTS_FROZEN, ROLLED_BACK, ROLLBACK_SKIPPED] as const;

/** status.freeze.reason. */
export type FreezeReason = "BudgetExhausted" | "NoData";
