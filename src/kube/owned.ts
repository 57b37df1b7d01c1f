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
 * Server-side applies `desired` (forced, as `tollgate`) unless `current`, from an informer, already
 * holds it: a drifted field, by hand or by another manager, is put back; an object in step costs no
 * request. Returns whether it applied.
 */
export async function applyIfDrifted<T extends WithSpec>(
  client: KubeClient,
  type: ResourceType,
  current: T | undefined,
  desired: T,
): Promise<boolean> {
  if (
    current &&
    covers(current.metadata?.labels, desired.metadata?.labels) &&
    covers(current.metadata?.ownerReferences, desired.metadata?.ownerReferences) &&
    covers(current.spec, desired.spec)
  ) {
    return false;
  }
  await client.apply(type, desired, { force: true });
  return true;
}

/** Deletes `current` if the profile with `ownerUid` owns it: what the spec no longer asks for goes. */
export async function deleteIfOwned(client: KubeClient, type: ResourceType, current: KubeObject | undefined, ownerUid: string): Promise<boolean> {
  if (!current?.metadata?.name || !(current.metadata.ownerReferences ?? []).some((o) => o.uid === ownerUid)) return false;
  await client.delete(type, current.metadata.namespace, current.metadata.name);
  return true;
}
