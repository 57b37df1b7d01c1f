import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube/types.ts";
import { byNamespace, byOwnerUid, CacheIndex } from "./cache-index.ts";

const rs = (name: string, namespace: string, ...owners: string[]): KubeObject => ({
  metadata: { name, namespace, ownerReferences: owners.map((uid) => ({ apiVersion: "apps/v1", kind: "Deployment", name: uid, uid, controller: true })) },
});
const names = (list: KubeObject[]) => list.map((o) => o.metadata?.name).sort();

describe("CacheIndex", () => {
  it("files each object under every value it has, and finds nothing under a value none has", () => {
    const index = new CacheIndex<KubeObject>(byOwnerUid);
    index.set("a/one", rs("one", "a", "d1"), undefined);
    index.set("a/two", rs("two", "a", "d1", "d2"), undefined);
    expect(names(index.get("d1"))).toEqual(["one", "two"]);
    expect(names(index.get("d2"))).toEqual(["two"]);
    expect(index.get("d3")).toEqual([]);
  });

  it("moves an updated object from the values it had to the ones it has, and holds the new copy", () => {
    const index = new CacheIndex<KubeObject>(byOwnerUid);
    const before = rs("one", "a", "d1");
    index.set("a/one", before, undefined);
    const after = rs("one", "a", "d2");
    index.set("a/one", after, before);
    expect(index.get("d1")).toEqual([]);
    expect(index.get("d2")).toEqual([after]);
    expect(index.get("d2")[0]).toBe(after);
    expect(index.size).toBe(1); // the emptied value is gone, not kept as an empty entry
  });

  it("replaces the copy of an object whose values did not change", () => {
    const index = new CacheIndex<KubeObject>(byNamespace);
    const before = rs("one", "a");
    const after = { ...rs("one", "a"), spec: { replicas: 3 } };
    index.set("a/one", before, undefined);
    index.set("a/one", after, before);
    expect(index.get("a")).toEqual([after]);
  });

  it("forgets a deleted object, and the value once nothing is filed under it", () => {
    const index = new CacheIndex<KubeObject>(byNamespace);
    const one = rs("one", "a");
    index.set("a/one", one, undefined);
    index.set("b/two", rs("two", "b"), undefined);
    index.delete("a/one", one);
    expect(index.get("a")).toEqual([]);
    expect(names(index.get("b"))).toEqual(["two"]);
    expect(index.size).toBe(1);
  });
});
