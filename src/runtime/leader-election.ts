import type { Logger } from "pino";
import type { KubeClient } from "../kube/client.ts";
import { ApiError, isConflict, isNotFound } from "../kube/errors.ts";
import { Resources } from "../kube/resources.ts";
import type { ObjectMeta } from "../kube/types.ts";

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

export interface LeaderCallbacks {
  onStartedLeading: () => void;
  /** Called at once when leadership is lost or given up; reconciling must stop before anything else. */
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
}

/** The three calls leader election makes; KubeClient provides them, tests may use an in-memory store. */
export type LeaseClient = Pick<KubeClient, "find" | "create" | "replace">;

/**
 * Lease-based leader election on coordination.k8s.io/v1. Writes go through PUT with the observed
 * resourceVersion, so of two candidates racing for an expired lease exactly one succeeds (the other
 * gets 409 Conflict and waits).
 *
 * Leadership ends at the renew deadline, renewDeadline after the renewTime of the last successful
 * renewal, on a timer armed by that renewal: a lease request that hangs cannot hold it up. The
 * renewTime is the earliest instant a candidate may count the lease from (clocks in sync; Observation
 * bounds the skew), so the holder stops at least
 * leaseDuration − renewDeadline (5 s) before anyone else can take over. Every attempt has its own
 * timeout, and the one in flight at the deadline is aborted.
 */
export class LeaderElector {
  private readonly client: LeaseClient;
  private readonly namespace: string;
  private readonly name: string;
  readonly identity: string;
  private readonly config: LeaderElectionConfig;
  private readonly requestTimeoutMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private observation: Observation | undefined;
  private leading = false;
  /** While leading: the renewTime of the last successful renewal, and the deadline it gives. */
  private renewedAtMs = 0;
  private deadlineMs = 0;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  /** The attempt in flight, aborted at its timeout, at the deadline or on stop. */
  private attempt: AbortController | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastLeader = "";

  constructor(opts: {
    client: LeaseClient;
    namespace: string;
    name: string;
    identity: string;
    config?: LeaderElectionConfig;
    logger: Logger;
    now?: () => number;
  }) {
    this.client = opts.client;
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.identity = opts.identity;
    this.config = opts.config ?? DEFAULT_LEADER_ELECTION;
    this.requestTimeoutMs = this.config.requestTimeoutMs ?? defaultRequestTimeoutMs(this.config);
    this.logger = opts.logger.child({ component: "leader-election", lease: `${opts.namespace}/${opts.name}` });
    this.now = opts.now ?? Date.now;
  }

  /**
   * Whether this replica leads now. The clock is checked too: should the deadline's timer run late (a
   * blocked event loop), the answer is still no from the deadline on.
   */
  get isLeader(): boolean {
    return this.leading && this.now() < this.deadlineMs;
  }

  start(callbacks: LeaderCallbacks): void {
    this.loop ??= this.run(callbacks);
  }

  /** Stops campaigning; a leader gives the lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.attempt?.abort(new Error("leader election stopping"));
    this.wake?.();
    await this.loop;
  }

  private async run(cb: LeaderCallbacks): Promise<void> {
    while (!this.stopped) {
      let delay = this.config.retryPeriodMs;
      const attempt = new AbortController();
      this.attempt = attempt;
      const timeout = setTimeout(
        () => attempt.abort(new Error(`lease request timed out after ${this.requestTimeoutMs} ms`)),
        this.requestTimeoutMs,
      );
      try {
        delay = await this.tryAcquireOrRenew(cb, attempt.signal);
      } catch (err) {
        const reason: unknown = attempt.signal.reason;
        const message = attempt.signal.aborted && reason instanceof Error ? reason.message : err instanceof Error ? err.message : String(err);
        if (!this.stopped) this.logger.warn({ err: message }, "lease read or write failed");
      } finally {
        clearTimeout(timeout);
        this.attempt = undefined;
      }
      if (!this.stopped) await this.sleep(delay);
    }
    if (this.leading) {
      this.loseLeadership(cb);
      await this.release();
    }
  }

  /** Returns how long to wait before the next attempt. */
  private async tryAcquireOrRenew(cb: LeaderCallbacks, signal: AbortSignal): Promise<number> {
    const lease = await this.client.find<Lease>(Resources.Lease, this.namespace, this.name, { signal });
    signal.throwIfAborted();
    // One instant for the decision: it is the renewTime written, and the deadline counts from it.
    const at = this.now();
    this.observation = observe(this.observation, lease, at);
    const decision = decideLease(this.observation, lease !== undefined, this.identity, at, this.config);
    if (decision.action === "wait") {
      if (this.leading) this.loseLeadership(cb);
      this.noteLeader(decision.holder, cb);
      // Wake right when the lease would expire rather than up to a retry period later.
      return Math.max(50, Math.min(this.config.retryPeriodMs, decision.expiresAtMs - this.now() + 10));
    }
    try {
      const body: Lease = {
        metadata: { name: this.name, namespace: this.namespace, resourceVersion: this.observation.resourceVersion },
        spec: decision.spec,
      };
      const written =
        decision.action === "create"
          ? await this.client.create<Lease>(Resources.Lease, { metadata: { name: this.name, namespace: this.namespace }, spec: decision.spec } as Lease, { signal })
          : await this.client.replace<Lease>(Resources.Lease, body, { signal });
      this.observation = observe(this.observation, written, this.now());
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) {
        // Someone else wrote first; read again next round.
        return this.config.retryPeriodMs;
      }
      throw err;
    }
    const deadlineMs = at + this.config.renewDeadlineMs;
    if (this.now() >= deadlineMs) {
      // Answered after its own deadline: too late to lead on. The lease still names this replica, so
      // the next attempt renews it afresh.
      this.logger.warn({ renewedAt: new Date(at).toISOString() }, "the lease write was answered after the renew deadline; not leading on it");
      return this.config.retryPeriodMs;
    }
    this.armDeadline(at, deadlineMs, cb);
    if (!this.leading) {
      this.leading = true;
      this.logger.info({ identity: this.identity, transitions: decision.spec.leaseTransitions }, "became leader");
      this.noteLeader(this.identity, cb);
      cb.onStartedLeading();
    }
    return this.config.retryPeriodMs;
  }

  private armDeadline(renewedAtMs: number, deadlineMs: number, cb: LeaderCallbacks): void {
    clearTimeout(this.deadlineTimer);
    this.renewedAtMs = renewedAtMs;
    this.deadlineMs = deadlineMs;
    this.deadlineTimer = setTimeout(() => this.deadlinePassed(cb), deadlineMs - this.now());
  }

  private deadlinePassed(cb: LeaderCallbacks): void {
    if (!this.leading) return;
    this.logger.error(
      { identity: this.identity, renewedAt: new Date(this.renewedAtMs).toISOString(), deadline: new Date(this.deadlineMs).toISOString() },
      "renew deadline passed; leadership lost",
    );
    this.loseLeadership(cb);
    // The attempt in flight cannot make this replica lead on the renewal it is waiting for.
    this.attempt?.abort(new Error("aborted at the renew deadline"));
  }

  private loseLeadership(cb: LeaderCallbacks): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    if (!this.leading) return;
    this.leading = false;
    cb.onStoppedLeading();
  }

  private noteLeader(identity: string, cb: LeaderCallbacks): void {
    if (identity === this.lastLeader) return;
    this.lastLeader = identity;
    if (identity !== this.identity) this.logger.info({ leader: identity }, "another replica leads");
    cb.onNewLeader?.(identity);
  }

  /** Empties the holder and shortens the lease so a waiting replica acquires without waiting it out. */
  private async release(): Promise<void> {
    const signal = AbortSignal.timeout(this.requestTimeoutMs);
    try {
      const lease = await this.client.find<Lease>(Resources.Lease, this.namespace, this.name, { signal });
      if (!lease || lease.spec?.holderIdentity !== this.identity) return;
      await this.client.replace<Lease>(
        Resources.Lease,
        {
          metadata: { name: this.name, namespace: this.namespace, resourceVersion: lease.metadata?.resourceVersion },
          spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(this.now()) },
        },
        { signal },
      );
      this.logger.info({ identity: this.identity }, "released the lease");
    } catch (err) {
      if (!isNotFound(err)) this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "could not release the lease");
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

export function defaultRequestTimeoutMs(config: LeaderElectionConfig): number {
  // A retry period close to the deadline leaves little room: never below a quarter of it.
  return Math.max(config.renewDeadlineMs / 4, (config.renewDeadlineMs - 2 * config.retryPeriodMs) / 2);
}

function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.reason === "AlreadyExists";
}
