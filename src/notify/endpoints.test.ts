import { describe, expect, it } from "vitest";
import type { Notification as Receiver } from "../api/notifications.ts";
import { parseEndpointPattern } from "../tenancy/endpoints.ts";
import { DEFAULT_NOTIFICATION_URLS, receiverProblem } from "./endpoints.ts";

const secrets: Record<string, string> = {
  "team-a/alerting/slack": "https://hooks.slack.com/services/T0/B0/SECRETPART\n",
  "team-a/alerting/internal": "http://127.0.0.1:6443/api/v1/namespaces/kube-system/secrets?token=SECRETPART",
  "team-a/alerting/pd": "routing-key",
};
const readSecret = async (ns: string, name: string, key: string) => secrets[`${ns}/${name}/${key}`];
const defaults = DEFAULT_NOTIFICATION_URLS.map(parseEndpointPattern);
const check = (receivers: Receiver[], allowed = defaults) => receiverProblem("team-a", receivers, readSecret, allowed);

describe("receiverProblem", () => {
  it("admits Slack's hooks and PagerDuty keys by default", async () => {
    expect(
      await check([
        { name: "chat", type: "slack", events: ["Warning"], secretRef: { name: "alerting", key: "slack" } },
        { name: "pager", type: "pagerduty", events: ["Frozen"], secretRef: { name: "alerting", key: "pd" } },
      ]),
    ).toBeUndefined();
  });

  it("names a missing Secret key at reconcile time, by field", async () => {
    const p = await check([
      { name: "chat", type: "slack", events: ["Warning"], secretRef: { name: "alerting", key: "slack" } },
      { name: "pager", type: "pagerduty", events: ["Frozen"], secretRef: { name: "alerting", key: "missing" } },
    ]);
    expect(p).toMatchObject({ field: "spec.policy.notifications[1].secretRef", reason: "SecretNotFound" });
    expect(p?.message).toContain("team-a/alerting");
  });

  it("refuses a webhook URL the operator does not allow", async () => {
    const p = await check([{ name: "hook", type: "webhook", events: ["Frozen"], url: "http://127.0.0.1:9090/-/quit" }]);
    expect(p).toMatchObject({ field: "spec.policy.notifications[0].url", reason: "EndpointNotAllowed" });
  });

  it("refuses a URL from a Secret without quoting it: only scheme, host and port", async () => {
    const p = await check([{ name: "hook", type: "webhook", events: ["Frozen"], secretRef: { name: "alerting", key: "internal" } }]);
    expect(p).toMatchObject({ field: "spec.policy.notifications[0].secretRef", reason: "EndpointNotAllowed" });
    expect(p?.message).toContain("http://127.0.0.1:6443");
    expect(p?.message).not.toContain("SECRETPART");
  });

  it("admits a webhook under an allowed prefix", async () => {
    const allowed = [parseEndpointPattern("http://127.0.0.1:18080/hooks/")];
    expect(await check([{ name: "hook", type: "webhook", events: ["Frozen"], url: "http://127.0.0.1:18080/hooks/team-a" }], allowed)).toBeUndefined();
  });
});
