import { digest } from "../digest.ts";
import { noDataMeasurement } from "../slo/budget.ts";
import type { SloProfile } from "../slo/plan.ts";
import { countingQuerier, readRecorded, type InstantQuerier, type ProfileReading, type ReadOptions } from "./slo-reader.ts";

export interface RecordedCacheOptions {
  /**
   * Never refresh more often than this, whatever the evaluation intervals: a burst of reconciles (a
   * resync, a restart) then costs one batch, not one per profile. Default 1 s.
   */
  floorMs?: number;
  /** The reader; readRecorded unless a test swaps it. */
  read?: (client: InstantQuerier, profiles: readonly SloProfile[], now: Date, opts?: ReadOptions) => Promise<ProfileReading[]>;
  /** Passed to every read (the tile, for one). */
  readOptions?: ReadOptions;
  /** Called for every query sent to Prometheus, to count them. */
  onQuery?: () => void;
  /** Called after every batch with its duration and readings, for metrics. */
  onRefresh?: (seconds: number, readings: readonly ProfileReading[]) => void;
  now?: () => Date;
}

interface Member {
  profile: SloProfile;
  /** The digest of the spec the member asked with, to tell a reading of an older spec from a current one. */
  fingerprint: string;
  intervalMs: number;
  lastAskedMs: number;
}

interface Result {
  atMs: number;
  readings: Map<string, { fingerprint: string; reading: ProfileReading }>;
}

interface Batch {
  members: Map<string, Member>;
  /**
   * The smallest interval among the members: lowered as members ask, found anew over all of them at
   * each refresh (so a member gone or slowed down counts until then), instead of on every ask, which at
   * thousands of members was a walk over all of them per reconcile.
   */
  minIntervalMs: number;
  last?: Result;
  inflight?: Promise<Result>;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

/**
 * A spec's digest, once per spec object: a profile's spec is the same (frozen) object pass after pass
 * until its profile is updated, and each member keeps 44 characters instead of its spec as JSON.
 */
const fingerprints = new WeakMap<object, string>();
function fingerprintOf(spec: SloProfile["spec"]): string {
  let f = fingerprints.get(spec);
  if (f === undefined) {
    f = digest(JSON.stringify(spec));
    fingerprints.set(spec, f);
  }
  return f;
}

/** No verdict yet, for a profile the next batch will read: NotRecorded, which never acts. */
function pending(profile: SloProfile, at: Date): ProfileReading {
  return {
    namespace: profile.namespace,
    name: profile.name,
    measurements: { slos: profile.spec.slos.map((s) => noDataMeasurement(s)), at },
    problems: profile.spec.slos.map((s) => ({
      slo: s.name,
      reason: "NotRecorded" as const,
      message: `${profile.namespace}/${profile.name} joins the next recording-rule read`,
    })),
  };
}

/**
 * Recording-rule reads shared by every profile on one Prometheus connection: each reconcile asks for
 * its own profile, and gets its part of ONE readRecorded over every recording-mode profile known on
 * that connection. readRecorded's two instant queries cost the same for one profile as for thousands,
 * so reading per profile would multiply the queries by the profile count for nothing.
 *
 * A batch is reused until it is older than the smallest evaluationInterval among its members (never
 * less than the floor); callers arriving while one is in flight share it.
 */
export class RecordedReadCache {
  private readonly batches = new Map<InstantQuerier, Batch>();
  private readonly floorMs: number;
  private readonly read: NonNullable<RecordedCacheOptions["read"]>;
  private readonly readOptions: ReadOptions | undefined;
  private readonly onQuery: RecordedCacheOptions["onQuery"];
  private readonly onRefresh: RecordedCacheOptions["onRefresh"];
  private readonly now: () => Date;

  constructor(opts: RecordedCacheOptions = {}) {
    this.floorMs = opts.floorMs ?? 1_000;
    this.read = opts.read ?? readRecorded;
    this.readOptions = opts.readOptions;
    this.onQuery = opts.onQuery;
    this.onRefresh = opts.onRefresh;
    this.now = opts.now ?? (() => new Date());
  }

  /** The reading of `profile`, evaluated every `intervalMs`, from the batch of its Prometheus client. */
  async get(client: InstantQuerier, profile: SloProfile, intervalMs: number): Promise<ProfileReading> {
    let batch = this.batches.get(client);
    if (!batch) {
      batch = { members: new Map(), minIntervalMs: Number.POSITIVE_INFINITY };
      this.batches.set(client, batch);
    }
    const key = keyOf(profile.namespace, profile.name);
    const fingerprint = fingerprintOf(profile.spec);
    const nowMs = this.now().getTime();
    batch.members.set(key, { profile, fingerprint, intervalMs, lastAskedMs: nowMs });
    batch.minIntervalMs = Math.min(batch.minIntervalMs, intervalMs);

    // A batch in flight that started before this profile joined (or before its spec changed) cannot hold
    // its reading, so the next one is started once it settles: two rounds suffice, three is slack.
    const fresh = batch.last && nowMs - batch.last.atMs < this.maxAgeMs(batch) ? batch.last : undefined;
    const hit = fresh?.readings.get(key);
    if (hit && hit.fingerprint === fingerprint) return hit.reading;
    // A profile new to a fresh batch waits for the next one: its rules were only just written, so
    // Prometheus has recorded nothing for it yet, and reading every profile again for each newcomer
    // would make a first pass over N profiles cost N batches. A changed spec is re-read at once.
    if (fresh && !hit) return pending(profile, this.now());
    for (let round = 0; round < 3; round++) {
      const result = await (batch.inflight ?? this.refresh(client, batch));
      const got = result.readings.get(key);
      if (got && got.fingerprint === fingerprint) return got.reading;
      if (!got) return pending(profile, this.now());
    }
    throw new Error(`no recorded reading for ${key} after three batches`);
  }

  /** Drops a profile from every batch: deleted, or no longer in recording mode. */
  forget(namespace: string, name: string): void {
    for (const batch of this.batches.values()) {
      batch.members.delete(keyOf(namespace, name));
      batch.last?.readings.delete(keyOf(namespace, name));
    }
  }

  /** Profiles currently read in the batch of `client`, for tests and debugging. */
  members(client: InstantQuerier): string[] {
    return [...(this.batches.get(client)?.members.keys() ?? [])];
  }

  private maxAgeMs(batch: Batch): number {
    return Math.max(this.floorMs, Number.isFinite(batch.minIntervalMs) ? batch.minIntervalMs : this.floorMs);
  }

  private refresh(client: InstantQuerier, batch: Batch): Promise<Result> {
    const counted = countingQuerier(client, () => this.onQuery?.());
    const run = async (): Promise<Result> => {
      // Reconciles started together (a resync, a restart) all join this batch instead of the next.
      await new Promise((r) => setImmediate(r));
      const nowMs = this.now().getTime();
      // A profile nobody asked about for three of its intervals (and at least a minute) was deleted,
      // moved to another Prometheus or to Direct mode without forget(): stop reading it.
      let minIntervalMs = Number.POSITIVE_INFINITY;
      for (const [key, m] of batch.members) {
        if (nowMs - m.lastAskedMs > Math.max(3 * m.intervalMs, 60_000)) batch.members.delete(key);
        else minIntervalMs = Math.min(minIntervalMs, m.intervalMs);
      }
      batch.minIntervalMs = minIntervalMs;
      const members = [...batch.members.entries()];
      const at = this.now();
      const started = performance.now();
      let readings: ProfileReading[];
      try {
        readings = await this.read(counted, members.map(([, m]) => m.profile), at, this.readOptions);
      } catch (err) {
        // readRecorded answers Prometheus errors itself; anything else still must not leave a caller
        // without a reading, and "no data" is the one answer that can never cause an action.
        const error = err instanceof Error ? err.message : String(err);
        readings = members.map(([, m]) => ({
          namespace: m.profile.namespace,
          name: m.profile.name,
          measurements: { error, slos: m.profile.spec.slos.map((s) => noDataMeasurement(s)), at },
          problems: [],
        }));
      }
      this.onRefresh?.((performance.now() - started) / 1000, readings);
      const byKey = new Map<string, { fingerprint: string; reading: ProfileReading }>();
      members.forEach(([key, m], i) => {
        const reading = readings[i];
        if (reading) byKey.set(key, { fingerprint: m.fingerprint, reading });
      });
      return { atMs: at.getTime(), readings: byKey };
    };
    const inflight = run().then((result) => {
      batch.last = result;
      batch.inflight = undefined;
      return result;
    });
    batch.inflight = inflight;
    return inflight;
  }
}
