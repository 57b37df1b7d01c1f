import { z } from "zod";
import { NOTIFICATION_EVENTS } from "./notifications.ts";

// Status is written only by Tollgate; its schema documents it and lets the API server refuse a buggy
// write (a NaN serialises as null, which no number field accepts) rather than store it.

const time = (description: string) => z.iso.datetime({ offset: true }).describe(description);

export const conditionSchema = z.object({
  type: z
    .string()
    .min(1)
    .max(316)
    .describe("Kind of condition: Ready, MetricsAvailable, BudgetHealthy, DeploymentsFrozen, RolledBack, CanaryProgressing."),
  status: z.enum(["True", "False", "Unknown"]).describe("Status of the condition: True, False or Unknown."),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .describe("CamelCase reason for the condition's last transition, e.g. BudgetExhausted; events reuse it."),
  message: z.string().max(32768).describe("One sentence an SRE can act on, with the numbers in it."),
  observedGeneration: z.int().min(0).optional().describe("The spec generation the condition was computed from."),
  lastTransitionTime: time("When the status last flipped; unchanged while the status holds."),
});

export const PHASES = ["Healthy", "Warning", "Frozen", "RollingBack", "Progressing", "Degraded", "Terminating", "Unknown"] as const;
export type Phase = (typeof PHASES)[number];

export const SLO_VERDICTS = ["Ok", "NoData", "InsufficientData"] as const;
export type SloVerdict = (typeof SLO_VERDICTS)[number];

export const CHECK_VERDICTS = ["Passed", "BurnRateExceeded", "PodsNotReady", "NoData", "InsufficientData"] as const;
export type CheckVerdictName = (typeof CHECK_VERDICTS)[number];

export const CANARY_PHASES = ["Initializing", "Waiting", "Progressing", "Promoting", "Aborting", "Succeeded", "Failed"] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];

const budgetStatusSchema = z
  .object({
    consumedPercent: z.number().describe("Error budget consumed by the worst SLO, percent of its window's budget; may exceed 100."),
    remainingPercent: z.number().min(0).max(100).describe("Error budget left of the worst SLO, percent; clamps at 0."),
    worstSlo: z.string().describe("Name of the SLO that has consumed the most budget."),
    worstBurnRate: z.number().min(0).describe("Highest short-window burn rate across the SLOs (1 = spending the budget exactly over the window)."),
  })
  .describe("The profile's budget: that of its worst SLO. Absent until an SLO reaches a verdict.");

const sloStatusSchema = z
  .object({
    name: z.string().describe("Name of the SLO in spec.slos."),
    verdict: z
      .enum(SLO_VERDICTS)
      .describe("Ok: the numbers below are current. NoData: Prometheus gave no answer. InsufficientData: fewer than policy.minEvents events in the window."),
    sli: z.number().min(0).max(100).optional().describe("Percent of good events over the SLO's window."),
    consumedPercent: z.number().min(0).optional().describe("Error budget consumed over the window, percent; may exceed 100."),
    remainingPercent: z.number().min(0).max(100).optional().describe("Error budget left, percent; clamps at 0."),
    burnRates: z
      .record(z.string(), z.number().min(0))
      .optional()
      .describe("Burn rate per window (5m, 30m, 1h, 2h, 6h, 1d, 3d): error ratio over the window divided by the error budget. Windows without enough events are left out."),
    events: z.number().min(0).optional().describe("Events counted over the SLO's window."),
    lastEvaluated: time("When Tollgate last read this SLO's numbers.").optional(),
  })
  .describe("The measured state of one SLO.");

const revisionSchema = (description: string) =>
  z
    .object({
      revision: z.int().min(0).describe("The Deployment revision (its deployment.kubernetes.io/revision annotation)."),
      templateHash: z.string().describe("The pod-template-hash of the revision's ReplicaSet."),
      since: time("When the revision went live."),
    })
    .describe(description);

const overrideSchema = z
  .object({
    by: z.string().describe("Who set the tollgate.dev/override-freeze annotation, from its value."),
    reason: z.string().describe("Why, from the annotation's value."),
    expires: time("When the override ends and the freeze applies again."),
  })
  .describe("A break-glass override of the freeze, recorded so it shows in status and events.");

const freezeStatusSchema = z
  .object({
    since: time("When rollouts were frozen."),
    reason: z.string().describe("CamelCase reason, e.g. BudgetExhausted or NoData."),
    slo: z.string().optional().describe("The SLO whose budget caused the freeze."),
    consumedPercent: z.number().optional().describe("Budget consumed when the freeze began, percent."),
    override: overrideSchema.optional(),
  })
  .describe("Present while rollouts of the target are frozen.");

const rollbackStatusSchema = z
  .object({
    revision: z.int().min(0).describe("The last known good revision rolled back to."),
    from: z.int().min(0).describe("The revision rolled back from."),
    at: time("When the rollback was written."),
  })
  .describe("The last rollback Tollgate performed.");

const prometheusOutageSchema = z
  .object({
    from: time("The first pass that could not query Prometheus."),
    to: time("The first pass that could again; absent while it still cannot.").optional(),
  })
  .describe(
    "The last stretch in which Prometheus could not be queried for this profile. Its samples may be missing there, so a rollback waits while it covers more than a tenth of the SLO window.",
  );

const canaryStatusSchema = z
  .object({
    phase: z
      .enum(CANARY_PHASES)
      .describe(
        "Initializing (setting up primary, subsets and routes), Waiting (frozen or no new revision), Progressing, Promoting, Aborting (the canary failed; its traffic stays on it until primary has the replicas to carry everything), Succeeded, Failed (all traffic back on primary, the canary scaled to 0).",
      ),
    weight: z.int().min(0).max(100).describe("Percent of traffic routed to the canary now."),
    revision: z.int().min(0).optional().describe("Deployment revision under test."),
    templateHash: z.string().optional().describe("Pod-template hash of the revision under test."),
    step: z.int().min(0).describe("Traffic step the canary is on: 1 at stepWeight, one more per passed check; 0 while the canary's pods start."),
    failedChecks: z.int().min(0).describe("Checks failed so far; the canary fails at spec.canary.failureLimit."),
    lastCheck: time("When the canary was last checked; the next step is due one interval later.").optional(),
    lastVerdict: z
      .object({
        verdict: z
          .enum(CHECK_VERDICTS)
          .describe("Passed, BurnRateExceeded or PodsNotReady (a failed check), NoData or InsufficientData (the step held)."),
        message: z.string().describe("The check's numbers, e.g. the canary's burn rate and request count."),
      })
      .optional()
      .describe("The verdict of the canary's last check, so a held or failing canary says why between checks."),
    startedAt: time("When this canary began.").optional(),
  })
  .describe("Progress of the current or last canary; kept in status so a restarted operator resumes the same step.");

const autoscalingStatusSchema = z
  .object({
    cpuTarget: z.int().min(1).max(100).describe("CPU utilization target the HPA has now, percent; below spec.autoscaling.cpuUtilization while sloBoost is active."),
    boostedSince: time("When a measurement last saw a latency SLO burning while boosted; the cool-down counts from here. Absent when not boosted.").optional(),
  })
  .describe("The autoscaling Tollgate applied.");

const notificationStatusSchema = z
  .object({
    event: z.enum(NOTIFICATION_EVENTS).describe("The transition notified."),
    sentAt: time("When the notification was sent."),
    receivers: z.array(z.string()).optional().describe("Receivers that accepted it."),
    error: z.string().optional().describe("Why sending failed, for receivers that did not accept it."),
  })
  .describe("The last notification of one transition, so a restarted operator does not send it twice.");

export const OUTBOX_KINDS = ["Event", "Notification"] as const;
export const MAX_OUTBOX = 32;

const outboxEntrySchema = z
  .object({
    id: z
      .string()
      .regex(/^[0-9a-f]{16,32}$/)
      .describe("Stable id of this one event or notification: the Event's name suffix and the notification's Idempotency-Key."),
    kind: z.enum(OUTBOX_KINDS).describe("Event (a Kubernetes Event on the profile) or Notification (to spec.policy.notifications)."),
    reason: z.string().max(1024).describe("The Event's CamelCase reason, or the notified transition (Frozen, RolledBack, ...)."),
    message: z.string().max(32768).describe("The Event's message or the notification's summary."),
    type: z.enum(["Normal", "Warning"]).optional().describe("Event type."),
    severity: z.enum(["critical", "error", "warning", "info"]).optional().describe("Notification severity."),
    dedupKey: z.string().max(255).optional().describe("PagerDuty dedup_key: one per profile and incident."),
    details: z.string().max(4096).optional().describe("The notification's numbers, as a JSON object of strings and numbers."),
    at: time("When the transition was decided."),
    attempts: z.int().min(0).optional().describe("Delivery passes tried so far."),
    notBefore: time("When the next delivery pass may try: passes back off, 5 s doubling up to 5 min.").optional(),
    delivered: z.array(z.string()).optional().describe("Receivers that already accepted this notification: never sent to again."),
    lastError: z.string().max(4096).optional().describe("Why the last delivery pass failed for some receiver."),
  })
  .describe("One event or notification a pass decided and has not carried out yet.");

export const profileStatusSchema = z
  .object({
    observedGeneration: z.int().min(0).optional().describe("The spec generation the status reflects."),
    phase: z
      .enum(PHASES)
      .optional()
      .describe("Healthy, Warning (budget >= warnAt), Frozen (>= freezeAt), RollingBack, Progressing (a canary runs), Degraded (no data or invalid spec), Terminating (deleted; handing the Deployment back) or Unknown."),
    budget: budgetStatusSchema.optional(),
    slos: z
      .array(sloStatusSchema)
      .optional()
      .meta({ description: "Per-SLO measurements.", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] }),
    lastKnownGood: revisionSchema(
      "The newest revision that ran for policy.stableAfter while budget consumption was below freezeAt and the short-window burn rate below 1: the rollback target.",
    ).optional(),
    candidate: revisionSchema("The live revision being watched for policy.stableAfter to become last known good.").optional(),
    target: z
      .string()
      .max(253)
      .optional()
      .describe("The Deployment this profile last governed: when spec.targetRef moves, or the profile is deleted, Tollgate hands this one back first."),
    freeze: freezeStatusSchema.optional(),
    rollback: rollbackStatusSchema.optional(),
    prometheusOutage: prometheusOutageSchema.optional(),
    canary: canaryStatusSchema.optional(),
    autoscaling: autoscalingStatusSchema.optional(),
    notifications: z
      .array(notificationStatusSchema)
      .optional()
      .meta({ description: "Last notification per transition.", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["event"] }),
    outbox: z
      .array(outboxEntrySchema)
      .max(MAX_OUTBOX)
      .optional()
      .meta({
        description:
          "Events and notifications a pass decided, recorded before any of them is carried out and removed once done: a restarted operator carries out what is left, and nothing twice.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["id"],
      }),
    conditions: z
      .array(conditionSchema)
      .optional()
      .meta({
        description: "Latest observations: Ready, MetricsAvailable, BudgetHealthy, DeploymentsFrozen, RolledBack, RollbackSkipped, CanaryProgressing.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
      }),
  })
  .describe("What Tollgate observed and decided. Everything a restarted operator needs to resume lives here.");

export type ProfileStatus = z.output<typeof profileStatusSchema>;
export type Condition = z.output<typeof conditionSchema>;
export type OutboxEntry = z.output<typeof outboxEntrySchema>;
export type PrometheusOutage = z.output<typeof prometheusOutageSchema>;
