import type { Phase } from "../api/status.ts";

/**
 * The profile's phase: a canary under way (setting up, progressing, promoting or draining) shows as
 * Progressing, unless the budget has something stronger to say (Frozen, RollingBack, Degraded).
 */
export function withCanary(budgetPhase: Phase, canaryActive: boolean): Phase {
  return canaryActive && (budgetPhase === "Healthy" || budgetPhase === "Warning") ? "Progressing" : budgetPhase;
}
