import type { TileOptions } from "../../slo/tiles.ts";
import type { DestinationRule, HorizontalPodAutoscaler, VirtualService } from "../../traffic/index.ts";

/**
 * What a pass asks the cluster for, in the order to do it. Every action is level-triggered: `plan`
 * emits it for as long as the cluster differs from what the profile wants, and its actuator makes it
 * idempotent, so a crash or a failed write is mended by the next pass. Events and notifications are
 * not actions: they are edge-triggered and travel through the status outbox instead.
 */
export type Action = FinalizerAction | DeploymentAction | IstioAction | HpaAction | RulesAction;

/** The profile's own finalizer: added before Tollgate changes anything it must hand back, removed last. */
export type FinalizerAction = { kind: "finalizer"; op: "add" | "remove" };

export type DeploymentAction =
  /** Pause and label `name` as frozen by this profile, with `message` for the admission policy to quote. */
  | { kind: "deployment"; op: "freeze"; name: string; reason: string; message: string }
  /** Lift this profile's freeze of `name`: never another profile's. */
  | { kind: "deployment"; op: "unfreeze"; name: string; message: string }
  /**
   * Write the template of `name`'s ReplicaSet with `templateHash` back and resume it; with
   * `primary` set, that template also goes to `<name>-primary`, which serves in canary mode.
   */
  | { kind: "deployment"; op: "rollback"; name: string; toTemplateHash: string; toRevision: number; fromRevision: number; primary?: string }
  /** Label `name`'s pod template as the canary track (once; it rolls its pods). */
  | { kind: "deployment"; op: "labelTrack"; name: string }
  /** Create `<target>-primary` from the target's ReplicaSet with `templateHash`. */
  | { kind: "deployment"; op: "createPrimary"; target: string; replicas: number; templateHash: string; revision: number }
  /** Copy the template of the target's ReplicaSet with `templateHash` to primary. */
  | { kind: "deployment"; op: "promote"; target: string; primary: string; templateHash: string; revision: number }
  /** Set spec.replicas of `name`; with `onlyUp`, only ever raise it (its HPA owns it otherwise). */
  | { kind: "deployment"; op: "scale"; name: string; replicas: number; onlyUp?: boolean }
  /** Delete `<target>-primary`, which this profile created: only when handing the target back. */
  | { kind: "deployment"; op: "deletePrimary"; name: string };

export type IstioAction =
  | { kind: "istio"; op: "apply"; object: VirtualService | DestinationRule }
  | { kind: "istio"; op: "delete"; resource: "VirtualService" | "DestinationRule"; name: string };

export type HpaAction = { kind: "hpa"; op: "apply"; object: HorizontalPodAutoscaler } | { kind: "hpa"; op: "delete"; name: string };

/**
 * The profile's recording rules, where its Prometheus loads them (rules directory or PrometheusRule),
 * with `tiles` saying how far its tiles reach; or their removal.
 */
export type RulesAction = { kind: "rules"; op: "ensure"; tiles?: TileOptions } | { kind: "rules"; op: "remove" };

/** A one-line description for logs and errors. */
export function describeAction(a: Action): string {
  switch (a.kind) {
    case "finalizer":
      return `${a.op} finalizer`;
    case "deployment":
      return `${a.op} Deployment ${"name" in a ? a.name : a.target}`;
    case "istio":
      return a.op === "apply" ? `apply ${a.object.kind} ${a.object.metadata.name}` : `delete ${a.resource} ${a.name}`;
    case "hpa":
      return a.op === "apply" ? `apply HorizontalPodAutoscaler ${a.object.metadata.name}` : `delete HorizontalPodAutoscaler ${a.name}`;
    case "rules":
      return `${a.op} recording rules`;
  }
}
