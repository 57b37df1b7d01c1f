import type { PerformanceProfile } from "../api/types.ts";
import { validateCachedSpec } from "../api/validate.ts";
import type { Deployment, ReplicaSet } from "../workload/deployment.ts";
import type { KubeObject, ObjectMeta } from "./types.ts";

/**
 * What the informers keep of each object: the copy a reconcile reads, cut down before it enters the
 * cache, since a cache holds every object of its kind for the life of the process.
 *
 * What may go is bounded by what is read and by what is written back. No write sends a cached object's
 * body: status is applied from a fresh object (record.ts), Deployments are patched field by field or
 * applied from objects built anew (kube/deployments.ts, kube/canary.ts), owned objects are applied from
 * their desired form (owned.ts), and the one PUT (client.replace) is leader election's, of a Lease no
 * informer caches. So nothing dropped here can be deleted in the cluster by a write. Two things a write
 * does depend on are kept: resourceVersion (JSON Patch tests and freshest()), and whether
 * metadata.annotations exists at all (promotePrimary adds an empty map when it does not, which on a
 * real map would replace it).
 */
export type CacheTransform<T extends KubeObject> = (obj: T) => T;

/**
 * kubectl's client-side apply record: a second copy of the whole manifest as the user last applied it,
 * often larger than the rest of the object. Tollgate never reads it.
 */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * metadata.managedFields: per field manager, a tree of every field it set, as long as the object
 * itself again on a server-side-applied object. Only the API server reads it. Every cache drops it.
 */
export function withoutManagedFields<T extends KubeObject>(obj: T): T {
  if (!obj.metadata?.managedFields) return obj;
  return { ...obj, metadata: slimMeta(obj.metadata, false) };
}

/**
 * A profile: everything but managedFields and kubectl's copy of the spec; status and every other
 * annotation are read. A valid spec is kept in the parsed form every pass reads (validateCachedSpec),
 * with defaults filled in, instead of as written: one copy per profile rather than two. An invalid one
 * is kept as written, for the pass to report.
 */
export function cachedProfile(p: PerformanceProfile): PerformanceProfile {
  const valid = p.spec === undefined ? undefined : validateCachedSpec(p.spec);
  const conditions = p.status?.conditions;
  return {
    ...p,
    ...(p.metadata ? { metadata: slimMeta(p.metadata, true) } : {}),
    ...(valid?.ok ? { spec: valid.spec } : {}),
    ...(p.status && Array.isArray(conditions) ? { status: { ...p.status, conditions: sharedConditions(conditions) } } : {}),
  };
}

type Condition = NonNullable<NonNullable<PerformanceProfile["status"]>["conditions"]>[number];

/**
 * Condition types, statuses and reasons, one copy of each spelling for every profile: JSON parsing
 * gives each profile its own, and with six conditions a profile they were a fifth of its cached bytes.
 * Bounded, since another writer could set any condition; when full it starts over.
 */
const spellings = new Map<string, string>();
const SPELLINGS_KEPT = 1_000;

function spelling<T>(s: T): T {
  if (typeof s !== "string") return s;
  const found = spellings.get(s);
  if (found !== undefined) return found as T;
  if (spellings.size >= SPELLINGS_KEPT) spellings.clear();
  spellings.set(s, s);
  return s;
}

/** A profile's conditions with shared spellings, and one copy of a transition time several share (set in one pass). */
function sharedConditions(conditions: readonly Condition[]): Condition[] {
  const times = new Map<string, string>();
  return conditions.map((c) => {
    if (typeof c !== "object" || c === null) return c;
    const time = c.lastTransitionTime;
    const sharedTime = typeof time === "string" ? (times.get(time) ?? (times.set(time, time), time)) : time;
    return { ...c, type: spelling(c.type), status: spelling(c.status), reason: spelling(c.reason), lastTransitionTime: sharedTime };
  });
}

/**
 * A Deployment: without managedFields, kubectl's copy of the manifest, the pod spec of its template
 * and its status conditions. Of the template only its labels are read (the canary track, canary/facts.ts); every
 * template Tollgate writes (rollback, promotion, a new primary) is a ReplicaSet's, never the
 * Deployment's own.
 */
export function cachedDeployment(d: Deployment): Deployment {
  const spec = d.spec?.template?.spec !== undefined ? { ...d.spec, template: templateMetadataOnly(d.spec.template) } : d.spec;
  return { ...d, ...(d.metadata ? { metadata: slimMeta(d.metadata, true) } : {}), ...(spec ? { spec } : {}), ...(d.status ? { status: statusCounts(d.status) } : {}) };
}

type DeploymentStatus = NonNullable<Deployment["status"]>;
const STATUS_COUNTS = ["observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"] as const;

/** Of a Deployment's status, what is read: observedGeneration and the replica counts, not the conditions. */
function statusCounts(status: DeploymentStatus): DeploymentStatus {
  const kept: DeploymentStatus = {};
  for (const k of STATUS_COUNTS) if (status[k] !== undefined) kept[k] = status[k];
  return kept;
}

/**
 * A ReplicaSet: its metadata (owner, revision annotation, pod-template-hash label) and, of its template,
 * the labels (the canary track); no pod spec and no status. A Deployment keeps up to ten of them
 * (revisionHistoryLimit), each with a whole pod spec, so they were most of the cache's bytes. The pod
 * spec a rollback or a promotion writes is read whole from the API server when it is about to be
 * written (withPodTemplate, kube/deployments.ts).
 */
export function cachedReplicaSet(rs: ReplicaSet): ReplicaSet {
  const spec = rs.spec ? { ...rs.spec, ...(rs.spec.template ? { template: templateMetadataOnly(rs.spec.template) } : {}) } : undefined;
  const { status: _, ...rest } = rs;
  return { ...rest, ...(rs.metadata ? { metadata: slimMeta(rs.metadata, false) } : {}), ...(spec ? { spec } : {}) };
}

function templateMetadataOnly(template: NonNullable<NonNullable<Deployment["spec"]>["template"]>): NonNullable<NonNullable<Deployment["spec"]>["template"]> {
  return template.metadata ? { metadata: template.metadata } : {};
}

function slimMeta(meta: ObjectMeta, dropLastApplied: boolean): ObjectMeta {
  const { managedFields: _, ...rest } = meta;
  if (!dropLastApplied || rest.annotations?.[LAST_APPLIED_ANNOTATION] === undefined) return rest;
  // The map stays, empty if need be: whether it exists decides the shape of a JSON Patch (see above).
  const { [LAST_APPLIED_ANNOTATION]: __, ...annotations } = rest.annotations;
  return { ...rest, annotations };
}
