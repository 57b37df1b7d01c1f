import { digest } from "../digest.ts";
import type { KubeClient } from "./client.ts";
import type { ResourceType } from "./resources.ts";
import type { KubeObject } from "./types.ts";

/**
 * Whether `actual` already holds everything in `desired`: every key desired sets has the same value,
 * lists element by element and of the same length (the lists Tollgate applies are atomic, so an extra
 * element is someone else's edit of Tollgate's list). Keys desired does not set are others' business:
 * API-server defaults, other managers' fields.
 */
export function covers(actual: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) {
    return Array.isArray(actual) && actual.length === desired.length && desired.every((d, i) => covers(actual[i], d));
  }
  if (desired !== null && typeof desired === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
    const a = actual as Record<string, unknown>;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) => v === undefined || covers(a[k], v));
  }
  return actual === desired;
}

type WithSpec = KubeObject & { spec?: unknown };

/**
 * Server-side applies (forced, as `tollgate`) the objects Tollgate owns outright, only when needed:
 * when `current` (from an informer) is missing or no longer holds what Tollgate wants (a hand edit,
 * another manager), or when what Tollgate wants changed since its last apply. The second covers a
 * field the spec dropped, which `current` would still hold and which only a new apply removes. What
 * was last applied is remembered as a digest per object; after a restart every object is applied once.
 */
export class DriftApplier {
  private readonly client: KubeClient;
  private readonly applied = new Map<string, string>();

  constructor(client: KubeClient) {
    this.client = client;
  }

  /** Returns whether it applied. */
  async ensure<T extends WithSpec>(type: ResourceType, current: T | undefined, desired: T): Promise<boolean> {
    const key = `${type.plural}/${desired.metadata?.namespace}/${desired.metadata?.name}`;
    const wanted = digest(JSON.stringify(desired));
    if (current && this.applied.get(key) === wanted && holds(current, desired)) return false;
    await this.client.apply(type, desired, { force: true });
    this.applied.set(key, wanted);
    return true;
  }

  /** Deletes `current` if the profile with `ownerUid` owns it: what the spec no longer asks for goes. */
  async deleteIfOwned(type: ResourceType, current: KubeObject | undefined, ownerUid: string): Promise<boolean> {
    if (!current?.metadata?.name || !(current.metadata.ownerReferences ?? []).some((o) => o.uid === ownerUid)) return false;
    await this.client.delete(type, current.metadata.namespace, current.metadata.name);
    this.applied.delete(`${type.plural}/${current.metadata.namespace}/${current.metadata.name}`);
    return true;
  }
}

function holds(current: WithSpec, desired: WithSpec): boolean {
  return (
    covers(current.metadata?.labels, desired.metadata?.labels) &&
    covers(current.metadata?.ownerReferences, desired.metadata?.ownerReferences) &&
    covers(current.spec, desired.spec)
  );
}
