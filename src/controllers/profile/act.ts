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
  /** Who took which notification, remembered until the status says so. */
  delivered?: DeliveredMemory;
}

/** A notification is tried over this many passes before it is given up, with the error kept in status. */
export const MAX_DELIVERY_ATTEMPTS = 8;
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 5 * 60_000;

/** The wait before delivery pass `attempts + 1`: 5 s, doubling, at most 5 min (about 10 min in all). */
export function retryDelayMs(attempts: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * The receivers that took each notification, per profile, kept in memory until the status that
 * records it is written: while the API server cannot take that write (it is down, say), a retried
 * pass would otherwise send the same notification again to a receiver that already has it.
 */
export class DeliveredMemory {
  private readonly byProfile = new Map<string, Map<string, Set<string>>>();

  get(profile: string, id: string): ReadonlySet<string> {
    return this.byProfile.get(profile)?.get(id) ?? new Set();
  }

  add(profile: string, id: string, receiver: string): void {
    let ids = this.byProfile.get(profile);
    if (!ids) this.byProfile.set(profile, (ids = new Map()));
    let receivers = ids.get(id);
    if (!receivers) ids.set(id, (receivers = new Set()));
    receivers.add(receiver);
  }

  /** Forgets the notifications of `profile` its recorded outbox no longer holds: the status has them. */
  retain(profile: string, ids: ReadonlySet<string>): void {
    const known = this.byProfile.get(profile);
    if (!known) return;
    for (const id of known.keys()) if (!ids.has(id)) known.delete(id);
    if (known.size === 0) this.byProfile.delete(profile);
  }

  forget(profile: string): void {
    this.byProfile.delete(profile);
  }
}

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
  deps.delivered?.retain(profileKey(ctx), new Set(outbox.map((e) => e.id)));
  for (const entry of outbox) {
    ctx.signal.throwIfAborted();
    if (entry.kind === "Event") {
      await deps.events.record(ctx.profile, entry.type ?? "Normal", entry.reason, entry.message, { id: entry.id });
      continue;
    }
    const outcome = await deliver(deps, ctx, entry, receivers, now);
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
async function deliver(deps: ActDeps, ctx: ActContext, entry: OutboxEntry, receivers: readonly Receiver[], now: Date): Promise<Delivered> {
  const event = entry.reason as NotificationEvent;
  const listening = listeners(entry, receivers);
  if (listening.length === 0) return {};
  if (!due(entry, now)) return { pending: entry };
  const key = profileKey(ctx);
  const done = new Set([...(entry.delivered ?? []), ...(deps.delivered?.get(key, entry.id) ?? [])]);
  const notification = notificationFor(
    { namespace: ctx.namespace, name: ctx.profile.metadata?.name ?? "" },
    { event, summary: entry.message, severity: entry.severity ?? "warning", dedupKey: entry.dedupKey ?? entry.id, details: entryDetails(entry) },
    new Date(entry.at),
    entry.id,
  );
  const results: DeliveryResult[] = await deps.notifier.deliver(listening, notification, { skip: [...done], signal: ctx.signal });
  for (const r of results) {
    if (!r.ok) continue;
    done.add(r.receiver);
    deps.delivered?.add(key, entry.id, r.receiver);
  }
  const failed = results.filter((r) => !r.ok);
  const attempts = (entry.attempts ?? 0) + 1;
  const error = failed.map((r) => `${r.receiver}: ${r.error ?? "failed"}`).join("; ");
  const retry = failed.some((r) => !r.permanent) && attempts < MAX_DELIVERY_ATTEMPTS;
  if (retry) {
    const notBefore = new Date(now.getTime() + retryDelayMs(attempts)).toISOString();
    return { pending: { ...entry, attempts, notBefore, delivered: [...done], lastError: error.slice(0, 4096) } };
  }
  return { finished: { event, receivers: [...done], ...(error ? { error: error.slice(0, 4096) } : {}) } };
}

function listeners(entry: OutboxEntry, receivers: readonly Receiver[]): Receiver[] {
  return receivers.filter((r) => r.events.includes(entry.reason as NotificationEvent));
}

function due(entry: OutboxEntry, now: Date): boolean {
  return entry.notBefore === undefined || Date.parse(entry.notBefore) <= now.getTime();
}

/** Whether a pass at `now` would send a notification of `outbox` to a receiver. */
export function deliveryDue(outbox: readonly OutboxEntry[] | undefined, receivers: readonly Receiver[], now: Date): boolean {
  return (outbox ?? []).some((e) => e.kind === "Notification" && due(e, now) && listeners(e, receivers).length > 0);
}

function recordOutcome(list: ProfileStatus["notifications"], f: NonNullable<Delivered["finished"]>, now: Date): NonNullable<ProfileStatus["notifications"]> {
  const entry = { event: f.event, sentAt: now.toISOString(), ...(f.receivers.length ? { receivers: f.receivers } : {}), ...(f.error ? { error: f.error } : {}) };
  return [...(list ?? []).filter((n) => n.event !== f.event), entry];
}

function profileKey(ctx: ActContext): string {
  return `${ctx.namespace}/${ctx.profile.metadata?.name ?? ""}`;
}
