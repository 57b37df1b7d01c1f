// Builders for the profile controller's tests: a snapshot of one profile and the Deployments around
// it, in the shapes the informers deliver. Test support only.
import type { ProfileSpec } from "../../api/profile.ts";
import type { ProfileStatus } from "../../api/status.ts";
import type { PerformanceProfile } from "../../api/types.ts";
import { FINALIZER, FROZEN_BY_ANNOTATION, FROZEN_LABEL } from "../../kube/labels.ts";
import type { Measurements } from "../../slo/types.ts";
import { PRIMARY, SOURCE_HASH_ANNOTATION, TRACK_LABEL, virtualService } from "../../traffic/index.ts";
import type { Deployment, ReplicaSet } from "../../workload/deployment.ts";
import type { KubeObject } from "../../kube/types.ts";
import { byNamespace, byOwnerUid } from "../../runtime/cache-index.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { Snapshot } from "./snapshot.ts";

export const NS = "games";

export function profile(name: string, spec: ProfileSpec, over: { status?: ProfileStatus; finalizer?: boolean; deleting?: boolean; created?: string } = {}): PerformanceProfile {
  return {
    apiVersion: "tollgate.dev/v1alpha1",
    kind: "PerformanceProfile",
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      generation: 1,
      resourceVersion: "10",
      creationTimestamp: over.created ?? "2026-11-01T00:00:00Z",
      ...(over.finalizer === false ? {} : { finalizers: [FINALIZER] }),
      ...(over.deleting ? { deletionTimestamp: "2026-11-22T09:00:00Z" } : {}),
    },
    spec,
    ...(over.status ? { status: over.status } : {}),
  };
}

/** A Deployment at `revision` with its rollout complete; `frozenBy` names the profile holding a freeze. */
export function deployment(name: string, over: { revision?: number; hash?: string; replicas?: number; ready?: number; frozenBy?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): Deployment {
  const replicas = over.replicas ?? 2;
  const ready = over.ready ?? replicas;
  return {
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      generation: 1,
      resourceVersion: "5",
      labels: { ...over.labels, ...(over.frozenBy ? { [FROZEN_LABEL]: "true" } : {}) },
      annotations: { "deployment.kubernetes.io/revision": String(over.revision ?? 1), ...over.annotations, ...(over.frozenBy ? { [FROZEN_BY_ANNOTATION]: over.frozenBy } : {}) },
    },
    spec: { replicas, paused: over.frozenBy !== undefined, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } } } },
    status: { observedGeneration: 1, replicas, updatedReplicas: ready, readyReplicas: ready, availableReplicas: ready },
  };
}

/** `<target>-primary` as Tollgate creates it for `profileName`, running the target's template `hash`. */
export function primary(target: string, profileName: string, hash: string, replicas = 2): Deployment {
  return deployment(`${target}-primary`, {
    replicas,
    labels: { "app.kubernetes.io/managed-by": "tollgate", "tollgate.dev/profile": profileName },
    annotations: { [SOURCE_HASH_ANNOTATION]: hash },
  });
}

/** A ReplicaSet of `owner` for `revision` with pod-template-hash `hash`. */
export function replicaSet(owner: Deployment, revision: number, hash: string): ReplicaSet {
  return {
    metadata: {
      name: `${owner.metadata?.name}-${hash}`,
      namespace: NS,
      labels: { "pod-template-hash": hash },
      annotations: { "deployment.kubernetes.io/revision": String(revision) },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: owner.metadata?.name ?? "", uid: owner.metadata?.uid ?? "", controller: true }],
    },
    spec: { template: { metadata: { labels: { app: owner.metadata?.name ?? "", [TRACK_LABEL]: PRIMARY, "pod-template-hash": hash } } } },
  };
}

/** What the profile owns when its canary's VirtualService routes `canary` % to the canary (the snapshot's `owned`). */
export function routing(spec: ProfileSpec, canary: number, profileName = "game"): Snapshot["owned"] {
  return { virtualServices: [virtualService(NS, profileName, spec.canary!, { primary: 100 - canary, canary }, `uid-${profileName}`)], destinationRules: [], hpas: [] };
}

export function snapshot(p: PerformanceProfile, over: Partial<Snapshot> & { deploymentList?: Deployment[]; measurements?: Measurements } = {}): Snapshot {
  const { deploymentList = [], ...rest } = over;
  return {
    namespace: NS,
    name: p.metadata?.name ?? "",
    profile: p,
    deleting: p.metadata?.deletionTimestamp !== undefined,
    spec: p.spec as ProfileSpec,
    deployments: new Map(deploymentList.map((d) => [d.metadata?.name ?? "", d])),
    replicaSets: [],
    managed: { virtualServices: [], destinationRules: [], hpas: [] },
    owned: { virtualServices: [], destinationRules: [], hpas: [] },
    istio: true,
    recordingRules: false,
    ...rest,
  };
}

/** An informer's cache of `objects`, with the namespace and owner indexes the operator gives informers. */
export function informer<T extends KubeObject, I extends "namespace" | "owner" = never>(objects: T[]): Informer<T, I> {
  const byKey = new Map(objects.map((o) => [`${o.metadata?.namespace}/${o.metadata?.name}`, o]));
  const keys = { namespace: byNamespace, owner: byOwnerUid };
  const fake: Pick<Informer<T, I>, "get" | "list" | "on" | "byIndex"> = {
    get: (key) => byKey.get(key),
    list: () => [...byKey.values()],
    on: () => undefined,
    byIndex: (index, value) => [...byKey.values()].filter((o) => keys[index](o).includes(value)),
  };
  return fake as Informer<T, I>;
}
