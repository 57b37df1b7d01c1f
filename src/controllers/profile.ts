import type { Logger } from "pino";
import type { PerformanceProfile } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import { splitKey } from "../kube/types.ts";
import type { EventRecorder } from "../runtime/events.ts";
import type { Informer } from "../runtime/informer.ts";
import type { Result } from "../runtime/controller.ts";
import { findCondition } from "../runtime/conditions.ts";
import { readinessStatus, statusNeedsWrite } from "./profile-status.ts";

export interface ProfileReconcilerDeps {
  client: KubeClient;
  profiles: Informer<PerformanceProfile>;
  events: EventRecorder;
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
    const before = findCondition(profile.status?.conditions, "Ready");
    const ready = findCondition(next.conditions, "Ready");
    deps.logger.info({ profile: name, namespace, controller: "profile", ready: ready?.status, reason: ready?.reason }, "status written");
    if (ready && (before?.status !== ready.status || before.reason !== ready.reason || before.message !== ready.message)) {
      await deps.events.record(profile, ready.status === "True" ? "Normal" : "Warning", ready.reason, ready.message);
    }
    return {};
  };
}
