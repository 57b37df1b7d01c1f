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
 * safety still holds: a holder stops reconciling renewDeadline (10 s) after its last renewal, well
 * before a candidate can take over (15 s − 2 s at the earliest), so two replicas never lead at once.
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

/**
 * Lease-based leader election on coordination.k8s.io/v1. Writes go through PUT with the observed
 * resourceVersion, so of two candidates racing for an expired lease exactly one succeeds (the other
 * gets 409 Conflict and waits).
 */
/** The three calls leader election makes; KubeClient provides them, tests may use an in-memory store. */
export type LeaseClient = Pick<KubeClient, "find" | "create" | "replace">;

export class LeaderElector {
  private readonly client: LeaseClient;
  private readonly namespace: string;
  private readonly name: string;
  readonly identity: string;
  private readonly config: LeaderElectionConfig;
  private readonly logger: Logger;
  private readonly now: () => number;
  private observation: Observation | undefined;
  private leading = false;
  private lastRenewMs = 0;
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
    this.logger = opts.logger.child({ component: "leader-election", lease: `${opts.namespace}/${opts.name}` });
    this.now = opts.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(callbacks: LeaderCallbacks): void {
    this.loop ??= this.run(callbacks);
  }

  /** Stops campaigning; a leader gives the lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(cb: LeaderCallbacks): Promise<void> {
    while (!this.stopped) {
      let delay = this.config.retryPeriodMs;
      try {
        delay = await this.tryAcquireOrRenew(cb);
      } catch (err) {
        this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "lease read or write failed");
      }
      if (this.leading && this.now() - this.lastRenewMs > this.config.renewDeadlineMs) {
        this.logger.error({ identity: this.identity }, "could not renew the lease within the renew deadline; leadership lost");
        this.loseLeadership(cb);
      }
      if (!this.stopped) await this.sleep(delay);
    }
    if (this.leading) {
      this.loseLeadership(cb);
      await this.release();
    }
  }

  /** Returns how long to wait before the next attempt. */
  private async tryAcquireOrRenew(cb: LeaderCallbacks): Promise<number> {
    const lease = await this.client.find<Lease>(Resources.Lease, this.namespace, this.name);
    this.observation = observe(this.observation, lease, this.now());
    const decision = decideLease(this.observation, lease !== undefined, this.identity, this.now(), this.config);
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
          ? await this.client.create<Lease>(Resources.Lease, { metadata: { name: this.name, namespace: this.namespace }, spec: decision.spec } as Lease)
          : await this.client.replace<Lease>(Resources.Lease, body);
      this.observation = observe(this.observation, written, this.now());
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) {
        // Someone else wrote first; read again next round.
        return this.config.retryPeriodMs;
      }
      throw err;
    }
    this.lastRenewMs = this.now();
    if (!this.leading) {
      this.leading = true;
      this.logger.info({ identity: this.identity, transitions: decision.spec.leaseTransitions }, "became leader");
      this.noteLeader(this.identity, cb);
      cb.onStartedLeading();
    }
    return this.config.retryPeriodMs;
  }

  private loseLeadership(cb: LeaderCallbacks): void {
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
    try {
      const lease = await this.client.find<Lease>(Resources.Lease, this.namespace, this.name);
      if (!lease || lease.spec?.holderIdentity !== this.identity) return;
      await this.client.replace<Lease>(Resources.Lease, {
        metadata: { name: this.name, namespace: this.namespace, resourceVersion: lease.metadata?.resourceVersion },
        spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(this.now()) },
      });
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

function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.reason === "AlreadyExists";
}
