import { afterEach, describe, expect, it } from "vitest";
import type { KubeClient, WatchOptions } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import type { KubeList, KubeObject, WatchEvent } from "../kube/types.ts";
import { Informer, type InformerOptions } from "./informer.ts";

/**
 * An API server in memory for one resource: `items` is what a list returns; `send` delivers a watch
 * event on the open watch, which stays open until the informer stops.
 */
class FakeApi {
  items: KubeObject[] = [];
  private onEvent: ((e: WatchEvent<KubeObject>) => void) | undefined;
  private watching: (() => void) | undefined;
  readonly watchOpen: Promise<void>;

  constructor() {
    this.watchOpen = new Promise((resolve) => (this.watching = resolve));
  }

  readonly client = {
    list: async (): Promise<KubeList<KubeObject>> => ({ metadata: { resourceVersion: "1" }, items: structuredClone(this.items) }),
    watch: (_type: unknown, _ns: unknown, opts: WatchOptions, onEvent: (e: WatchEvent<KubeObject>) => void) =>
      new Promise<void>((resolve) => {
        this.onEvent = onEvent;
        this.watching?.();
        opts.signal?.addEventListener("abort", () => resolve());
      }),
  } as unknown as KubeClient;

  send(type: WatchEvent<KubeObject>["type"], object: KubeObject): void {
    if (!this.onEvent) throw new Error("no watch open");
    this.onEvent({ type, object: structuredClone(object) });
  }
}

function obj(name: string, meta: Partial<NonNullable<KubeObject["metadata"]>> = {}): KubeObject {
  return { metadata: { name, namespace: "ns", resourceVersion: "1", ...meta } };
}

const running: Array<Informer<KubeObject>> = [];
afterEach(() => running.splice(0).forEach((i) => i.stop()));

async function started(api: FakeApi, opts: InformerOptions<KubeObject> = {}): Promise<Informer<KubeObject>> {
  const informer = new Informer<KubeObject>(api.client, Resources.ReplicaSet, opts);
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
