import type { Logger } from "pino";
import { Resources } from "../kube/resources.ts";
import {
  DEFAULT_LEADER_ELECTION,
  defaultRequestTimeoutMs,
  LeaseLock,
  type Lease,
  type LeaseClient,
  type LeaderElectionConfig,
} from "./lease-lock.ts";
import { PollLoop } from "./poll-loop.ts";

// The Lease itself (its record, the decision, the write, the deadline, the release) is lease-lock.ts's,
// shared with sharded election; these are re-exported for the callers that know them from here.
export {
  DEFAULT_LEADER_ELECTION,
  decideLease,
  defaultRequestTimeoutMs,
  microTime,
  observe,
  type Lease,
  type LeaseClient,
  type LeaseDecision,
  type LeaseSpec,
  type LeaderElectionConfig,
  type Observation,
} from "./lease-lock.ts";

export interface LeaderCallbacks {
  onStartedLeading: () => void;
  /** Called at once when leadership is lost or given up; reconciling must stop before anything else. */
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
}

/**
 * Lease-based leader election on coordination.k8s.io/v1: one Lease (LeaseLock), read and written every
 * retry period. Of two candidates racing for an expired lease exactly one succeeds (the other gets 409
 * Conflict and waits).
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
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly lock: LeaseLock;
  private readonly polls: PollLoop;
  private callbacks: LeaderCallbacks | undefined;
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
    this.logger = opts.logger.child({ component: "leader-election", lease: `${opts.namespace}/${opts.name}` });
    this.now = opts.now ?? Date.now;
    this.lock = new LeaseLock({
      client: this.client,
      namespace: this.namespace,
      name: this.name,
      identity: this.identity,
      config: this.config,
      logger: this.logger,
      now: this.now,
      onLost: () => this.callbacks?.onStoppedLeading(),
      onDeadline: (passed) => {
        this.logger.error({ identity: this.identity, ...passed }, "renew deadline passed; leadership lost");
        this.polls.abortAttempt(new Error("aborted at the renew deadline"));
      },
    });
    this.polls = new PollLoop({
      poll: (signal) => this.tryAcquireOrRenew(signal),
      retryPeriodMs: this.config.retryPeriodMs,
      requestTimeoutMs: this.config.requestTimeoutMs ?? defaultRequestTimeoutMs(this.config),
      logger: this.logger,
    });
  }

  /**
   * Whether this replica leads now. The clock is checked too: should the deadline's timer run late (a
   * blocked event loop), the answer is still no from the deadline on.
   */
  get isLeader(): boolean {
    return this.lock.held;
  }

  start(callbacks: LeaderCallbacks): void {
    this.callbacks ??= callbacks;
    this.polls.start();
  }

  /** Stops campaigning; a leader gives the lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    await this.polls.stop();
    if (this.lock.lose()) await this.lock.release();
  }

  /** Returns how long to wait before the next attempt. */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<number> {
    const cb = this.callbacks;
    if (!cb) return this.config.retryPeriodMs;
    const lease = await this.client.find<Lease>(Resources.Lease, this.namespace, this.name, { signal });
    signal.throwIfAborted();
    // One instant for the decision: it is the renewTime written, and the deadline counts from it.
    const at = this.now();
    this.lock.see(lease, at);
    const decision = this.lock.decide(at);
    if (decision.action === "wait") {
      this.lock.lose();
      this.noteLeader(decision.holder, cb);
      // Wake right when the lease would expire rather than up to a retry period later.
      return Math.max(50, Math.min(this.config.retryPeriodMs, decision.expiresAtMs - this.now() + 10));
    }
    const written = await this.lock.write(decision, at, signal);
    if (written === "acquired") {
      this.logger.info({ identity: this.identity, transitions: decision.spec.leaseTransitions }, "became leader");
      this.noteLeader(this.identity, cb);
      cb.onStartedLeading();
    }
    return this.config.retryPeriodMs;
  }

  private noteLeader(identity: string, cb: LeaderCallbacks): void {
    if (identity === this.lastLeader) return;
    this.lastLeader = identity;
    if (identity !== this.identity) this.logger.info({ leader: identity }, "another replica leads");
    cb.onNewLeader?.(identity);
  }
}
