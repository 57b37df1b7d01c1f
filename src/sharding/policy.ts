import { fnv1a32, mix32 } from "./shard-of.ts";

/**
 * Which shard Leases a replica takes and gives up: a pure function of one poll of the Leases, so the
 * whole policy is tested without a cluster and the elector (runtime/shard-election.ts) only does I/O.
 *
 * The rule, Kubernetes-native in that it needs nothing but Leases:
 * - Every replica renews a member Lease of its own. The live members of a shard map (unexpired member
 *   Leases announcing the same shard count) set the fair share, ceil(shards / members).
 * - Under its share, a replica takes free shards (never created, released, or expired), the ones it
 *   prefers first. Preferences are rendezvous hashes of (identity, shard), so replicas racing for free
 *   shards mostly want different ones; when two want the same, the Lease's optimistic concurrency lets
 *   exactly one have it.
 * - A replica hands one shard over at a time, its least preferred, while a member that renewed recently
 *   holds fewer than its share and at least two fewer than this replica: it drains the shard as on
 *   SIGTERM, then releases it, and that member takes it. So a replica over its share gives the surplus
 *   up, and counts end within one of each other (7 shards over 3 replicas: 3, 2, 2, not 3, 3, 1). A
 *   member that stopped renewing (dead, its Lease not yet expired) is no taker: a shard is given up only
 *   to be taken.
 * - No shard is left unserved: one that stayed free for a whole retry period, passed over by every
 *   replica under its share (a dead member still counted, views of the membership that differ), is
 *   taken by whoever sees it, over its share or not. Whoever is then over its share hands the surplus on
 *   once someone fresh can take it.
 * - Two shard maps never reconcile at once: while a Lease of another map is held (replicas of another
 *   --shards, say during a rolling update that changes it), a replica takes no shard and keeps the ones it
 *   holds; the replicas of the new map start once the old ones have released or let expire all of theirs.
 *   The one leader Lease of --shards 1 is another map too, and one that cannot see shard Leases (its
 *   RBAC names one Lease), so a sharded replica that finds it held gives every shard up at once.
 */

/** One shard's Lease as this replica saw it in a poll. */
export interface ShardSeen {
  shard: number;
  /**
   * Who holds it: the identity its record names while the Lease has not expired on this replica's
   * clock, and this replica's own identity whenever the record names it (expired or not, it renews it:
   * nobody else has written since). Undefined when it is free: never created, released, or expired.
   */
  holder?: string;
  /** When free: since when, as this replica first saw it free. */
  freeSinceMs?: number;
}

/** A live member of this shard map: an unexpired member Lease announcing the same count. */
export interface MemberSeen {
  identity: string;
  /** When it last renewed its member Lease, as this replica pins the renewal (leader-election.ts, Observation). */
  renewedAtMs: number;
}

export interface ShardView {
  identity: string;
  shards: number;
  nowMs: number;
  /** Every shard of the map, 0 to shards − 1. */
  leases: readonly ShardSeen[];
  /** The live members of the map, this replica among them or not (it always counts itself). */
  members: readonly MemberSeen[];
  /**
   * This replica's own member Lease was in the poll, so the others count it too. Until then it takes no
   * shard: replicas started together would otherwise each see none of the others, each take every
   * free shard it can, and then hand most of them on again.
   */
  counted: boolean;
  /** Shards this replica is handing over: draining, to be released once drained. */
  handingOver: ReadonlySet<number>;
  /** A Lease of another shard map is held by someone: another shard count, or the leader Lease of --shards 1. */
  otherMapHeld: boolean;
  /** The leader Lease of --shards 1 is held by someone: that replica reconciles every profile. */
  leaderLeaseHeld: boolean;
  retryPeriodMs: number;
  renewDeadlineMs: number;
}

export interface ShardPlan {
  /** Free shards to take now. */
  acquire: number[];
  /** Held shards to hand over: drained, then released. */
  handOver: number[];
  /** Give every held shard up at once, without draining: a replica of --shards 1 leads. */
  yieldAll: boolean;
  /** The fair share, ceil(shards / members). */
  share: number;
  /** The members counted, this replica included. */
  members: number;
}

/** How much `identity` wants `shard`: a rendezvous hash, so each replica ranks the shards differently. */
export function preference(identity: string, shard: number): number {
  return mix32(fnv1a32(`${identity}/${shard}`));
}

export function planShards(v: ShardView): ShardPlan {
  const members = new Set([...v.members.map((m) => m.identity), v.identity]);
  const share = Math.ceil(v.shards / members.size);
  const plan: ShardPlan = { acquire: [], handOver: [], yieldAll: false, share, members: members.size };
  const mine = v.leases.filter((l) => l.holder === v.identity).map((l) => l.shard);
  if (v.leaderLeaseHeld) return { ...plan, yieldAll: mine.length > 0 };
  if (v.otherMapHeld) return plan;

  const byPreference = (a: number, b: number) => preference(v.identity, b) - preference(v.identity, a) || a - b;
  const free = v.leases.filter((l) => l.holder === undefined);
  // Shards being handed over still count as held: their reconciles run until drained.
  const room = v.counted ? Math.max(0, share - mine.length) : 0;
  const wanted = free.map((l) => l.shard).sort(byPreference).slice(0, room);
  const orphans = free.filter((l) => v.counted && !wanted.includes(l.shard) && l.freeSinceMs !== undefined && v.nowMs - l.freeSinceMs >= v.retryPeriodMs).map((l) => l.shard);
  plan.acquire = [...wanted, ...orphans.sort(byPreference)];

  const kept = mine.filter((s) => !v.handingOver.has(s));
  if (v.handingOver.size === 0 && kept.length > 0 && hasTaker(v, share, kept.length)) {
    plan.handOver = [kept.sort(byPreference).at(-1)!];
  }
  return plan;
}

/**
 * Whether another member renewed within the renew deadline and holds fewer than its share and at least
 * two fewer than `kept`: it will take a shard handed over, and the move evens the counts out.
 */
function hasTaker(v: ShardView, share: number, kept: number): boolean {
  const holdings = new Map<string, number>();
  for (const l of v.leases) if (l.holder !== undefined) holdings.set(l.holder, (holdings.get(l.holder) ?? 0) + 1);
  return v.members.some((m) => {
    const held = holdings.get(m.identity) ?? 0;
    return m.identity !== v.identity && v.nowMs - m.renewedAtMs < v.renewDeadlineMs && held < share && held <= kept - 2;
  });
}
