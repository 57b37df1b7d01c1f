/** Labels and annotations Tollgate sets on the objects it governs; all under tollgate.dev/. */

/** On a Deployment Tollgate froze; the admission policy refuses template changes while it is "true". */
export const FROZEN_LABEL = "tollgate.dev/frozen";
/** On a frozen Deployment: the PerformanceProfile that froze it. */
export const FROZEN_BY_ANNOTATION = "tollgate.dev/frozen-by";
/** On a frozen Deployment: why, in one sentence with the numbers; the admission policy quotes it. */
export const FREEZE_REASON_ANNOTATION = "tollgate.dev/freeze-reason";
/**
 * The field manager of every Tollgate write, so Argo CD and Tollgate own separate fields; the admission
 * policy lets it through a freeze. Defined here, not in client.ts, so pure code can name it without
 * loading the Kubernetes client.
 */
export const FIELD_MANAGER = "tollgate";

/** The Deployment controller's record of which revision a Deployment or ReplicaSet is. */
export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
/** The label the Deployment controller puts on a ReplicaSet's pods: a hash of the pod template. */
export const POD_TEMPLATE_HASH_LABEL = "pod-template-hash";

/**
 * On a PerformanceProfile: Tollgate hands the Deployment back (freeze lifted, traffic on one workload,
 * owned objects removed) before the profile may go away.
 */
export const FINALIZER = "tollgate.dev/cleanup";
