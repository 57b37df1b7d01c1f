import type { ProfileStatus } from "../../api/status.ts";
import type { PerformanceProfile } from "../../api/types.ts";
import type { KubeClient } from "../../kube/client.ts";
import { Resources } from "../../kube/resources.ts";
import { freshest } from "../../runtime/freshest.ts";

/**
 * Writes profile status, and remembers what each write returned until the informer has caught up, so
 * the next pass plans from the status just recorded (its outbox above all), not from a stale cache.
 */
export class StatusRecorder {
  private readonly client: Pick<KubeClient, "apply">;
  private readonly written = new Map<string, PerformanceProfile>();

  constructor(client: Pick<KubeClient, "apply">) {
    this.client = client;
  }

  /** The newer of the informer's copy and our own last write; drops the write once the cache has it. */
  freshest(key: string, cached: PerformanceProfile | undefined): PerformanceProfile | undefined {
    const own = this.written.get(key);
    const profile = freshest(cached, own);
    if (own !== undefined && profile !== own) this.written.delete(key);
    return profile;
  }

  /** Server-side applies the whole status (forced: only Tollgate writes it) and returns the stored profile. */
  async record(profile: PerformanceProfile, status: ProfileStatus): Promise<PerformanceProfile> {
    const { namespace = "default", name = "" } = profile.metadata ?? {};
    const stored = await this.client.apply(Resources.PerformanceProfile, { metadata: { name, namespace }, status } as PerformanceProfile, {
      subresource: "status",
      force: true,
    });
    this.written.set(`${namespace}/${name}`, stored);
    return stored;
  }

  forget(key: string): void {
    this.written.delete(key);
  }
}
