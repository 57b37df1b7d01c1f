import { setTimeout as delay } from "node:timers/promises";
import { send, type HttpResponse } from "../http/transport.ts";
import type { ClusterAccess, Connection } from "./cluster-access.ts";
import { ApiError } from "./errors.ts";
import { FIELD_MANAGER } from "./labels.ts";
import { objectPath, type ResourceType } from "./resources.ts";
import { TokenBucket, type RateLimit } from "./token-bucket.ts";
import type { KubeObject, KubeList, WatchEvent } from "./types.ts";

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface WatchOptions {
  resourceVersion?: string;
  labelSelector?: string;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

/**
 * The write fence: asked before every write. Closed, it refuses the write with its reason. Open, it may
 * carry the signal of the current leadership term: a write still in flight when the term ends is
 * aborted, and reported as fenced.
 */
export type FenceState = { open: false; reason: string } | { open: true; signal?: AbortSignal };
export type Fence = () => FenceState;

/** What a request is to the rate limit: its HTTP method, or WATCH for a watch. */
export type Verb = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "WATCH";

export interface KubeClientOptions {
  timeoutMs?: number;
  /**
   * Asked before every write (see FenceState). The operator fences its controllers' client on
   * leadership, so a replica whose renew deadline passed cannot start a write, and its writes in flight
   * are aborted.
   */
  fence?: Fence;
  /**
   * Every request takes a token from a bucket of this rate first, a watch once when it opens; none: no
   * limit. Each client has its own bucket, so leader election's client is never starved by the
   * controllers'.
   */
  rateLimit?: RateLimit;
  /** Told how long each request waited for its token, in seconds (0 for most), with its verb. */
  onRateLimitWait?: (seconds: number, verb: Verb) => void;
  /** The rate limit's clock, in milliseconds; for tests. */
  now?: () => number;
}

/** Per-call options of the calls leader election makes: its own, shorter deadline. */
export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * A thin REST client over the Kubernetes API: a controller runtime needs one generic path for list,
 * watch, server-side apply and status writes, with errors that carry the API's reason.
 */
export class KubeClient {
  readonly access: ClusterAccess;
  private readonly server: string;
  private readonly defaultTimeoutMs: number;
  private readonly fence: Fence | undefined;
  private readonly bucket: TokenBucket | undefined;
  private readonly onRateLimitWait: ((seconds: number, verb: Verb) => void) | undefined;

  constructor(access: ClusterAccess, opts: KubeClientOptions = {}) {
    this.access = access;
    this.server = access.server;
    this.defaultTimeoutMs = opts.timeoutMs ?? 30_000;
    this.fence = opts.fence;
    this.bucket = opts.rateLimit ? new TokenBucket(opts.rateLimit, opts.now) : undefined;
    this.onRateLimitWait = opts.onRateLimitWait;
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    const text = await res.text();
    if (res.status >= 400) throw ApiError.fromResponse(method, path, res.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<T> {
    return this.request<T>("GET", objectPath(type, namespace, name), { signal: opts.signal });
  }

  /** Like get, but a missing object is `undefined` rather than an error. */
  async find<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<T | undefined> {
    try {
      return await this.get<T>(type, namespace, name, opts);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  list<T extends KubeObject>(
    type: ResourceType,
    namespace?: string,
    query: { labelSelector?: string; limit?: number; continue?: string; resourceVersion?: string } = {},
    opts: CallOptions = {},
  ): Promise<KubeList<T>> {
    return this.request<KubeList<T>>("GET", objectPath(type, namespace), { query, signal: opts.signal });
  }

  /**
   * Server-side apply of `obj` (or its status) as the `tollgate` field manager. `force` takes ownership of
   * conflicting fields: used only for fields Tollgate alone is meant to own.
   */
  apply<T extends KubeObject>(
    type: ResourceType,
    obj: T,
    opts: { subresource?: "status"; force?: boolean; fieldManager?: string; dryRun?: boolean } = {},
  ): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new Error(`apply of ${type.kind} without metadata.name`);
    const path = objectPath(type, obj.metadata?.namespace, name, opts.subresource);
    return this.request<T>("PATCH", path, {
      body: { apiVersion: type.apiVersion, kind: type.kind, ...obj },
      contentType: "application/apply-patch+yaml",
      query: {
        fieldManager: opts.fieldManager ?? FIELD_MANAGER,
        force: opts.force ?? false,
        dryRun: opts.dryRun ? "All" : undefined,
      },
    });
  }

  patch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    opts: { contentType?: "application/merge-patch+json" | "application/json-patch+json"; subresource?: "status"; fieldManager?: string } = {},
  ): Promise<T> {
    return this.request<T>("PATCH", objectPath(type, namespace, name, opts.subresource), {
      body: patch,
      contentType: opts.contentType ?? "application/merge-patch+json",
      query: { fieldManager: opts.fieldManager ?? FIELD_MANAGER },
    });
  }

  create<T extends KubeObject>(type: ResourceType, obj: T, opts: { fieldManager?: string } & CallOptions = {}): Promise<T> {
    return this.request<T>("POST", objectPath(type, obj.metadata?.namespace), {
      body: { apiVersion: type.apiVersion, kind: type.kind, ...obj },
      query: { fieldManager: opts.fieldManager ?? FIELD_MANAGER },
      signal: opts.signal,
    });
  }

  /** Replace with optimistic concurrency: the object's resourceVersion must still be current (409 otherwise). */
  replace<T extends KubeObject>(type: ResourceType, obj: T, opts: { fieldManager?: string } & CallOptions = {}): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new Error(`replace of ${type.kind} without metadata.name`);
    return this.request<T>("PUT", objectPath(type, obj.metadata?.namespace, name), {
      body: { apiVersion: type.apiVersion, kind: type.kind, ...obj },
      query: { fieldManager: opts.fieldManager ?? FIELD_MANAGER },
      signal: opts.signal,
    });
  }

  /** `preconditions.uid`: delete only that incarnation of the name, never one recreated since it was read. */
  async delete(type: ResourceType, namespace: string | undefined, name: string, opts: { preconditions?: { uid: string } } = {}): Promise<boolean> {
    try {
      await this.request("DELETE", objectPath(type, namespace, name), { body: { propagationPolicy: "Background", ...(opts.preconditions ? { preconditions: opts.preconditions } : {}) } });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return false;
      throw err;
    }
  }

  /**
   * Streams watch events until the server closes the stream, the signal aborts or an error occurs.
   * Resolves when the stream ends; rejects on transport or HTTP errors (410 Gone included, as an ApiError).
   */
  async watch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    opts: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<void> {
    const query = {
      watch: true,
      allowWatchBookmarks: true,
      resourceVersion: opts.resourceVersion,
      labelSelector: opts.labelSelector,
      timeoutSeconds: opts.timeoutSeconds ?? 300,
    };
    const path = objectPath(type, namespace);
    // No overall timeout: a watch lives for timeoutSeconds; the server ends it. One token to open it;
    // the events it streams take none.
    const res = await this.send("GET", path, { query, signal: opts.signal, timeoutMs: 0 }, "WATCH");
    if (res.status >= 400) {
      throw ApiError.fromResponse("WATCH", path, res.status, await res.text());
    }
    for await (const line of res.lines()) {
      if (!line) continue;
      const event = JSON.parse(line) as WatchEvent<T>;
      if (event.type === "ERROR") {
        const status = event.object as unknown as { code?: number; message?: string; reason?: string };
        throw new ApiError("WATCH", path, status.code ?? 500, status.reason ?? "Unknown", status.message ?? "watch error");
      }
      onEvent(event);
    }
  }

  private async send(method: string, path: string, opts: RequestOptions, verb: Verb = method as Verb): Promise<HttpResponse> {
    // Reads are never fenced: a standby keeps warm caches.
    const fence = method !== "GET" ? this.fence?.() : undefined;
    if (fence && !fence.open) throw new ApiError(method, path, 0, "Fenced", fence.reason);
    const term = fence?.open ? fence.signal : undefined;
    if (term?.aborted) throw new ApiError(method, path, 0, "Fenced", abortReason(term));
    await this.throttle(method, path, verb, opts.signal, term);
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let connection: Connection;
    try {
      connection = await this.access.connection();
    } catch (err) {
      // An exec plugin that failed, a token file gone: no request made, tried again like a transport error.
      throw new ApiError(method, path, 0, "CredentialsUnavailable", err instanceof Error ? err.message : String(err));
    }
    const { headers, pool } = connection;
    headers["Accept"] = "application/json";
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["Content-Type"] = opts.contentType ?? "application/json";
    }
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    // Aborting at the term's end closes the socket, but a request already written to it may still be
    // applied by the API server: the fence narrows the window to requests on the wire at the deadline,
    // and the lease's margin (leaseDuration − renewDeadline) is what keeps them ahead of a new leader.
    const signals = [opts.signal, term, timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    try {
      const res = await send(url, { method, headers, body, signal: signals.length ? AbortSignal.any(signals) : undefined }, pool);
      if (res.status === 401) this.access.invalidate();
      return res;
    } catch (err) {
      if (term?.aborted) throw new ApiError(method, path, 0, "Fenced", `aborted in flight: ${abortReason(term)}`);
      throw ApiError.transport(method, path, err);
    }
  }

  /**
   * Waits for the request's token. The wait ends early when the caller gives up or the leadership term
   * ends (then as Fenced); the request's own timeout starts after it, so queueing behind others does
   * not eat into it.
   */
  private async throttle(method: string, path: string, verb: Verb, signal: AbortSignal | undefined, term: AbortSignal | undefined): Promise<void> {
    if (!this.bucket) return;
    const waitMs = this.bucket.reserve();
    this.onRateLimitWait?.(waitMs / 1000, verb);
    if (waitMs <= 0) return;
    const signals = [signal, term].filter((s): s is AbortSignal => s !== undefined);
    try {
      await delay(waitMs, undefined, { signal: signals.length ? AbortSignal.any(signals) : undefined });
    } catch (err) {
      if (term?.aborted) throw new ApiError(method, path, 0, "Fenced", `aborted waiting for the rate limit: ${abortReason(term)}`);
      throw ApiError.transport(method, path, err);
    }
  }
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason);
}
