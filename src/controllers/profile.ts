import type { Logger } from "pino";
import type { PerformanceProfile } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import { splitKey } from "../kube/types.ts";
import type { EventRecorder } from "../runtime/events.ts";
import type { Informer } from "../runtime/informer.ts";
import type { Result } from "../runtime/controller.ts";
import { findCondition } from "../runtime/conditions.ts";
import type { ProfileSpec } from "../api/profile.ts";
import { validateSpec } from "../api/validate.ts";
import type { SyntaxChecker } from "../prometheus/syntax-check.ts";
import { userQueries } from "../slo/user-queries.ts";
import { readinessStatus, statusNeedsWrite, type SpecProblem } from "./profile-status.ts";

export interface ProfileReconcilerDeps {
  client: KubeClient;
  profiles: Informer<PerformanceProfile>;
  events: EventRecorder;
  /** Parses users' PromQL with Prometheus's parser; absent when no Prometheus is configured. */
  syntax?: SyntaxChecker;
  defaultPrometheusUrl?: string;
  logger: Logger;
  now?: () => Date;
}

/** Reads the cached profile, decides its status, and writes it only when it changed. */
export function profileReconciler(deps: ProfileReconcilerDeps): (key: string) => Promise<Result> {
  const now = deps.now ?? (() => new Date());
  return async (key) => {
    const profile = deps.profiles.get(key);
    if (!profile || profile.metadata?.deletionTimestamp) return {};
    const valid = validateSpec(profile.spec);
    const problem = valid.ok ? await firstQueryProblem(deps, valid.spec) : undefined;
    const next = readinessStatus(profile, valid, now(), problem);
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

async function firstQueryProblem(deps: ProfileReconcilerDeps, spec: ProfileSpec): Promise<SpecProblem | undefined> {
  const url = spec.prometheus?.address ?? deps.defaultPrometheusUrl;
  if (!deps.syntax || !url) return undefined;
  for (const q of userQueries(spec)) {
    const verdict = await deps.syntax.check(url, q.expr);
    if (verdict.ok === false) return { field: q.field, message: `PromQL does not parse: ${verdict.message}` };
  }
  return undefined;
}
