import type { Logger } from "pino";
import type { PerformanceProfile } from "../../api/types.ts";
import type { OutboxEntry, ProfileStatus } from "../../api/status.ts";
import type { Actuators } from "../../kube/actuators/actuator.ts";
import { splitKey } from "../../kube/types.ts";
import type { SloMetrics } from "../../metrics/slo-metrics.ts";
import type { Notifier } from "../../notify/notifier.ts";
import { statusChanged } from "../../policy/status-changed.ts";
import type { Result } from "../../runtime/controller.ts";
import type { EventRecorder } from "../../runtime/events.ts";
import { act, deliveryDue, type DeliveredMemory } from "./act.ts";
import { observe, type ObserveDeps } from "./observe.ts";
import { withOutbox } from "./outbox.ts";
import { plan } from "./plan.ts";
import { StatusRecorder } from "./record.ts";
import type { Snapshot } from "./snapshot.ts";

export interface ProfileReconcilerDeps extends ObserveDeps {
  recorder: StatusRecorder;
  actuators: Actuators;
  events: Pick<EventRecorder, "record">;
  notifier: Pick<Notifier, "deliver">;
  metrics: SloMetrics;
  /** Who took which notification, until the status records it; one per operator. */
  delivered?: DeliveredMemory;
  /** Write status at least this often while numbers move, so it shows the budget is watched. */
  heartbeatMs?: number;
  now?: () => Date;
}

/**
 * A profile's pass, and `forget`: drops what the reconciler keeps of a profile (its metrics series, its
 * last written status, deliveries not yet recorded, the recorded-rule reads) when this replica stops
 * reconciling it, as when the profile is deleted: its shard went to another replica.
 */
export type ProfileReconcile = ((key: string, signal: AbortSignal) => Promise<Result>) & { forget: (key: string) => void };

/** How soon a pass whose actions failed, or whose notifications wait on a receiver, comes back. */
export const RETRY_MS = 5_000;

/**
 * One profile, one pass: observe (one snapshot) → plan (pure) → record (the status, with the outbox
 * of events and notifications, before any side effect) → act (idempotent actuators, then the outbox).
 * A crash anywhere resumes from what was recorded: the next pass plans the same level-triggered
 * actions and carries out what the outbox still holds. The pass is abandoned as soon as `signal`
 * aborts, when this replica's leadership ends.
 */
export function profileReconciler(deps: ProfileReconcilerDeps): ProfileReconcile {
  const now = deps.now ?? (() => new Date());
  const heartbeatMs = deps.heartbeatMs ?? 5 * 60_000;
  // Profiles already warned that they cannot have recording rules, so the warning is not per cycle.
  const warned = new Set<string>();
  const reconcile = async (key: string, signal: AbortSignal): Promise<Result> => {
    const profile = deps.recorder.freshest(key, deps.profiles.get(key));
    if (!profile) {
      forget(deps, key, warned);
      return {};
    }
    const snapshot = await observe(deps, profile, now(), warned);
    signal.throwIfAborted();
    const next = plan(snapshot, now());
    const log = deps.logger.child({ profile: snapshot.name, namespace: snapshot.namespace, controller: "profile" });

    let stored = profile;
    const receivers = snapshot.spec?.policy.notifications ?? [];
    const sendAt = now();
    // A notification goes out only in a pass that has just written the status, even an unchanged one:
    // while the API server cannot take that write (it is down, or this replica no longer leads), a
    // delivery could not be recorded, and whoever leads next would send it again.
    if (statusChanged(profile.status, next.status, { heartbeatMs }) || deliveryDue(next.status.outbox, receivers, sendAt)) {
      // Only over the copy this pass planned from: nothing was done yet, so a stale one costs a retry.
      stored = await deps.recorder.record(profile, next.status, { ifUnchanged: true });
      log.debug({ phase: next.status.phase, consumed: next.status.budget?.consumedPercent, outbox: next.status.outbox?.length ?? 0 }, "status written");
    }
    if (snapshot.canaryMeasurement) {
      const c = next.status.canary;
      log.info({ canary: c?.phase, weight: c?.weight, step: c?.step, verdict: c?.lastVerdict?.verdict }, "canary checked");
    }
    if (snapshot.measurements) deps.metrics.observe(snapshot.namespace, snapshot.name, snapshot.measurements, next.status.phase ?? "Unknown");

    const done = await act(deps, context(snapshot, stored, signal, log), next.actions, next.status, receivers, sendAt);
    const after: ProfileStatus = { ...withOutbox(next.status, done.outbox), ...(done.notifications ? { notifications: done.notifications } : {}) };
    const last = next.actions.at(-1);
    // The finalizer is off: the API server deletes the profile, and there is no status left to write.
    const gone = last?.kind === "finalizer" && last.op === "remove" && !done.failed && done.outbox.length === 0;
    // Only once the pass's actions went through: a pass that failed before routing leaves the weight the
    // VirtualService still carries.
    if (!gone && !done.failed) deps.metrics.canary(snapshot.namespace, snapshot.name, next.status.canary?.weight);
    if (!gone && statusChanged(next.status, after, { heartbeatMs })) await deps.recorder.record(stored, after);
    if (gone) forget(deps, key, warned);
    if (done.failed) throw done.failed.error;
    const requeueAfterMs = Math.min(next.requeueAfterMs ?? Infinity, nextDelivery(done.outbox, now()));
    return Number.isFinite(requeueAfterMs) ? { requeueAfterMs } : {};
  };
  return Object.assign(reconcile, { forget: (key: string) => forget(deps, key, warned) });
}

/** How soon a notification the outbox still holds may be tried again: at its notBefore, at least 1 s on. */
function nextDelivery(outbox: readonly OutboxEntry[], now: Date): number {
  const due = outbox.map((e) => (e.notBefore === undefined ? RETRY_MS : Date.parse(e.notBefore) - now.getTime()));
  return due.length ? Math.max(1_000, Math.min(...due)) : Infinity;
}

function forget(deps: ProfileReconcilerDeps, key: string, warned: Set<string>): void {
  const { namespace = "default", name } = splitKey(key);
  deps.metrics.forget(namespace, name);
  deps.recorder.forget(key);
  deps.delivered?.forget(key);
  warned.delete(key);
  deps.recorded?.forget(namespace, name);
}

function context(s: Snapshot, profile: PerformanceProfile, signal: AbortSignal, log: Logger) {
  const byName = <T extends { metadata: { name: string } }>(list: readonly T[]) => (name: string) => list.find((o) => o.metadata.name === name);
  return {
    namespace: s.namespace,
    profile,
    ...(s.spec ? { slo: { namespace: s.namespace, name: s.name, spec: s.spec } } : {}),
    ...(s.prometheusUrl !== undefined ? { prometheusUrl: s.prometheusUrl } : {}),
    deployments: s.deployments,
    replicaSets: s.replicaSets,
    current: { virtualService: byName(s.managed.virtualServices), destinationRule: byName(s.managed.destinationRules), hpa: byName(s.managed.hpas) },
    signal,
    log,
  };
}
