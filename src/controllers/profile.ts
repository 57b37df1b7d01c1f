import type { Logger } from "pino";
import type { PerformanceProfile } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import { splitKey } from "../kube/types.ts";
import type { Informer } from "../runtime/informer.ts";
import type { Result } from "../runtime/controller.ts";
import { readinessStatus, statusNeedsWrite } from "./profile-status.ts";

export interface ProfileReconcilerDeps {
  client: KubeClient;
  profiles: Informer<PerformanceProfile>;
  logger: Logger;
  now?: () => Date;
}

/** Reads the cached profile, decides its status, and writes it only when it changed. */
export function profileReconciler(deps: ProfileReconcilerDeps): (key: string) => Promise<Result> {
  const now = deps.now ?? (() => new Date());
  return async (key) => {
    const profile = deps.profiles.get(key);
    if (!profile || profile.metadata?.deletionTimestamp) return {};
    const next = readinessStatus(profile, now());
    if (!statusNeedsWrite(profile, next)) return {};
    const { namespace, name } = splitKey(key);
    await deps.client.apply(
      Resources.PerformanceProfile,
      { metadata: { name, namespace }, status: next } as PerformanceProfile,
      { subresource: "status", force: true },
    );
    deps.logger.info(
      { profile: name, namespace, controller: "profile", ready: next.conditions.find((c) => c.type === "Ready")?.status },
      "status written",
    );
    return {};
  };
}
