import type { ProfileSpec } from "../api/profile.ts";
import type { ProfileStatus } from "../api/status.ts";
import type { Severity } from "../policy/index.ts";
import type { CanaryCommand } from "./command.ts";

export type CanarySpec = NonNullable<ProfileSpec["canary"]>;
export type CanaryStatus = NonNullable<ProfileStatus["canary"]>;

/**
 * What the shell reads from one Deployment. Counts are of pods running the Deployment's CURRENT
 * template, so a rollout half done never looks ready: the shell derives them from the Deployment's
 * status only once status.observedGeneration has caught up with metadata.generation (0 before).
 */
export interface WorkloadFacts {
  /**
   * For the target: the pod-template-hash of its newest ReplicaSet. For primary: the target template
   * hash primary's template was copied from (the shell records it on primary at ensurePrimary and
   * promote), since primary's own pod-template-hash differs by its labels.
   */
  templateHash: string;
  /** spec.replicas. */
  desiredReplicas: number;
  /** Ready pods of the current template (status.updatedReplicas and readyReplicas, the smaller). */
  readyReplicas: number;
  /** No pods of an older template left and observedGeneration caught up: the rollout is over. */
  rolloutComplete: boolean;
}

/** The canary workload's own numbers for one gating SLO over the last interval. */
export interface CanarySloReading {
  slo: string;
  /** Error ratio of the canary's requests over the interval / (1 − objective); absent without requests. */
  burnRate?: number;
  /** Requests the canary served over the interval. */
  events?: number;
}

export interface CanaryMeasurement {
  /** Set when Prometheus could not answer; the check holds. */
  error?: string;
  slos: CanarySloReading[];
}

/** Why no canary may start or promote; undefined when rollouts are not frozen. See canaryFreeze. */
export interface CanaryFreeze {
  /** CamelCase, e.g. BudgetExhausted or RollingBack. */
  reason: string;
  message: string;
}

export interface CanaryInput {
  profile: { namespace: string; name: string };
  /** A valid, defaulted spec. Without spec.canary the decision is empty. */
  spec: ProfileSpec;
  /** status.canary as stored: undefined on the first reconcile, whatever a previous leader wrote after a restart. */
  status: CanaryStatus | undefined;
  /** The user's Deployment: the source of new revisions and, during a canary, the canary workload. */
  target: WorkloadFacts & { revision: number };
  /** `<name>-primary`; undefined while it does not exist. */
  primary: WorkloadFacts | undefined;
  /** The canary workload's burn rates over the last interval; undefined when none were read. */
  canaryMeasurement: CanaryMeasurement | undefined;
  /**
   * The share of traffic the VirtualService routes to the canary now (0 without one): a step's interval
   * counts only once its weight is what the mesh routes.
   */
  routedWeight: number;
  frozen: CanaryFreeze | undefined;
  /**
   * A person's promote, abort or retry (the tollgate.dev/canary-command annotation), when valid. It acts
   * only on the run it names (template hash and start), so it is honoured once however long it stays.
   */
  command?: CanaryCommand;
  now: Date;
}

/**
 * What the canary asks the shell to do, in order. Cluster actions are level-triggered: the decision
 * repeats them every reconcile for as long as they describe the wanted state (the step machine cannot
 * see the VirtualService), so each must be idempotent. Events and notifications are edge-triggered:
 * emitted once, on the transition that caused them.
 */
export type CanaryAction =
  /** Create `<name>-primary` from the target's current template with `replicas`, if it does not exist. */
  | { action: "ensurePrimary"; source: "target"; replicas: number }
  /** The VirtualService's route weights, percent; they always sum to 100. */
  | { action: "setWeights"; primary: number; canary: number }
  /** Set the target's (canary's) spec.replicas. */
  | { action: "scaleCanary"; replicas: number }
  /** Raise primary's spec.replicas to at least `replicas`; never lowers it (its HPA owns the rest). */
  | { action: "scalePrimary"; replicas: number }
  /**
   * Copy the pod template of the target's ReplicaSet with `templateHash` (the revision that passed)
   * to primary. Not "the target's template now": a revision pushed during promotion was never tested.
   */
  | { action: "promote"; templateHash: string; revision: number }
  | { action: "event"; type: "Normal" | "Warning"; reason: string; message: string }
  | {
      action: "notify";
      event: "CanaryPromoted" | "CanaryFailed";
      severity: Severity;
      summary: string;
      /** One key per profile and canary revision. */
      dedupKey: string;
      details: Record<string, string | number>;
    };

export type CanaryNotifyAction = Extract<CanaryAction, { action: "notify" }>;

/** Why the canary is where it is, for the CanaryProgressing condition and logs. */
export interface CanarySummary {
  /** True while a canary or its setup is under way (Initializing, Progressing, Promoting, Aborting or another drain). */
  active: boolean;
  /** CamelCase. */
  reason: string;
  message: string;
}

export interface CanaryDecision {
  /** The next status.canary; undefined when the spec has no canary. */
  status: CanaryStatus | undefined;
  /** In order: cluster actions, then events, then notifications. */
  actions: CanaryAction[];
  /** When to reconcile again at the latest; undefined without a canary spec. */
  requeueAfterMs: number | undefined;
  summary: CanarySummary;
}
