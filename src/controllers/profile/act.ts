import type { Notification as Receiver } from "../../api/notifications.ts";
import type { OutboxEntry, ProfileStatus } from "../../api/status.ts";
import type { NotificationEvent } from "../../api/notifications.ts";
import type { ActContext, Actuators } from "../../kube/actuators/actuator.ts";
import { describeAction, type Action } from "../../kube/actuators/actions.ts";
import type { SloMetrics } from "../../metrics/slo-metrics.ts";
import { notificationFor } from "../../notify/messages.ts";
import type { DeliveryResult, Notifier } from "../../notify/notifier.ts";
import type { EventRecorder } from "../../runtime/events.ts";
import { entryDetails } from "./outbox.ts";

export interface ActDeps {
  actuators: Actuators;
  events: Pick<EventRecorder, "record">;
  notifier: Pick<Notifier, "deliver">;
  metrics: Pick<SloMetrics, "actions">;
}

/** A notification is tried over this many passes before it is given up, with the error kept in status. */
export const MAX_DELIVERY_ATTEMPTS = 6;

export interface ActResult {
  /** The outbox left: entries not yet done, with their attempts and delivered receivers. */
  outbox: OutboxEntry[];
  /** status.notifications with the outcome of every notification finished in this pass. */
  notifications: ProfileStatus["notifications"];
  /** The action that failed, which stopped the pass before the outbox; undefined when all went through. */
  failed?: { action: string; error: unknown };
}

/**
 * Carries out a recorded plan: the cluster actions in order, then the outbox (Events, then
 * notifications), then the finalizer's removal. The first failed action stops the pass, so nothing
 * after it runs on a cluster that differs from what was planned; what is undone stays in the outbox
 * for the retry. Each entry is done at most once per pass, and done entries leave the outbox.
 */
export async function act(
  deps: ActDeps,
  ctx: ActContext,
  actions: readonly Action[],
  status: ProfileStatus,
  receivers: readonly Receiver[],
  now: Date,
): Promise<ActResult> {
  const outbox = [...(status.outbox ?? [])];
  const last = actions.at(-1);
  const removesFinalizer = last?.kind === "finalizer" && last.op === "remove";
  const cluster = removesFinalizer ? actions.slice(0, -1) : actions;
  const failed = await runActions(deps, ctx, cluster);
  if (failed) return { outbox, notifications: status.notifications, failed };

  const left: OutboxEntry[] = [];
  let notifications = status.notifications;
  for (const entry of outbox) {
    ctx.signal.throwIfAborted();
    if (entry.kind === "Event") {
      await deps.events.record(ctx.profile, entry.type ?? "Normal", entry.reason, entry.message, { id: entry.id });
      continue;
    }
    const outcome = await deliver(deps, ctx, entry, receivers);
    if (outcome.pending) left.push(outcome.pending);
    if (outcome.finished) notifications = recordOutcome(notifications, outcome.finished, now);
  }
  if (removesFinalizer && left.length === 0) {
    const again = await runActions(deps, ctx, [last]);
    if (again) return { outbox: left, notifications, failed: again };
  }
  return { outbox: left, notifications };
}

async function runActions(deps: ActDeps, ctx: ActContext, actions: readonly Action[]): Promise<ActResult["failed"]> {
  const name = ctx.profile.metadata?.name ?? "";
  for (const action of actions) {
    ctx.signal.throwIfAborted();
    try {
      // The union is narrowed per kind by the Actuators map; TypeScript cannot follow the index.
      const changed = await (deps.actuators[action.kind] as { act(a: Action, c: ActContext): Promise<boolean> }).act(action, ctx);
      if (changed) {
        deps.metrics.actions.inc({ namespace: ctx.namespace, profile: name, action: action.kind === "deployment" ? action.op : action.kind });
        ctx.log.info({ action: describeAction(action) }, "action taken");
      }
    } catch (error) {
      ctx.log.warn({ action: describeAction(action), err: error instanceof Error ? error.message : String(error) }, "action failed; the pass is retried");
      return { action: describeAction(action), error };
    }
  }
  return undefined;
}

interface Delivered {
  pending?: OutboxEntry;
  finished?: { event: NotificationEvent; receivers: string[]; error?: string };
}

/**
 * One delivery pass of one notification: receivers that accepted it before are skipped, so none hears
 * it twice. It is finished when every receiver accepted or refused for good, or after
 * MAX_DELIVERY_ATTEMPTS passes.
 */
async function deliver(deps: ActDeps, ctx: ActContext, entry: OutboxEntry, receivers: readonly Receiver[]): Promise<Delivered> {
  const event = entry.reason as NotificationEvent;
  const listening = receivers.filter((r) => r.events.includes(event));
  if (listening.length === 0) return {};
  const done = new Set(entry.delivered ?? []);
  const notification = notificationFor(
    { namespace: ctx.namespace, name: ctx.profile.metadata?.name ?? "" },
    { event, summary: entry.message, severity: entry.severity ?? "warning", dedupKey: entry.dedupKey ?? entry.id, details: entryDetails(entry) },
    new Date(entry.at),
    entry.id,
  );
  const results: DeliveryResult[] = await deps.notifier.deliver(listening, notification, { skip: [...done], signal: ctx.signal });
  for (const r of results) if (r.ok) done.add(r.receiver);
  const failed = results.filter((r) => !r.ok);
  const attempts = (entry.attempts ?? 0) + 1;
  const error = failed.map((r) => `${r.receiver}: ${r.error ?? "failed"}`).join("; ");
  const retry = failed.some((r) => !r.permanent) && attempts < MAX_DELIVERY_ATTEMPTS;
  if (retry) return { pending: { ...entry, attempts, delivered: [...done], lastError: error.slice(0, 4096) } };
  return { finished: { event, receivers: [...done], ...(error ? { error: error.slice(0, 4096) } : {}) } };
}

function recordOutcome(list: ProfileStatus["notifications"], f: NonNullable<Delivered["finished"]>, now: Date): NonNullable<ProfileStatus["notifications"]> {
  const entry = { event: f.event, sentAt: now.toISOString(), ...(f.receivers.length ? { receivers: f.receivers } : {}), ...(f.error ? { error: f.error } : {}) };
  return [...(list ?? []).filter((n) => n.event !== f.event), entry];
}
