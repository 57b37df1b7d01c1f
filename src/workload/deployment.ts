// The Deployment and ReplicaSet shapes Tollgate reads, and what their state says (the live revision, the
// revisions to roll back to, whether a rollout finished). Pure, so the policy and the canary step machine
// can use it without loading the Kubernetes client; kube/deployments.ts does the reading and writing.
import { FROZEN_LABEL, POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION } from "../kube/labels.ts";
import type { KubeObject, OwnerReference } from "../kube/types.ts";

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export interface Deployment extends KubeObject {
  spec?: {
    replicas?: number;
    paused?: boolean;
    selector?: { matchLabels?: Record<string, string> };
    /** From the informer, metadata only (kube/cached.ts): pod templates are read from ReplicaSets. */
    template?: PodTemplate;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
  };
}

export interface ReplicaSet extends KubeObject {
  spec?: { replicas?: number; template?: PodTemplate };
  status?: { replicas?: number; readyReplicas?: number };
}

/** One revision of a Deployment, as its ReplicaSet remembers it. */
export interface Revision {
  revision: number;
  templateHash: string;
  replicaSet: string;
}

/** What the policy needs to know of the target Deployment, read from the cluster. */
export interface DeploymentState {
  name: string;
  /** deployment.kubernetes.io/revision of the Deployment: the live revision. */
  revision: number;
  /** pod-template-hash of the live revision's ReplicaSet; undefined until the controller created it. */
  templateHash: string | undefined;
  /** The rollout of the live template has finished: every replica updated and available. */
  rolloutComplete: boolean;
  paused: boolean;
  /** Tollgate's frozen label is set. */
  frozen: boolean;
  /** Revisions Tollgate can roll back to, newest first. */
  revisions: Revision[];
}

/** The ReplicaSet is controlled by the Deployment. */
export function ownedBy(rs: ReplicaSet, deployment: Deployment): boolean {
  return (rs.metadata?.ownerReferences ?? []).some((o: OwnerReference) => o.controller && o.uid === deployment.metadata?.uid);
}

function revisionOf(obj: KubeObject): number {
  const n = Number(obj.metadata?.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(n) ? n : 0;
}

/** A rollout is complete as `kubectl rollout status` judges it. */
export function rolloutComplete(d: Deployment): boolean {
  const desired = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) === desired &&
    (s.replicas ?? 0) === desired &&
    (s.availableReplicas ?? 0) === desired
  );
}

/** The Deployment's state from its object and its ReplicaSets (those it does not own are ignored). */
export function deploymentState(deployment: Deployment, allReplicaSets: readonly ReplicaSet[]): DeploymentState {
  const revision = revisionOf(deployment);
  const revisions = allReplicaSets
    .filter((rs) => ownedBy(rs, deployment))
    .map((rs) => ({
      revision: revisionOf(rs),
      templateHash: rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] ?? "",
      replicaSet: rs.metadata?.name ?? "",
    }))
    .filter((r) => r.templateHash !== "")
    .sort((a, b) => b.revision - a.revision);
  return {
    name: deployment.metadata?.name ?? "",
    revision,
    templateHash: revisions.find((r) => r.revision === revision)?.templateHash,
    rolloutComplete: rolloutComplete(deployment),
    paused: deployment.spec?.paused === true,
    frozen: deployment.metadata?.labels?.[FROZEN_LABEL] === "true",
    revisions,
  };
}
