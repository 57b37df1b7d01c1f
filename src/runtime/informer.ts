import type { Logger } from "pino";
import type { KubeClient } from "../kube/client.ts";
import { isGone } from "../kube/errors.ts";
import type { ResourceType } from "../kube/resources.ts";
import { keyOf, type KubeObject } from "../kube/types.ts";
import { CacheIndex, type IndexKeys } from "./cache-index.ts";
import { backoffDelay, type Backoff } from "./queue.ts";

export interface InformerHandlers<T extends KubeObject> {
  add?: (obj: T) => void;
  update?: (oldObj: T, newObj: T) => void;
  delete?: (obj: T) => void;
}

export interface InformerOptions<T extends KubeObject = KubeObject, I extends string = never> {
  /** Watch one namespace; all namespaces when undefined. */
  namespace?: string;
  labelSelector?: string;
  /** Every resyncMs, each cached object is delivered again as an update (0 = never). */
  resyncMs?: number;
  backoff?: Backoff;
  logger?: Logger;
  /** Called once per failed list or watch, for metrics. */
  onError?: (err: unknown) => void;
  /**
   * Applied to every listed or watched object before it enters the cache or reaches a handler: drops
   * what no reader needs (kube/cached.ts). It must keep metadata.name, namespace and resourceVersion,
   * which the cache is keyed and diffed by.
   */
  transform?: (obj: T) => T;
  /** Indexes of the cache by name (cache-index.ts), read with byIndex. */
  indexes?: Record<I, IndexKeys<T>>;
}

const LIST_PAGE = 500;
const DEFAULT_INFORMER_BACKOFF: Backoff = { baseMs: 500, maxMs: 30_000 };

/**
 * A list-watch cache that keeps itself alive: a controller needs one that survives API-server restarts
 * and network cuts, not one that stops on errors other than 410. After any error it backs off and lists
 * again, diffing the new list against its cache so no add, update or delete is lost.
 */
export class Informer<T extends KubeObject, I extends string = never> {
  private readonly store = new Map<string, T>();
  private readonly indexes = new Map<string, CacheIndex<T>>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly opts: InformerOptions<T, I>;
  private readonly transform: (obj: T) => T;
  private abort: AbortController | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private running = false;
  private failures = 0;
  private resolveSynced!: () => void;
  private lastSyncResourceVersion: string | undefined;
  private readonly client: KubeClient;
  readonly type: ResourceType;
  readonly synced: Promise<void>;
  hasSynced = false;

  constructor(client: KubeClient, type: ResourceType, opts: InformerOptions<T, I> = {}) {
    this.client = client;
    this.type = type;
    this.opts = opts;
    this.transform = opts.transform ?? ((obj) => obj);
    const indexes: Partial<Record<string, IndexKeys<T>>> = opts.indexes ?? {};
    for (const [name, keys] of Object.entries(indexes)) if (keys) this.indexes.set(name, new CacheIndex(keys));
    this.synced = new Promise((resolve) => (this.resolveSynced = resolve));
  }

  on(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  /** The cached objects filed under `value` in index `index`: a lookup, not a scan of the cache. */
  byIndex(index: I, value: string): T[] {
    const found = this.indexes.get(index);
    if (!found) throw new Error(`the ${this.type.plural} informer has no index ${index}`);
    return found.get(value);
  }

  get size(): number {
    return this.store.size;
  }

  get resourceVersion(): string | undefined {
    return this.lastSyncResourceVersion;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
    const resyncMs = this.opts.resyncMs ?? 0;
    if (resyncMs > 0) {
      this.resyncTimer = setInterval(() => this.resync(), resyncMs);
      this.resyncTimer.unref();
    }
  }

  stop(): void {
    this.running = false;
    this.abort?.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.listAndWatch();
        this.failures = 0;
      } catch (err) {
        if (!this.running) return;
        this.opts.onError?.(err);
        const delay = isGone(err) ? 0 : backoffDelay(this.opts.backoff ?? DEFAULT_INFORMER_BACKOFF, this.failures++);
        this.opts.logger?.warn(
          { err: err instanceof Error ? err.message : String(err), resource: this.type.plural, retryInMs: delay },
          "list/watch failed; listing again",
        );
        await sleep(delay);
      }
    }
  }

  private async listAndWatch(): Promise<void> {
    let rv = await this.relist();
    // Re-watch from the last seen resourceVersion while the server keeps closing streams normally;
    // any error (410 Gone included) escapes to run(), which lists afresh.
    while (this.running) {
      this.abort = new AbortController();
      await this.client.watch<T>(
        this.type,
        this.opts.namespace,
        { resourceVersion: rv, labelSelector: this.opts.labelSelector, signal: this.abort.signal },
        (event) => {
          const eventRv = event.object.metadata?.resourceVersion;
          if (eventRv) rv = eventRv;
          if (event.type === "BOOKMARK") return;
          this.apply(event.type, this.transform(event.object));
        },
      ).catch((err: unknown) => {
        if (!this.running) return;
        throw err;
      });
      this.lastSyncResourceVersion = rv;
      this.failures = 0;
    }
  }

  private async relist(): Promise<string | undefined> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await this.client.list<T>(this.type, this.opts.namespace, {
        labelSelector: this.opts.labelSelector,
        limit: LIST_PAGE,
        continue: cont,
      });
      for (const item of page.items) {
        // Lists omit apiVersion/kind on items; handlers should not have to care.
        const obj = this.transform({ apiVersion: this.type.apiVersion, kind: this.type.kind, ...item } as T);
        fresh.set(keyOf(obj), obj);
      }
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);

    for (const [key, old] of this.store) {
      if (!fresh.has(key)) {
        this.remove(key, old);
        this.emit("DELETED", old, old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.store.get(key);
      this.put(key, obj, old);
      if (!old) this.emit("ADDED", obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit("MODIFIED", obj, old);
    }
    this.lastSyncResourceVersion = rv;
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.resolveSynced();
    }
    return rv;
  }

  private apply(type: "ADDED" | "MODIFIED" | "DELETED" | "ERROR", obj: T): void {
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (type === "DELETED") {
      if (old) this.remove(key, old);
      this.emit("DELETED", obj, old);
      return;
    }
    this.put(key, obj, old);
    this.emit(old ? "MODIFIED" : "ADDED", obj, old);
  }

  /** Every change of the cache goes through put and remove, which keep the indexes with it. */
  private put(key: string, obj: T, old: T | undefined): void {
    this.store.set(key, obj);
    for (const index of this.indexes.values()) index.set(key, obj, old);
  }

  private remove(key: string, old: T): void {
    this.store.delete(key);
    for (const index of this.indexes.values()) index.delete(key, old);
  }

  private resync(): void {
    if (!this.hasSynced) return;
    for (const obj of this.store.values()) this.emit("MODIFIED", obj, obj);
  }

  private emit(type: "ADDED" | "MODIFIED" | "DELETED", obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (type === "ADDED") h.add?.(obj);
        else if (type === "MODIFIED") h.update?.(old ?? obj, obj);
        else h.delete?.(old ?? obj);
      } catch (err) {
        this.opts.logger?.error({ err }, "informer handler threw");
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
