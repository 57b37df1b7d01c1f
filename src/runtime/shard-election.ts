import type { Logger } from "pino";
import type { KubeClient } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import type { OwnerReference } from "../kube/types.ts";
import {
  electionSelector,
  LEASE_ROLE_LABEL,
  leaseLabels,
  memberLeaseName,
  shardLeaseName,
  SHARDS_LABEL,
} from "../sharding/lease-names.ts";
import { planShards, type MemberSeen, type ShardPlan, type ShardSeen } from "../sharding/policy.ts";
import {
  DEFAULT_LEADER_ELECTION,
  defaultRequestTimeoutMs,
  expiresAt,
  LeaseLock,
  observe,
  type DeadlinePassed,
  type Lease,
  type LeaderElectionConfig,
  type LeaseWrite,
  type Observation,
} from "./lease-lock.ts";
import type { ShardCallbacks, ShardLeases } from "./manager.ts";
import { PollLoop } from "./poll-loop.ts";

/** The calls sharded election makes: one list of the election's Leases per poll, and LeaseLock's. */
export type ShardLeaseClient = Pick<KubeClient, "find" | "create" | "replace" | "list">;

/** After losing a race for a free shard (409), poll again this soon rather than a retry period later. */
const CONFLICT_RETRY_MS = 100;

/** A Lease of someone else in the election: another member's, or a shard of another shard count. */
interface Foreign {
  observation: Observation;
  role: string | undefined;
  shards: string | undefined;
}

/**
 * Sharded leader election: one Lease per shard (`<id>-shard-<i>-of-<N>`), each held as the leader Lease
 * is (LeaseLock: 15 s lease, renewed every 2 s, given up at the 10 s renew deadline), plus a member
 * Lease of this replica's own that the others count for the fair share. Each poll is one list of the
 * election's Leases (by label) and one read of the leader Lease of --shards 1; the policy
 * (sharding/policy.ts) says which free shards to take and which held one to hand over, and the writes
 * of the poll (every renewal, every take) go out together, all with the same renewTime.
 *
 * A replica that dies holds its shards and its member Lease until they expire, 15 s after its last
 * renewal (all written at one instant). The others poll right at that expiry, count one member fewer,
 * and take the shards within their grown share at once; should their views of the members differ, the
 * orphan rule takes any shard left free for one more retry period. So every shard is held again within
 * lease duration + retry period (17 s) of the death, and within lease duration when the survivors see it
 * alike, which is the usual case.
 */
export class ShardElector implements ShardLeases {
  readonly shards: number;
  readonly identity: string;
  private readonly client: ShardLeaseClient;
  private readonly namespace: string;
  private readonly id: string;
  private readonly config: LeaderElectionConfig;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly locks: LeaseLock[];
  private readonly member: LeaseLock;
  private readonly foreign = new Map<string, Foreign>();
  private leader: Observation | undefined;
  /** Free shards: when this replica first saw each free. */
  private readonly firstSeenFree = new Map<number, number>();
  /** Shards being handed over: draining, or drained and to be released at the next poll. */
  private readonly handingOver = new Map<number, "draining" | "drained">();
  private readonly polls: PollLoop;
  private callbacks: ShardCallbacks | undefined;
  private lastShare = "";
  private conflictedLastPoll = false;

  constructor(opts: {
    client: ShardLeaseClient;
    namespace: string;
    /** --leader-election-id: the Leases are named after it, and it is the leader Lease's name with one shard. */
    id: string;
    shards: number;
    identity: string;
    config?: LeaderElectionConfig;
    /** The Pod this replica runs in: Kubernetes deletes the member Lease with it, so none piles up. */
    owner?: OwnerReference;
    logger: Logger;
    now?: () => number;
  }) {
    this.client = opts.client;
    this.namespace = opts.namespace;
    this.id = opts.id;
    this.shards = opts.shards;
    this.identity = opts.identity;
    this.config = opts.config ?? DEFAULT_LEADER_ELECTION;
    this.logger = opts.logger.child({ component: "leader-election", election: `${opts.namespace}/${opts.id}`, shards: opts.shards });
    this.now = opts.now ?? Date.now;
    const lock = (name: string, labels: Record<string, string>, onLost: () => void, onDeadline?: (passed: DeadlinePassed) => void) =>
      new LeaseLock({
        client: this.client,
        namespace: this.namespace,
        name,
        identity: this.identity,
        config: this.config,
        labels,
        ...(labels[LEASE_ROLE_LABEL] === "member" && opts.owner ? { ownerReferences: [opts.owner] } : {}),
        logger: this.logger.child({ lease: name }),
        now: this.now,
        onLost,
        onDeadline,
      });
    this.locks = Array.from({ length: this.shards }, (_, shard) =>
      lock(
        shardLeaseName(this.id, shard, this.shards),
        leaseLabels(this.id, this.shards, "shard", shard),
        () => this.callbacks?.onStopped(shard),
        (passed) => {
          this.logger.error({ identity: this.identity, shard, ...passed }, "renew deadline passed; shard lost");
          this.polls.abortAttempt(new Error("aborted at a renew deadline"));
        },
      ),
    );
    this.member = lock(memberLeaseName(this.id, this.identity), leaseLabels(this.id, this.shards, "member"), () => {});
    this.polls = new PollLoop({
      poll: (signal) => this.poll(signal),
      retryPeriodMs: this.config.retryPeriodMs,
      requestTimeoutMs: this.config.requestTimeoutMs ?? defaultRequestTimeoutMs(this.config),
      logger: this.logger,
    });
  }

  holds(shard: number): boolean {
    return this.locks[shard]?.held ?? false;
  }

  start(callbacks: ShardCallbacks): void {
    this.callbacks ??= callbacks;
    this.polls.start();
  }

  /** Stops campaigning, then releases every shard held and the member Lease, so the others take over at once. */
  async stop(): Promise<void> {
    await this.polls.stop();
    await Promise.all([...this.locks, this.member].map(async (l) => (l.lose() ? l.release() : undefined)));
  }

  /** One poll: read every Lease of the election, plan, write. Returns how long to wait before the next. */
  private async poll(signal: AbortSignal): Promise<number> {
    const [list, leaderLease] = await Promise.all([
      this.client.list<Lease>(Resources.Lease, this.namespace, { labelSelector: electionSelector(this.id) }, { signal }),
      this.client.find<Lease>(Resources.Lease, this.namespace, this.id, { signal }),
    ]);
    signal.throwIfAborted();
    // One instant for the poll: it is the renewTime of every write, and the deadlines count from it.
    const at = this.now();
    const plan = this.see(list.items, leaderLease, at);
    const outcomes = await Promise.all([
      this.write(this.member, at, signal).catch((err: unknown) => this.failed(err, this.member.name)),
      ...this.locks.map((lock, shard) => this.step(lock, shard, plan, at, signal).catch((err: unknown) => this.failed(err, lock.name))),
    ]);
    for (const shard of plan.handOver) this.handOver(shard);
    // Soon after a lost race, but not twice running: a conflict that persists is no race.
    const conflicted = outcomes.includes("conflict") && !this.conflictedLastPoll;
    this.conflictedLastPoll = outcomes.includes("conflict");
    return this.nextPoll(conflicted);
  }

  /** Takes the poll in and plans: what the policy makes of it. */
  private see(items: readonly Lease[], leaderLease: Lease | undefined, at: number): ShardPlan {
    const byName = new Map(items.map((l) => [l.metadata?.name ?? "", l]));
    for (const lock of [...this.locks, this.member]) lock.see(byName.get(lock.name), at);
    const own = new Set([...this.locks, this.member].map((l) => l.name));
    for (const [name, lease] of byName) {
      if (own.has(name)) continue;
      const labels = lease.metadata?.labels ?? {};
      this.foreign.set(name, { observation: observe(this.foreign.get(name)?.observation, lease, at), role: labels[LEASE_ROLE_LABEL], shards: labels[SHARDS_LABEL] });
    }
    for (const name of [...this.foreign.keys()]) if (!byName.has(name)) this.foreign.delete(name);
    this.leader = leaderLease ? observe(this.leader, leaderLease, at) : undefined;

    const held = (o: Observation | undefined): o is Observation =>
      o !== undefined && (o.record?.holderIdentity ?? "") !== "" && o.record?.holderIdentity !== this.identity && at < expiresAt(o, this.config);
    const mine = String(this.shards);
    const members: MemberSeen[] = [...this.foreign.values()]
      .filter((f) => f.role === "member" && f.shards === mine && held(f.observation))
      .map((f) => ({ identity: f.observation.record!.holderIdentity!, renewedAtMs: f.observation.observedAtMs }));
    const leaderLeaseHeld = held(this.leader);
    const otherMapHeld = leaderLeaseHeld || [...this.foreign.values()].some((f) => f.role === "shard" && f.shards !== mine && held(f.observation));
    const counted = this.member.seen?.record?.holderIdentity === this.identity;
    // A free shard is an orphan once passed over for a retry period by replicas that could have taken
    // it: its time counts only from a poll in which this replica could (counted, no other map held), or
    // every shard free at a start, or when an old map lets go, would be an orphan at once.
    if (!counted || otherMapHeld) this.firstSeenFree.clear();
    const leases = this.locks.map((lock, shard): ShardSeen => {
      const decision = lock.decide(at);
      const holder = decision.action === "wait" ? decision.holder : decision.action === "update" && decision.kind === "renew" ? this.identity : undefined;
      if (holder !== undefined) {
        this.firstSeenFree.delete(shard);
        return { shard, holder };
      }
      if (counted && !otherMapHeld && !this.firstSeenFree.has(shard)) this.firstSeenFree.set(shard, at);
      const since = this.firstSeenFree.get(shard);
      return since === undefined ? { shard } : { shard, freeSinceMs: since };
    });
    for (const shard of [...this.handingOver.keys()]) if (leases[shard]?.holder !== this.identity) this.handingOver.delete(shard);

    const plan = planShards({
      identity: this.identity,
      shards: this.shards,
      nowMs: at,
      leases,
      members,
      counted,
      handingOver: new Set(this.handingOver.keys()),
      otherMapHeld,
      leaderLeaseHeld,
      retryPeriodMs: this.config.retryPeriodMs,
      renewDeadlineMs: this.config.renewDeadlineMs,
    });
    const share = `${plan.members}/${plan.share}/${otherMapHeld}`;
    if (share !== this.lastShare) {
      this.lastShare = share;
      this.logger.info({ members: plan.members, share: plan.share, otherMapHeld, leaderLeaseHeld }, "shard share");
    }
    if (plan.yieldAll) this.logger.warn({ leader: this.leader?.record?.holderIdentity }, "a replica of --shards 1 holds the leader Lease; giving every shard up");
    return plan;
  }

  /** One shard's part of a poll: renew it, take it, release it, or let it be. */
  private async step(lock: LeaseLock, shard: number, plan: ShardPlan, at: number, signal: AbortSignal): Promise<LeaseWrite | undefined> {
    const decision = lock.decide(at);
    // Another replica holds it: should this one still think it holds it, it does not.
    if (decision.action === "wait") {
      lock.lose();
      return undefined;
    }
    const renewal = decision.action === "update" && decision.kind === "renew";
    if (renewal && (plan.yieldAll || this.handingOver.get(shard) === "drained")) {
      // Drained (or yielding at once): the term has ended, and the Lease goes back for another to take.
      lock.lose();
      this.handingOver.delete(shard);
      await lock.release();
      return undefined;
    }
    if (!renewal && !plan.acquire.includes(shard)) return undefined;
    const written = await this.write(lock, at, signal);
    if (written === "acquired") {
      this.logger.info({ identity: this.identity, shard, transitions: lock.seen?.record?.leaseTransitions }, "acquired shard");
      this.callbacks?.onStarted(shard);
    }
    return written;
  }

  private async write(lock: LeaseLock, at: number, signal: AbortSignal): Promise<LeaseWrite | undefined> {
    const decision = lock.decide(at);
    if (decision.action === "wait") return undefined;
    return lock.write(decision, at, signal);
  }

  private failed(err: unknown, lease: string): undefined {
    if (!this.polls.stopped) this.logger.warn({ lease, err: err instanceof Error ? err.message : String(err) }, "lease write failed");
    return undefined;
  }

  /** Drains the shard (the manager's term runs out), then lets the next poll release it. */
  private handOver(shard: number): void {
    if (this.handingOver.has(shard)) return;
    this.handingOver.set(shard, "draining");
    this.logger.info({ identity: this.identity, shard }, "handing shard over");
    void (this.callbacks?.onHandingOver(shard) ?? Promise.resolve()).then(() => {
      if (this.handingOver.get(shard) !== "draining") return;
      this.handingOver.set(shard, "drained");
      this.polls.wake();
    });
  }

  /**
   * A retry period, or sooner: right after losing a race, right when a Lease someone else holds
   * expires, so a dead replica's shards are taken at their expiry rather than up to a period later, and
   * right when a free shard has been passed over for a retry period (the orphan rule).
   */
  private nextPoll(conflicted: boolean): number {
    let delay = conflicted ? CONFLICT_RETRY_MS : this.config.retryPeriodMs;
    const now = this.now();
    for (const since of this.firstSeenFree.values()) {
      const untilOrphan = since + this.config.retryPeriodMs - now;
      if (untilOrphan > 0) delay = Math.min(delay, untilOrphan + 10);
    }
    const watched = [...this.locks.map((l) => l.seen), ...[...this.foreign.values()].map((f) => f.observation), this.leader];
    for (const o of watched) {
      const holder = o?.record?.holderIdentity ?? "";
      if (!o || holder === "" || holder === this.identity) continue;
      const untilExpiry = expiresAt(o, this.config) - now;
      if (untilExpiry >= 0) delay = Math.min(delay, untilExpiry + 10);
    }
    return Math.max(50, delay);
  }
}
