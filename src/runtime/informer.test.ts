import { afterEach, describe, expect, it } from "vitest";
import type { KubeClient, WatchOptions } from "../kube/client.ts";
import { ApiError } from "../kube/errors.ts";
import { Resources } from "../kube/resources.ts";
import type { KubeList, KubeObject, WatchEvent } from "../kube/types.ts";
import { byNamespace, byOwnerUid } from "./cache-index.ts";
import { Informer, type InformerOptions } from "./informer.ts";

/**
 * An API server in memory for one resource: `items` is what a list returns; `send` delivers a watch
 * event on the open watch, which stays open until the informer stops or `expire` ends it with 410
 * Gone, after which the informer lists again.
 */
class FakeApi {
  items: KubeObject[] = [];
  private onEvent: ((e: WatchEvent<KubeObject>) => void) | undefined;
  private end: ((err: unknown) => void) | undefined;
  private opened: () => void = () => {};
  watchOpen: Promise<void>;

  constructor() {
    this.watchOpen = this.nextWatch();
  }

  readonly client = {
    list: async (): Promise<KubeList<KubeObject>> => ({ metadata: { resourceVersion: "1" }, items: structuredClone(this.items) }),
    watch: (_type: unknown, _ns: unknown, opts: WatchOptions, onEvent: (e: WatchEvent<KubeObject>) => void) =>
      new Promise<void>((resolve, reject) => {
        this.onEvent = onEvent;
        this.end = reject;
        this.opened();
        opts.signal?.addEventListener("abort", () => resolve());
      }),
  } as unknown as KubeClient;

  send(type: WatchEvent<KubeObject>["type"], object: KubeObject): void {
    if (!this.onEvent) throw new Error("no watch open");
    this.onEvent({ type, object: structuredClone(object) });
  }

  /** Ends the open watch with 410 Gone; resolves once the informer has listed again and watches anew. */
  async expire(): Promise<void> {
    this.watchOpen = this.nextWatch();
    this.end?.(new ApiError("WATCH", "/apis/apps/v1/replicasets", 410, "Gone", "too old resource version"));
    await this.watchOpen;
  }

  private nextWatch(): Promise<void> {
    return new Promise((resolve) => (this.opened = resolve));
  }
}

function obj(name: string, meta: Partial<NonNullable<KubeObject["metadata"]>> = {}): KubeObject {
  return { metadata: { name, namespace: "ns", resourceVersion: "1", ...meta } };
}

const running: Array<{ stop(): void }> = [];
afterEach(() => running.splice(0).forEach((i) => i.stop()));

async function started<I extends string = never>(api: FakeApi, opts: InformerOptions<KubeObject, I> = {}): Promise<Informer<KubeObject, I>> {
  const informer = new Informer<KubeObject, I>(api.client, Resources.ReplicaSet, opts);
  running.push(informer);
  informer.start();
  await informer.synced;
  await api.watchOpen;
  return informer;
}

describe("Informer transform", () => {
  const marked = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, managedFields: undefined, labels: { ...o.metadata?.labels, seen: "yes" } } });

  it("applies to every listed object before it is cached or handed to a handler", async () => {
    const api = new FakeApi();
    api.items = [obj("a", { managedFields: [{ manager: "m" }] })];
    const informer = new Informer<KubeObject>(api.client, Resources.ReplicaSet, { transform: marked });
    running.push(informer);
    const added: KubeObject[] = [];
    informer.on({ add: (o) => added.push(o) });
    informer.start();
    await informer.synced;
    expect(informer.get("ns/a")?.metadata).toMatchObject({ labels: { seen: "yes" }, managedFields: undefined });
    expect(added.map((o) => o.metadata?.labels?.seen)).toEqual(["yes"]);
    expect(informer.get("ns/a")?.apiVersion).toBe("apps/v1"); // list items get their kind before the transform sees them
  });

  it("applies to watched additions, updates and deletions", async () => {
    const api = new FakeApi();
    const seen: string[] = [];
    const informer = await started(api, { transform: marked });
    informer.on({
      add: (o) => seen.push(`add ${o.metadata?.labels?.seen}`),
      update: (_old, o) => seen.push(`update ${o.metadata?.labels?.seen}`),
      delete: (o) => seen.push(`delete ${o.metadata?.labels?.seen}`),
    });
    api.send("ADDED", obj("b", { managedFields: [{ manager: "m" }] }));
    expect(informer.get("ns/b")?.metadata).toMatchObject({ labels: { seen: "yes" }, managedFields: undefined });
    api.send("MODIFIED", obj("b", { resourceVersion: "2", managedFields: [{ manager: "m" }] }));
    expect(informer.get("ns/b")?.metadata).toMatchObject({ resourceVersion: "2", labels: { seen: "yes" }, managedFields: undefined });
    api.send("DELETED", obj("b", { resourceVersion: "3" }));
    expect(informer.get("ns/b")).toBeUndefined();
    expect(seen).toEqual(["add yes", "update yes", "delete yes"]);
  });
});

describe("Informer indexes", () => {
  const owned = (name: string, namespace: string, owner: string, rv = "1"): KubeObject => ({
    metadata: { name, namespace, resourceVersion: rv, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: owner, uid: owner, controller: true }] },
  });
  const names = (list: KubeObject[]) => list.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`).sort();
  const indexes = { namespace: byNamespace, owner: byOwnerUid };

  it("files the listed objects", async () => {
    const api = new FakeApi();
    api.items = [owned("a", "ns1", "d1"), owned("b", "ns1", "d2"), owned("c", "ns2", "d1")];
    const informer = await started(api, { indexes });
    expect(names(informer.byIndex("namespace", "ns1"))).toEqual(["ns1/a", "ns1/b"]);
    expect(names(informer.byIndex("owner", "d1"))).toEqual(["ns1/a", "ns2/c"]);
    expect(informer.byIndex("owner", "d3")).toEqual([]);
  });

  it("follows watched additions, an object moving to another owner, and deletions", async () => {
    const api = new FakeApi();
    const informer = await started(api, { indexes });
    api.send("ADDED", owned("a", "ns1", "d1"));
    api.send("ADDED", owned("b", "ns1", "d1"));
    expect(names(informer.byIndex("owner", "d1"))).toEqual(["ns1/a", "ns1/b"]);

    api.send("MODIFIED", owned("a", "ns1", "d2", "2"));
    expect(names(informer.byIndex("owner", "d1"))).toEqual(["ns1/b"]);
    expect(informer.byIndex("owner", "d2").map((o) => o.metadata?.resourceVersion)).toEqual(["2"]);
    expect(names(informer.byIndex("namespace", "ns1"))).toEqual(["ns1/a", "ns1/b"]);

    api.send("DELETED", owned("b", "ns1", "d1", "3"));
    expect(informer.byIndex("owner", "d1")).toEqual([]);
    expect(names(informer.byIndex("namespace", "ns1"))).toEqual(["ns1/a"]);
  });

  it("files what a relist finds changed or gone as the cache does", async () => {
    const api = new FakeApi();
    api.items = [owned("a", "ns1", "d1"), owned("b", "ns1", "d1")];
    const informer = await started(api, { indexes, backoff: { baseMs: 0, maxMs: 0 } });
    // Missed while the watch was down: a deleted, b moved to another owner, c created.
    api.items = [owned("b", "ns1", "d2", "5"), owned("c", "ns2", "d1", "6")];
    await api.expire();
    expect(names(informer.byIndex("owner", "d1"))).toEqual(["ns2/c"]);
    expect(names(informer.byIndex("owner", "d2"))).toEqual(["ns1/b"]);
    expect(names(informer.byIndex("namespace", "ns1"))).toEqual(["ns1/b"]);
    expect(informer.get("ns1/a")).toBeUndefined();
  });

  it("refuses a lookup in an index it was not given", async () => {
    const informer = await started<"owner">(new FakeApi(), { indexes: { owner: byOwnerUid } });
    expect(() => informer.byIndex("namespace" as "owner", "ns1")).toThrow(/no index namespace/);
  });
});
