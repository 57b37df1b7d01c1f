import { formatDuration, parseDuration } from "../api/duration.ts";
import type { OwnerReference } from "../kube/types.ts";
import type { RateLimit } from "../kube/token-bucket.ts";
import { isLabelValue, MAX_SHARDS } from "../sharding/lease-names.ts";

/** A flag or command line that cannot be used: exit code 2, with the usage. */
export class UsageError extends Error {}

/** Input a command was given that it refuses (a profile file): exit code 1, with the message alone. */
export class InputError extends Error {}

/** --tile: a duration of whole seconds, or off (null). */
export function tileFlag(raw: string): string | null {
  if (raw === "off") return null;
  try {
    const ms = parseDuration(raw);
    if (ms >= 1_000 && ms % 1_000 === 0) return formatDuration(ms);
  } catch {
    // the message below says what is wanted
  }
  throw new UsageError(`--tile must be a duration of whole seconds such as 5m, or off, not ${JSON.stringify(raw)}`);
}

/**
 * --kube-api-qps (a positive number, fractions allowed as in client-go) and --kube-api-burst (a
 * positive integer).
 */
export function kubeApiRateFlags(qps: string, burst: string): RateLimit {
  const q = Number(qps);
  if (qps.trim() === "" || !Number.isFinite(q) || q <= 0) throw new UsageError(`--kube-api-qps must be a positive number, not ${JSON.stringify(qps)}`);
  const b = Number(burst);
  if (burst.trim() === "" || !Number.isInteger(b) || b <= 0) throw new UsageError(`--kube-api-burst must be a positive integer, not ${JSON.stringify(burst)}`);
  return { qps: q, burst: b };
}

/**
 * --shards: a whole number from 1 to MAX_SHARDS. More than one needs leader election (the shards are
 * Leases) and an election id that is a label value (it labels them). With more than one, the Pod the
 * downward API names (POD_NAME, POD_UID) owns the replica's member Lease, so Kubernetes deletes it with
 * the Pod; outside a Pod there is none, and a dead replica's member Lease merely expires.
 */
export function shardsFlag(raw: string, leaderElect: boolean, id: string, podName?: string, podUid?: string): { shards: number; pod?: OwnerReference } {
  const shards = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new UsageError(`--shards must be a whole number from 1 to ${MAX_SHARDS}, not ${JSON.stringify(raw)}`);
  }
  if (shards === 1) return { shards };
  if (!leaderElect) throw new UsageError("--shards above 1 needs --leader-elect: each shard is a Lease the replicas compete for");
  if (!isLabelValue(id)) throw new UsageError(`--shards above 1 needs a --leader-election-id of at most 63 characters that can be a label value, not ${JSON.stringify(id)}`);
  return { shards, ...(podName && podUid ? { pod: { apiVersion: "v1", kind: "Pod", name: podName, uid: podUid } } : {}) };
}
