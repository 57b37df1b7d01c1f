import type { KubeObject } from "../kube/types.ts";

/** The values one object is filed under in an index: its namespace, its owners' uids. */
export type IndexKeys<T> = (obj: T) => readonly string[];

/** Objects by namespace: what a namespaced lookup costs is that namespace's objects, not the cluster's. */
export const byNamespace: IndexKeys<KubeObject> = (obj) => [obj.metadata?.namespace ?? ""];

/** Objects by the uid of each of their owners: a Deployment's ReplicaSets, a profile's HPA. */
export const byOwnerUid: IndexKeys<KubeObject> = (obj) => (obj.metadata?.ownerReferences ?? []).map((o) => o.uid);

/**
 * One index of an informer's cache, kept by the informer on every add, update and delete. It files
 * objects by cache key under each of their values; an update is told the copy it replaces, whose values
 * are computed again rather than stored, so an index costs one map entry per object and value.
 */
export class CacheIndex<T> {
  private readonly keysOf: IndexKeys<T>;
  private readonly byValue = new Map<string, Map<string, T>>();

  constructor(keysOf: IndexKeys<T>) {
    this.keysOf = keysOf;
  }

  /** `obj` is now the cached copy under `key`; `old` the one it replaces, if any. */
  set(key: string, obj: T, old: T | undefined): void {
    if (old !== undefined) this.delete(key, old);
    for (const value of this.keysOf(obj)) {
      let objects = this.byValue.get(value);
      if (!objects) this.byValue.set(value, (objects = new Map()));
      objects.set(key, obj);
    }
  }

  /** `old`, cached under `key`, is gone. */
  delete(key: string, old: T): void {
    for (const value of this.keysOf(old)) {
      const objects = this.byValue.get(value);
      objects?.delete(key);
      if (objects?.size === 0) this.byValue.delete(value);
    }
  }

  /** The objects filed under `value`. */
  get(value: string): T[] {
    const objects = this.byValue.get(value);
    return objects ? [...objects.values()] : [];
  }

  /** How many values have objects filed under them. */
  get size(): number {
    return this.byValue.size;
  }
}
