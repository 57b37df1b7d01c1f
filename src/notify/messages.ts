import type { NotificationEvent } from "../api/notifications.ts";

/** What the policy wants said, once, about one transition of one profile. */
export interface Notification {
  /**
   * Idempotency key of this one notification (its outbox entry's id): sent as the Idempotency-Key
   * header and in the webhook body, so a receiver can drop the copy a retry after a crash may send.
   */
  id: string;
  namespace: string;
  profile: string;
  event: NotificationEvent;
  /** One sentence with the numbers, e.g. "availability consumed 104.2 % of its 30d budget (freeze at 100 %)". */
  summary: string;
  severity: "critical" | "error" | "warning" | "info";
  /** Stable per profile and incident: PagerDuty triggers and resolves by it. */
  dedupKey: string;
  details?: Record<string, string | number | boolean>;
  at: Date;
}

/** The notification of a notify action (the policy's or the canary's) on one profile, keyed by `id`. */
export function notificationFor(
  profile: { namespace: string; name: string },
  action: Pick<Notification, "event" | "summary" | "severity" | "dedupKey" | "details">,
  at: Date,
  id: string,
): Notification {
  const { event, summary, severity, dedupKey, details } = action;
  return { id, namespace: profile.namespace, profile: profile.name, event, summary, severity, dedupKey, ...(details ? { details } : {}), at };
}

/** Unfrozen and Recovered close the incident the earlier events opened. */
export function resolves(event: NotificationEvent): boolean {
  return event === "Unfrozen" || event === "Recovered";
}

const ICONS: Record<NotificationEvent, string> = {
  Warning: ":warning:",
  Recovered: ":white_check_mark:",
  Frozen: ":ice_cube:",
  Unfrozen: ":sunny:",
  RolledBack: ":rewind:",
  RollbackSkipped: ":no_entry:",
  CanaryPromoted: ":rocket:",
  CanaryFailed: ":x:",
};

/** A Slack incoming-webhook message. */
export function slackPayload(n: Notification): Record<string, unknown> {
  const text = `${ICONS[n.event]} *${n.event}* ${n.namespace}/${n.profile}: ${n.summary}`;
  return {
    text,
    blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
  };
}

/**
 * A PagerDuty Events API v2 event: trigger, or resolve for the events that close an incident.
 * It carries no notification id: PagerDuty dedupes by dedup_key, one per profile and incident, so a
 * repeated trigger folds into the open incident and a repeated resolve is a no-op.
 */
export function pagerDutyPayload(n: Notification, routingKey: string, severity: Notification["severity"]): Record<string, unknown> {
  if (resolves(n.event)) return { routing_key: routingKey, event_action: "resolve", dedup_key: n.dedupKey };
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: n.dedupKey,
    payload: {
      summary: `${n.namespace}/${n.profile} ${n.event}: ${n.summary}`.slice(0, 1024),
      source: `${n.namespace}/${n.profile}`,
      severity,
      timestamp: n.at.toISOString(),
      component: n.profile,
      group: n.namespace,
      class: n.event,
      custom_details: n.details ?? {},
    },
  };
}

/** The generic webhook's JSON body: everything, flat and stable for scripts. */
export function webhookPayload(n: Notification): Record<string, unknown> {
  return {
    kind: "TollgateNotification",
    version: 1,
    // Also in the Idempotency-Key header; in the body for scripts that only keep the payload.
    id: n.id,
    namespace: n.namespace,
    profile: n.profile,
    event: n.event,
    severity: n.severity,
    summary: n.summary,
    dedupKey: n.dedupKey,
    at: n.at.toISOString(),
    details: n.details ?? {},
  };
}
