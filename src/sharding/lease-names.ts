import { fnv1a32 } from "./shard-of.ts";

/**
 * The Leases of sharded leader election and how they are labelled. With one shard there is none of
 * these: the replicas share the one leader Lease named by --leader-election-id, as without sharding.
 */

/** On every shard and member Lease: the --leader-election-id they belong to, so one list finds them all. */
export const ELECTION_LABEL = "tollgate.dev/election";
/** "shard" or "member". */
export const LEASE_ROLE_LABEL = "tollgate.dev/lease-role";
/** The shard count of the map a shard Lease belongs to, or a member campaigns in. */
export const SHARDS_LABEL = "tollgate.dev/shards";
/** On a shard Lease: its index. */
export const SHARD_LABEL = "tollgate.dev/shard";

export type LeaseRole = "shard" | "member";

/** The largest --shards: each held shard is one Lease write per retry period on leader election's client. */
export const MAX_SHARDS = 32;

/**
 * `<id>-shard-<i>-of-<N>`. The count is part of the name, so the Leases of two shard maps (before and
 * after a change of --shards) are different objects: a lease never means one set of profiles to one
 * replica and another set to the next.
 */
export function shardLeaseName(id: string, shard: number, shards: number): string {
  return `${id}-shard-${shard}-of-${shards}`;
}

const MAX_NAME = 253;

/**
 * `<id>-member-<identity>`: the Lease a replica renews to be counted in the fair share. An identity is a
 * Pod name in a cluster but may be anything (host_random outside one), so one that is not a valid
 * object name as it stands is lowered, its other characters replaced by '-', and its hash appended so
 * two identities never share a Lease. The identity itself is the Lease's holderIdentity.
 */
export function memberLeaseName(id: string, identity: string): string {
  const prefix = `${id}-member-`;
  const cleaned = identity.toLowerCase().replace(/[^a-z0-9.-]/g, "-").replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  const valid = cleaned === identity && cleaned !== "" && prefix.length + cleaned.length <= MAX_NAME;
  if (valid) return prefix + cleaned;
  const suffix = `-${fnv1a32(identity).toString(16).padStart(8, "0")}`;
  const room = MAX_NAME - prefix.length - suffix.length;
  const kept = cleaned.slice(0, Math.max(0, room)).replace(/[^a-z0-9]+$/, "");
  return kept === "" ? `${prefix}${suffix.slice(1)}` : prefix + kept + suffix;
}

/** The labels of a shard or member Lease. */
export function leaseLabels(id: string, shards: number, role: LeaseRole, shard?: number): Record<string, string> {
  return {
    [ELECTION_LABEL]: id,
    [LEASE_ROLE_LABEL]: role,
    [SHARDS_LABEL]: String(shards),
    ...(shard !== undefined ? { [SHARD_LABEL]: String(shard) } : {}),
  };
}

/** The label selector that lists every shard and member Lease of election `id`, of any shard count. */
export function electionSelector(id: string): string {
  return `${ELECTION_LABEL}=${id}`;
}

/** A label value: at most 63 characters, alphanumeric at both ends, '-', '_' or '.' between. */
export function isLabelValue(value: string): boolean {
  return value.length <= 63 && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value);
}
