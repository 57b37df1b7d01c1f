/**
 * What the policy needs to know of the target Deployment. Structurally a subset of workload's
 * DeploymentState, so the controller hands that over as is, and the policy stays free of the workload module.
 */
export interface DeploymentFacts {
  /** The Deployment's `deployment.kubernetes.io/revision`: the live revision. */
  revision: number;
  /**
   * pod-template-hash of the live revision's ReplicaSet; undefined until the Deployment controller has
   * created it. Revisions are compared by this hash, never by number: a rollback (like `kubectl rollout
   * undo`) gives the old template a new, higher revision number.
   */
  templateHash: string | undefined;
  /** The live template's rollout has finished: every replica updated and available. */
  rolloutComplete: boolean;
  /** `spec.paused`. */
  paused: boolean;
  /** Tollgate's `tollgate.dev/frozen` label is set: Tollgate froze it, and only then does Tollgate unfreeze it. */
  frozen: boolean;
  /** The ReplicaSets the Deployment still owns: the revisions a rollback can return to. */
  revisions: ReadonlyArray<{ revision: number; templateHash: string }>;
}

/** The ReplicaSet revision that holds `templateHash`, if the Deployment still keeps one. */
export function revisionWithTemplate(d: DeploymentFacts, templateHash: string): { revision: number; templateHash: string } | undefined {
  return d.revisions.find((r) => r.templateHash === templateHash);
}
