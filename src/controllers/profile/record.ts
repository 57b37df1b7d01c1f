import type { ProfileStatus } from "../../api/status.ts";
import type { PerformanceProfile } from "../../api/types.ts";
import type { KubeClient } from "../../kube/client.ts";
import { Resources } from "../../kube/resources.ts";
import { ApiError } from "../../kube/errors.ts";
import { freshest } from "../../runtime/freshest.ts";

/** The profile changed since the pass read it; the next pass plans from the current copy. */
export class StaleProfile extends Error {
  override name = "StaleProfile";
  constructor(key: string, read: string, current: string | undefined) {
    super(`${key} changed since it was read at resourceVersion ${read}${current !== undefined ? ` (now ${current})` : ""}; planning again from the current copy`);
  }
}

/**
 * Writes profile status, and remembers what each write returned until the informer has caught up, so
 * the next pass plans from the status just recorded (its outbox above all), not from a stale cache.
 */
export class StatusRecorder {
  private readonly client: Pick<KubeClient, "apply" | "find">;
  private readonly written = new Map<string, PerformanceProfile>();
  private readonly keep: (p: PerformanceProfile) => PerformanceProfile;

  /**
   * `keep` cuts what is remembered down as the profile cache cuts what it holds (cachedProfile): the
   * API server's answer carries managedFields, several KB a profile, and while thousands of new
   * profiles are adopted, thousands of answers wait here for their next pass.
   */
  constructor(client: Pick<KubeClient, "apply" | "find">, keep: (p: PerformanceProfile) => PerformanceProfile = (p) => p) {
    this.client = client;
    this.keep = keep;
  }

  /** The newer of the informer's copy and our own last write; drops the write once the cache has it. */
  freshest(key: string, cached: PerformanceProfile | undefined): PerformanceProfile | undefined {
    const own = this.written.get(key);
    const profile = freshest(cached, own);
    if (own !== undefined && profile !== own) this.written.delete(key);
    return profile;
  }

  /**
   * Server-side applies the whole status (forced: only Tollgate writes it) and returns the stored profile.
   *
   * With `ifUnchanged`, only if the profile is still at the resourceVersion `profile` was read at: a
   * pass planned from a stale copy (a new leader whose cache lags what the last one recorded) would
   * otherwise overwrite the recorded outbox, losing a notification or sending one again. Then the
   * current copy is fetched for the next pass to plan from, and StaleProfile is thrown.
   */
  async record(profile: PerformanceProfile, status: ProfileStatus, opts: { ifUnchanged?: boolean } = {}): Promise<PerformanceProfile> {
    const { namespace = "default", name = "", resourceVersion } = profile.metadata ?? {};
    const key = `${namespace}/${name}`;
    const precondition = opts.ifUnchanged && resourceVersion !== undefined ? { resourceVersion } : {};
    let stored: PerformanceProfile;
    try {
      stored = await this.client.apply(Resources.PerformanceProfile, { metadata: { name, namespace, ...precondition }, status } as PerformanceProfile, {
        subresource: "status",
        force: true,
      });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409 && precondition.resourceVersion !== undefined)) throw err;
      const current = await this.client.find<PerformanceProfile>(Resources.PerformanceProfile, namespace, name);
      if (current) this.written.set(key, this.keep(current));
      throw new StaleProfile(key, resourceVersion ?? "", current?.metadata?.resourceVersion);
    }
    const kept = this.keep(stored);
    this.written.set(key, kept);
    return kept;
  }

  forget(key: string): void {
    this.written.delete(key);
  }
}
