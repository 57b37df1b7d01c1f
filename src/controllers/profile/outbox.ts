import { createHash } from "node:crypto";
import { MAX_OUTBOX, type OutboxEntry, type ProfileStatus } from "../../api/status.ts";
import type { NotificationEvent } from "../../api/notifications.ts";

/** An edge-triggered signal of the policy, the canary or the autoscaler, before it has an id. */
export type Signal =
  | { action: "event"; type: "Normal" | "Warning"; reason: string; message: string }
  | {
      action: "notify";
      event: NotificationEvent;
      severity: "critical" | "error" | "warning" | "info";
      summary: string;
      dedupKey: string;
      details: Record<string, string | number>;
    };

/**
 * The outbox entries of one pass's signals. An id is a digest of the profile, the time and the
 * signal's place and text, so it is the same whenever the same pass is planned again, and different
 * for any two signals ever recorded on one profile.
 */
export function outboxEntries(uid: string, at: Date, signals: readonly Signal[]): OutboxEntry[] {
  const when = at.toISOString();
  return signals.map((s, i): OutboxEntry => {
    const text = s.action === "event" ? `${s.type}/${s.reason}/${s.message}` : `${s.event}/${s.summary}`;
    const id = createHash("sha256").update(`${uid}\u0000${when}\u0000${i}\u0000${text}`).digest("hex").slice(0, 20);
    if (s.action === "event") return { id, kind: "Event", type: s.type, reason: s.reason, message: s.message, at: when };
    return { id, kind: "Notification", reason: s.event, message: s.summary, severity: s.severity, dedupKey: s.dedupKey, details: JSON.stringify(s.details), at: when };
  });
}

/**
 * The outbox after a pass adds `added`: what earlier passes left undone comes first and stays. The
 * outbox is bounded; when a long outage of every receiver fills it, the oldest Events give way first,
 * then the oldest notifications, so the newest transitions are the ones told.
 */
export function appendOutbox(status: ProfileStatus, added: readonly OutboxEntry[]): OutboxEntry[] {
  const all = [...(status.outbox ?? []), ...added.filter((a) => !status.outbox?.some((o) => o.id === a.id))];
  while (all.length > MAX_OUTBOX) {
    const event = all.findIndex((e) => e.kind === "Event");
    all.splice(event >= 0 ? event : 0, 1);
  }
  return all;
}

/** A notification entry's details, as recorded by outboxEntries; anything else reads as none. */
export function entryDetails(entry: OutboxEntry): Record<string, string | number> {
  try {
    const parsed: unknown = JSON.parse(entry.details ?? "{}");
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string | number] => typeof e[1] === "string" || typeof e[1] === "number"));
  } catch {
    return {};
  }
}

/** The status with its outbox replaced: an empty outbox leaves the field out. */
export function withOutbox(status: ProfileStatus, outbox: readonly OutboxEntry[]): ProfileStatus {
  const { outbox: _, ...rest } = status;
  return outbox.length ? { ...rest, outbox: [...outbox] } : rest;
}
