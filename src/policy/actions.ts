import type { NotificationEvent } from "../api/notifications.ts";

export type Severity = "critical" | "error" | "warning" | "info";

/**
 * What the policy asks the shell to do, in the order to do it. Deployment actions are level-triggered
 * (emitted while the Deployment differs from what the policy wants, so a failed write is retried on
 * the next cycle and each is idempotent in kube/deployments.ts); events and notifications are
 * edge-triggered (emitted once, on the transition that caused them).
 */
export type PolicyAction =
  | {
      action: "freeze";
      /** CamelCase, as the DeploymentsFrozen condition's reason. */
      reason: string;
      /** The SLO and the budget, e.g. "availability consumed 104.2 % of its 30d budget (freeze at 100 %); ...": the admission policy quotes it after naming the Deployment and the profile. */
      message: string;
    }
  | { action: "unfreeze"; message: string }
  | {
      /**
       * Write the pod template of the ReplicaSet with `toTemplateHash` back and resume the Deployment
       * (a paused Deployment does not roll out), keeping the frozen label. Once the rollout completes
       * the policy asks for `freeze` again.
       */
      action: "rollback";
      toRevision: number;
      toTemplateHash: string;
      fromRevision: number;
    }
  | { action: "event"; type: "Normal" | "Warning"; reason: string; message: string }
  | {
      action: "notify";
      event: NotificationEvent;
      severity: Severity;
      summary: string;
      /** Stable for one profile and one incident: PagerDuty triggers and resolves by it. */
      dedupKey: string;
      details: Record<string, string | number>;
    };

export type FreezeAction = Extract<PolicyAction, { action: "freeze" }>;
export type RollbackAction = Extract<PolicyAction, { action: "rollback" }>;
export type EventAction = Extract<PolicyAction, { action: "event" }>;
export type NotifyAction = Extract<PolicyAction, { action: "notify" }>;
