import type { KubeObject } from "../kube/types.ts";

/**
 * The newer of two copies of one object: the informer's, and the one a write returned. A reconcile
 * triggered by an event on another object (the Deployment it just froze) can run before the informer
 * has delivered its own status write; acting on the older copy would repeat the transition, and with it
 * the notification. resourceVersions are compared as etcd revisions (integers); if either is not one,
 * the informer's copy wins, as it would without this.
 */
export function freshest<T extends KubeObject>(cached: T | undefined, written: T | undefined): T | undefined {
  if (!cached || !written) return cached;
  const a = Number(cached.metadata?.resourceVersion);
  const b = Number(written.metadata?.resourceVersion);
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) return cached;
  return b > a ? written : cached;
}
