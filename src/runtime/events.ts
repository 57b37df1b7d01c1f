import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { KubeClient } from "../kube/client.ts";
import { ApiError, isNotFound } from "../kube/errors.ts";
import { Resources } from "../kube/resources.ts";
import type { KubeObject } from "../kube/types.ts";

export type EventType = "Normal" | "Warning";

export interface CoreEvent extends KubeObject {
  involvedObject: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string };
  reason: string;
  message: string;
  type: EventType;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string };
  reportingComponent: string;
  reportingInstance: string;
}

export type EventClient = Pick<KubeClient, "create" | "patch">;

const DEDUP_WINDOW_MS = 10 * 60_000;
const MAX_TRACKED = 4_096;

/**
 * Records Kubernetes Events for what the operator decides. A repeat of the same event on the same object
 * within ten minutes bumps the existing Event's count instead of creating a new one, as kubelet and
 * client-go's recorder do, so `kubectl describe` stays readable and etcd is spared.
 */
export class EventRecorder {
  private readonly client: EventClient;
  private readonly component: string;
  private readonly instance: string;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly seen = new Map<string, { name: string; namespace: string; count: number; firstTimestamp: string; atMs: number }>();

  constructor(opts: { client: EventClient; instance: string; logger: Logger; component?: string; now?: () => Date }) {
    this.client = opts.client;
    this.component = opts.component ?? "tollgate";
    this.instance = opts.instance;
    this.logger = opts.logger;
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * Never throws: an Event is a courtesy, and failing to write one must not fail a reconcile. With an
   * `id` (an outbox entry's), the Event is named after it and created once: a repeat after a crash
   * finds it there (409) and leaves it be, so one transition is one Event with count 1.
   */
  async record(obj: KubeObject, type: EventType, reason: string, message: string, opts: { id?: string } = {}): Promise<void> {
    try {
      if (opts.id !== undefined) await this.writeOnce(obj, type, reason, message, opts.id);
      else await this.write(obj, type, reason, message);
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err), reason }, "could not record event");
    }
  }

  private async writeOnce(obj: KubeObject, type: EventType, reason: string, message: string, id: string): Promise<void> {
    try {
      await this.client.create(Resources.Event, this.event(obj, `${obj.metadata?.name ?? "object"}.${id}`, type, reason, message, this.now()));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err;
    }
  }

  private async write(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = obj.metadata?.namespace ?? "default";
    const key = [obj.metadata?.uid ?? `${namespace}/${obj.metadata?.name}`, type, reason, message].join("\u0000");
    const now = this.now();
    const prior = this.seen.get(key);
    if (prior && now.getTime() - prior.atMs < DEDUP_WINDOW_MS) {
      try {
        await this.client.patch(Resources.Event, prior.namespace, prior.name, { count: prior.count + 1, lastTimestamp: now.toISOString() });
        prior.count += 1;
        prior.atMs = now.getTime();
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // The Event expired (TTL) in the meantime: record it afresh.
      }
    }
    const name = `${obj.metadata?.name ?? "object"}.${now.getTime().toString(16)}${randomBytes(3).toString("hex")}`;
    const event = this.event(obj, name, type, reason, message, now);
    await this.client.create(Resources.Event, event);
    this.seen.set(key, { name, namespace, count: 1, firstTimestamp: event.firstTimestamp, atMs: now.getTime() });
    if (this.seen.size > MAX_TRACKED) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private event(obj: KubeObject, name: string, type: EventType, reason: string, message: string, now: Date): CoreEvent {
    const namespace = obj.metadata?.namespace ?? "default";
    return {
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata?.name,
        namespace: obj.metadata?.namespace,
        uid: obj.metadata?.uid,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now.toISOString(),
      lastTimestamp: now.toISOString(),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.instance,
    };
  }
}
