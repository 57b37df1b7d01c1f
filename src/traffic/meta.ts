import type { ObjectMeta, OwnerReference } from "../kube/types.ts";

/** The label selector of every object Tollgate writes for a profile. */
export const MANAGED_BY_TOLLGATE = "app.kubernetes.io/managed-by=tollgate";

/** Which profile an object Tollgate writes belongs to; the same labels the PrometheusRule carries. */
export function tollgateLabels(profileName: string): Record<string, string> {
  return {
    "app.kubernetes.io/managed-by": "tollgate",
    // Label values stop at 63 characters; a longer profile name still owns the object by ownerReference.
    ...(profileName.length <= 63 ? { "tollgate.dev/profile": profileName } : {}),
  };
}

/**
 * The profile as controller owner, so deleting the profile garbage-collects what Tollgate wrote for it.
 * Argo CD also shows owned objects as the profile's children instead of as untracked resources.
 */
export function profileOwner(profileName: string, uid: string): OwnerReference {
  return { apiVersion: "tollgate.dev/v1alpha1", kind: "PerformanceProfile", name: profileName, uid, controller: true, blockOwnerDeletion: true };
}

export function ownedMeta(name: string, namespace: string, profileName: string, uid: string): ObjectMeta & { name: string; namespace: string } {
  return { name, namespace, labels: tollgateLabels(profileName), ownerReferences: [profileOwner(profileName, uid)] };
}

/**
 * Istio reads durations as protobuf Durations and its CRD checks them with CEL `duration()`; neither
 * reads the API's day, week or year units, but both read whole or fractional seconds.
 */
export function secondsDuration(ms: number): string {
  return `${ms / 1000}s`;
}
