import { z } from "zod";
import { distinct, withRules } from "./cel.ts";
import { dnsLabel } from "./names.ts";
import { secretKeyRef } from "./secret-ref.ts";
import { httpUrl } from "./url.ts";

/**
 * The transitions a receiver can subscribe to. They are the policy's and the canary's state changes,
 * named as the events Tollgate records, so a notification and `kubectl describe` tell the same story.
 */
export const NOTIFICATION_EVENTS = [
  "Warning",
  "Recovered",
  "Frozen",
  "Unfrozen",
  "RolledBack",
  "RollbackSkipped",
  "CanaryPromoted",
  "CanaryFailed",
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export const NOTIFICATION_TYPES = ["slack", "pagerduty", "webhook"] as const;

export const notificationSchema = withRules(
  z.object({
    name: dnsLabel("notifications[].name", "Name of the receiver, unique within the profile, e.g. team-slack or oncall-pager."),
    type: z
      .enum(NOTIFICATION_TYPES)
      .describe(
        "slack: a Slack incoming webhook (URL in secretRef). pagerduty: PagerDuty Events API v2 (routing key in secretRef); Unfrozen and Recovered resolve the incident. webhook: a JSON POST to url, or to the URL in secretRef when the URL carries a token.",
      ),
    // Not `on`: YAML 1.1 parsers (kubectl's among them) read an `on` key as the boolean true.
    events: z
      .array(z.enum(NOTIFICATION_EVENTS))
      .min(1, "notifications[].events must name at least one event.")
      .max(NOTIFICATION_EVENTS.length)
      .refine(...distinct("notifications[].events"))
      .meta({
        description:
          "Transitions that notify this receiver: Warning (budget consumed >= policy.warnAt), Recovered (back below warnAt), Frozen (>= freezeAt, rollouts blocked), Unfrozen (freeze lifted), RolledBack, RollbackSkipped (rollbackAt reached but no rollback possible), CanaryPromoted, CanaryFailed. The seeds page on Frozen and post Warning to Slack.",
        "x-kubernetes-list-type": "set",
      }),
    secretRef: secretKeyRef(
      "notifications[].secretRef",
      "Secret key holding the Slack webhook URL, the PagerDuty routing (integration) key, or a webhook URL that carries credentials. Required for slack and pagerduty.",
    ).optional(),
    url: httpUrl(
      "notifications[].url",
      "For type webhook: the http(s) URL to POST to, when it holds no secret. Use secretRef otherwise.",
      "https://hooks.example/tollgate",
    ).optional(),
    severity: z
      .enum(["critical", "error", "warning", "info"])
      .optional()
      .describe("For type pagerduty: the event severity. Defaults to critical for Frozen and RolledBack, warning otherwise."),
  }),
  [
    {
      rule: "self.type == 'webhook' || has(self.secretRef)",
      message: "notifications[].secretRef is required for slack and pagerduty: it holds the Slack webhook URL or the PagerDuty routing key.",
      fieldPath: ".secretRef",
      reason: "FieldValueRequired",
      check: (n) => n.type === "webhook" || n.secretRef !== undefined,
    },
    {
      rule: "self.type == 'webhook' || !has(self.url)",
      message: "notifications[].url applies only to type webhook; slack and pagerduty read their endpoint from secretRef.",
      fieldPath: ".url",
      reason: "FieldValueForbidden",
      check: (n) => n.type === "webhook" || n.url === undefined,
    },
    {
      rule: "self.type != 'webhook' || has(self.url) != has(self.secretRef)",
      message: "notifications[] of type webhook must set exactly one of url or secretRef.",
      check: (n) => n.type !== "webhook" || (n.url !== undefined) !== (n.secretRef !== undefined),
    },
    {
      rule: "self.type == 'pagerduty' || !has(self.severity)",
      message: "notifications[].severity applies only to type pagerduty.",
      fieldPath: ".severity",
      reason: "FieldValueForbidden",
      check: (n) => n.type === "pagerduty" || n.severity === undefined,
    },
  ],
  { description: "One receiver of Tollgate's notifications and the transitions it hears about." },
);

export const notificationsSchema = z
  .array(notificationSchema)
  .max(10, "notifications may list at most 10 receivers.")
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((n, i) => {
      if (seen.has(n.name)) ctx.addIssue({ code: "custom", message: `notifications names must be unique; ${n.name} appears more than once.`, path: [i, "name"] });
      seen.add(n.name);
    });
  })
  .meta({
    description:
      "Where to tell people about budget transitions: Slack, PagerDuty Events v2 or a generic webhook, at most 10, with unique names. Credentials come from Secrets by reference.",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["name"],
  });

export type Notification = z.output<typeof notificationSchema>;
