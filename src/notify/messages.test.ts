import { describe, expect, it } from "vitest";
import { notificationFor, pagerDutyPayload, webhookPayload } from "./messages.ts";

const at = new Date("2026-11-22T08:00:00Z");
const action = { event: "CanaryFailed" as const, severity: "warning" as const, summary: "The canary failed.", dedupKey: "k", details: { step: 2 } };

describe("notificationFor", () => {
  it("addresses a notify action to its profile, under the given id", () => {
    expect(notificationFor({ namespace: "games", name: "game" }, action, at, "0123456789abcdef")).toEqual({
      id: "0123456789abcdef",
      namespace: "games",
      profile: "game",
      ...action,
      at,
    });
    const { details: _, ...bare } = action;
    expect(notificationFor({ namespace: "games", name: "game" }, bare, at, "0123456789abcdef")).not.toHaveProperty("details");
  });
});

describe("payloads", () => {
  const n = notificationFor({ namespace: "games", name: "game" }, action, at, "0123456789abcdef");

  it("puts the id in the webhook body", () => {
    expect(webhookPayload(n)).toEqual({
      kind: "TollgateNotification",
      version: 1,
      id: "0123456789abcdef",
      namespace: "games",
      profile: "game",
      event: "CanaryFailed",
      severity: "warning",
      summary: "The canary failed.",
      dedupKey: "k",
      at: "2026-11-22T08:00:00.000Z",
      details: { step: 2 },
    });
  });

  it("keeps PagerDuty's body to the Events API: it dedupes by dedup_key, not by the id", () => {
    expect(JSON.stringify(pagerDutyPayload(n, "rk", "warning"))).not.toContain("0123456789abcdef");
    expect(pagerDutyPayload({ ...n, event: "Recovered" }, "rk", "info")).toEqual({ routing_key: "rk", event_action: "resolve", dedup_key: "k" });
  });
});
