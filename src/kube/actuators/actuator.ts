import type { Logger } from "pino";
import type { PerformanceProfile } from "../../api/types.ts";
import type { SloProfile } from "../../slo/plan.ts";
import type { DestinationRule, HorizontalPodAutoscaler, VirtualService } from "../../traffic/index.ts";
import type { Deployment, ReplicaSet } from "../../workload/deployment.ts";
import type { Action } from "./actions.ts";

/** What an actuator may look at while it carries out one action: the pass's snapshot of the cluster. */
export interface ActContext {
  namespace: string;
  profile: PerformanceProfile;
  /** The profile's spec as an SLO profile, for its recording rules; absent when the spec is invalid. */
  slo?: SloProfile;
  prometheusUrl?: string;
  deployments: ReadonlyMap<string, Deployment>;
  replicaSets: readonly ReplicaSet[];
  current: {
    virtualService(name: string): VirtualService | undefined;
    destinationRule(name: string): DestinationRule | undefined;
    hpa(name: string): HorizontalPodAutoscaler | undefined;
  };
  signal: AbortSignal;
  log: Logger;
}

/**
 * Carries out one kind of action, idempotently: doing an action twice, or after a crash halfway,
 * leaves the cluster as doing it once does. Resolves to whether it wrote anything (for logs and the
 * actions metric); throws when the write failed, which stops the pass and retries it.
 */
export interface Actuator<A extends Action> {
  act(action: A, ctx: ActContext): Promise<boolean>;
}

/** One actuator per kind of action. */
export type Actuators = { [K in Action["kind"]]: Actuator<Extract<Action, { kind: K }>> };
