import type { Logger } from "pino";
import type { KubeClient } from "../kube/client.ts";
import { ApiError, isConflict, isNotFound } from "../kube/errors.ts";
import { Resources } from "../kube/resources.ts";
import type { ObjectMeta, OwnerReference } from "../kube/types.ts";

// One coordination.k8s.io/v1 Lease held by one identity: how its record is read and judged, written,
// renewed before a deadline and released. Leader election (leader-election.ts) campaigns for one such
// Lease; sharded election (shard-election.ts) for one per shard and one of its own as a member.

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: LeaseSpec;
}

export interface LeaderElectionConfig {
  /** How long a lease is valid after the holder's last renewal, as seen by the others. */
  leaseDurationMs: number;
  /** How long the holder keeps trying to renew before it gives leadership up. */
  renewDeadlineMs: number;
  /** The pause between attempts to acquire or renew. */
  retryPeriodMs: number;
  /**
   * How long one attempt (the lease's read and write) may take before it is aborted. Unset, the
   * longest that still fits two full attempts between a renewal and its deadline, (renewDeadline − 2 ×
   * retryPeriod) / 2: 3 s by default, so one hung connection costs one attempt, not the lease.
   */
  requestTimeoutMs?: number;
}

export const DEFAULT_LEADER_ELECTION: LeaderElectionConfig = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/**
 * What a candidate remembers of the lease: the record, and when the record last changed.
 *
 * A candidate polls every retry period, so it learns of a renewal up to one period late. It pins the
 * renewal to the holder's renewTime, clamped between its previous poll (when the old record was still
 * there) and now. With clocks in sync this is exact, and a crashed holder's lease is taken
 * leaseDuration after its last renewal. With skewed clocks the error is at most one retry period, and
 * safety still holds: a holder stops reconciling renewDeadline (10 s) after its last renewal, on a
 * timer that no request can hold up, well before a candidate can take over (15 s − 2 s at the
 * earliest), so two replicas never lead at once.
 */
export interface Observation {
  record: LeaseSpec | undefined;
  resourceVersion: string | undefined;
  observedAtMs: number;
  polledAtMs: number;
}

export type LeaseDecision =
  | { action: "create"; spec: LeaseSpec }
  | { action: "update"; spec: LeaseSpec; kind: "renew" | "acquire" }
  | { action: "wait"; holder: string; expiresAtMs: number };

/** metav1.MicroTime wants exactly six fractional digits; toISOString gives three. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function sameRecord(a: LeaseSpec | undefined, b: LeaseSpec | undefined): boolean {
  return (
    a?.holderIdentity === b?.holderIdentity &&
    a?.renewTime === b?.renewTime &&
    a?.acquireTime === b?.acquireTime &&
    a?.leaseTransitions === b?.leaseTransitions &&
    a?.leaseDurationSeconds === b?.leaseDurationSeconds
  );
}

/** Updates the observation with a freshly read lease: the clock restarts only when the record changed. */
export function observe(prev: Observation | undefined, lease: Lease | undefined, nowMs: number): Observation {
  const record = lease?.spec;
  const resourceVersion = lease?.metadata?.resourceVersion;
  if (prev && sameRecord(prev.record, record)) return { ...prev, resourceVersion, polledAtMs: nowMs };
  // On first sight nothing bounds when the record was written: count from now, the cautious choice.
  const earliest = prev?.polledAtMs ?? nowMs;
  const renewedMs = Date.parse(record?.renewTime ?? "");
  const observedAtMs = Number.isFinite(renewedMs) ? Math.min(nowMs, Math.max(earliest, renewedMs)) : nowMs;
  return { record, resourceVersion, observedAtMs, polledAtMs: nowMs };
}

/** When the lease observed expires on this replica's clock, whoever holds it. */
export function expiresAt(obs: Observation, config: LeaderElectionConfig): number {
  return obs.observedAtMs + (obs.record?.leaseDurationSeconds ?? Math.ceil(config.leaseDurationMs / 1000)) * 1000;
}

/** The pure core of leader election: given what was observed, what should `identity` do now? */
export function decideLease(
  obs: Observation | undefined,
  exists: boolean,
  identity: string,
  nowMs: number,
  config: LeaderElectionConfig,
): LeaseDecision {
  const now = microTime(nowMs);
  const durationSeconds = Math.ceil(config.leaseDurationMs / 1000);
  const fresh = (transitions: number): LeaseSpec => ({
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: transitions,
  });
  if (!exists || !obs) return { action: "create", spec: fresh(0) };
  const record = obs.record ?? {};
  const holder = record.holderIdentity ?? "";
  if (holder === identity) {
    return { action: "update", kind: "renew", spec: { ...record, leaseDurationSeconds: durationSeconds, renewTime: now } };
  }
  const expiresAtMs = obs.observedAtMs + (record.leaseDurationSeconds ?? durationSeconds) * 1000;
  if (holder !== "" && nowMs < expiresAtMs) return { action: "wait", holder, expiresAtMs };
  return { action: "update", kind: "acquire", spec: fresh((record.leaseTransitions ?? 0) + 1) };
}

export function defaultRequestTimeoutMs(config: LeaderElectionConfig): number {
  // A retry period close to the deadline leaves little room: never below a quarter of it.
  return Math.max(config.renewDeadlineMs / 4, (config.renewDeadlineMs - 2 * config.retryPeriodMs) / 2);
}

/** The three calls a lease holder makes; KubeClient provides them, tests may use an in-memory store. */
export type LeaseClient = Pick<KubeClient, "find" | "create" | "replace">;

/** The renewal a hold's deadline counted from, and the deadline, as ISO times (for logs). */
export interface DeadlinePassed {
  renewedAt: string;
  deadline: string;
}

/** What a write of the lease came to. */
export type LeaseWrite =
  /** This replica holds the lease, from now on (acquired) or still (renewed), until the new deadline. */
  | "acquired"
  | "renewed"
  /** Someone else wrote first (409): read again. */
  | "conflict"
  /** Answered after its own renew deadline: too late to hold on; the record still names this replica. */
  | "late";

/**
 * One Lease held by one identity. Writes go through PUT with the observed resourceVersion, so of two
 * candidates racing for an expired lease exactly one succeeds (the other gets 409 Conflict).
 *
 * The hold ends at the renew deadline, renewDeadline after the renewTime of the last successful write,
 * on a timer armed by that write: a request that hangs cannot hold it up. The renewTime is the earliest
 * instant a candidate may count the lease from (clocks in sync; Observation bounds the skew), so the
 * holder stops at least leaseDuration − renewDeadline (5 s) before anyone else can take over.
 */
export class LeaseLock {
  readonly name: string;
  readonly identity: string;
  private readonly client: LeaseClient;
  private readonly namespace: string;
  private readonly config: LeaderElectionConfig;
  private readonly labels: Record<string, string> | undefined;
  private readonly ownerReferences: OwnerReference[] | undefined;
  private readonly requestTimeoutMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly onLost: () => void;
  private readonly onDeadline: ((passed: DeadlinePassed) => void) | undefined;
  private observation: Observation | undefined;
  private exists = false;
  private holding = false;
  /** While holding: the renewTime of the last successful write, and the deadline it gives. */
  private renewedAtMs = 0;
  private deadlineMs = 0;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: {
    client: LeaseClient;
    namespace: string;
    name: string;
    identity: string;
    config: LeaderElectionConfig;
    /** Written with every create and update, so a PUT never drops them. */
    labels?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    logger: Logger;
    now?: () => number;
    /** Called at once when the hold ends, however: another holder, the deadline, or giving it up. */
    onLost: () => void;
    /**
     * Called when the deadline passes while holding, with the renewal it counted from, just before the
     * hold ends (onLost) in the same tick: say why, and abort the attempt in flight, which cannot make
     * this replica hold the lease on the renewal it waits for.
     */
    onDeadline?: (passed: DeadlinePassed) => void;
  }) {
    this.client = opts.client;
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.identity = opts.identity;
    this.config = opts.config;
    this.labels = opts.labels;
    this.ownerReferences = opts.ownerReferences;
    this.requestTimeoutMs = opts.config.requestTimeoutMs ?? defaultRequestTimeoutMs(opts.config);
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.onLost = opts.onLost;
    this.onDeadline = opts.onDeadline;
  }

  /**
   * Whether this replica holds the lease now. The clock is checked too: should the deadline's timer run
   * late (a blocked event loop), the answer is still no from the deadline on.
   */
  get held(): boolean {
    return this.holding && this.now() < this.deadlineMs;
  }

  /** The record last read or written; undefined before the first read or when there is no Lease. */
  get seen(): Observation | undefined {
    return this.exists ? this.observation : undefined;
  }

  /** Takes in a fresh read of the lease, `undefined` when it does not exist. */
  see(lease: Lease | undefined, at: number): void {
    this.exists = lease !== undefined;
    this.observation = observe(this.observation, lease, at);
  }

  /** What this replica may do with the lease at `at`, from the last read. */
  decide(at: number): LeaseDecision {
    return decideLease(this.observation, this.exists, this.identity, at, this.config);
  }

  /**
   * Writes what `decision` says, with `at` as its renewTime: the deadline counts from that instant, not
   * from when a slow answer arrived.
   */
  async write(decision: Exclude<LeaseDecision, { action: "wait" }>, at: number, signal: AbortSignal): Promise<LeaseWrite> {
    try {
      const written =
        decision.action === "create"
          ? await this.client.create<Lease>(Resources.Lease, { metadata: this.metadata(), spec: decision.spec }, { signal })
          : await this.client.replace<Lease>(Resources.Lease, { metadata: this.metadata(this.observation?.resourceVersion), spec: decision.spec }, { signal });
      this.see(written, this.now());
    } catch (err) {
      // Someone else wrote first; read again.
      if (isConflict(err) || isAlreadyExists(err)) return "conflict";
      throw err;
    }
    const deadlineMs = at + this.config.renewDeadlineMs;
    if (this.now() >= deadlineMs) {
      // The lease still names this replica, so the next attempt renews it afresh.
      this.logger.warn({ renewedAt: new Date(at).toISOString() }, "the lease write was answered after the renew deadline; not leading on it");
      return "late";
    }
    this.armDeadline(at, deadlineMs);
    if (this.holding) return "renewed";
    this.holding = true;
    return "acquired";
  }

  /**
   * Ends the hold at once: another replica holds the lease, or this one gives it up. Returns whether it
   * was held until now (its deadline's timer not yet run).
   */
  lose(): boolean {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    if (!this.holding) return false;
    this.holding = false;
    this.onLost();
    return true;
  }

  /**
   * Empties the holder and shortens the lease so a waiting replica acquires without waiting it out. The
   * hold must have ended first (lose): the lease is no longer this replica's once written.
   */
  async release(): Promise<void> {
    const signal = AbortSignal.timeout(this.requestTimeoutMs);
    try {
      const lease = await this.client.find<Lease>(Resources.Lease, this.namespace, this.name, { signal });
      if (!lease || lease.spec?.holderIdentity !== this.identity) return;
      const written = await this.client.replace<Lease>(
        Resources.Lease,
        {
          metadata: this.metadata(lease.metadata?.resourceVersion),
          spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(this.now()) },
        },
        { signal },
      );
      this.see(written, this.now());
      this.logger.info({ identity: this.identity }, "released the lease");
    } catch (err) {
      if (!isNotFound(err)) this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "could not release the lease");
    }
  }

  private metadata(resourceVersion?: string): ObjectMeta {
    return {
      name: this.name,
      namespace: this.namespace,
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
      ...(this.labels ? { labels: this.labels } : {}),
      ...(this.ownerReferences ? { ownerReferences: this.ownerReferences } : {}),
    };
  }

  private armDeadline(renewedAtMs: number, deadlineMs: number): void {
    clearTimeout(this.deadlineTimer);
    this.renewedAtMs = renewedAtMs;
    this.deadlineMs = deadlineMs;
    this.deadlineTimer = setTimeout(() => this.deadlinePassed(), deadlineMs - this.now());
  }

  private deadlinePassed(): void {
    if (!this.holding) return;
    this.onDeadline?.({ renewedAt: new Date(this.renewedAtMs).toISOString(), deadline: new Date(this.deadlineMs).toISOString() });
    this.lose();
  }
}

function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.reason === "AlreadyExists";
}
