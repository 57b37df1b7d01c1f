import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Notification as Receiver } from "../api/notifications.ts";
import { silentLogger } from "../log.ts";
import { notificationFor, type Notification } from "./messages.ts";
import { Notifier, type DeliveryResult } from "./notifier.ts";

// A local HTTP receiver stands in for Slack, PagerDuty and a webhook: it records exactly what arrives.
interface Received {
  path: string;
  body: Record<string, unknown>;
}
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function receiver(statuses: number[] = []): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(statuses.shift() ?? 200).end("ok");
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, received };
}

const note = (event: Notification["event"]): Notification => ({
  namespace: "shop",
  profile: "game-service",
  event,
  summary: "availability consumed 104.2 % of its 30d budget (freeze at 100 %)",
  severity: "critical",
  dedupKey: "shop/game-service/freeze/1",
  details: { consumedPercent: 104.2 },
  at: new Date("2026-01-01T00:00:00Z"),
});

function notifier(secrets: Record<string, string>, extra: { pagerDutyUrl?: string; results?: DeliveryResult[] } = {}) {
  return new Notifier({
    readSecret: async (_ns, name, key) => secrets[`${name}/${key}`],
    logger: silentLogger(),
    pagerDutyUrl: extra.pagerDutyUrl,
    retries: 2,
    retryBaseMs: 5,
    onResult: (r) => extra.results?.push(r),
  });
}

describe("Notifier", () => {
  it("posts to Slack, PagerDuty and a webhook, each only for the events it subscribed to", async () => {
    const { url, received } = await receiver();
    const receivers: Receiver[] = [
      { name: "slack", type: "slack", events: ["Warning"], secretRef: { name: "alerting", key: "slack" } },
      { name: "pager", type: "pagerduty", events: ["Frozen", "Unfrozen"], secretRef: { name: "alerting", key: "pd" } },
      { name: "hook", type: "webhook", events: ["Frozen"], url: `${url}/hook` },
    ];
    const n = notifier({ "alerting/slack": `${url}/slack`, "alerting/pd": "routing-key-1" }, { pagerDutyUrl: `${url}/pd` });
    n.send(receivers, note("Frozen"));
    n.send(receivers, note("Unfrozen"));
    await n.drain();
    const byPath = (p: string) => received.filter((r) => r.path === p).map((r) => r.body);
    expect(byPath("/slack")).toHaveLength(0);
    expect(byPath("/pd")).toEqual([
      expect.objectContaining({
        routing_key: "routing-key-1",
        event_action: "trigger",
        dedup_key: "shop/game-service/freeze/1",
        payload: expect.objectContaining({ severity: "critical", source: "shop/game-service", class: "Frozen" }),
      }),
      { routing_key: "routing-key-1", event_action: "resolve", dedup_key: "shop/game-service/freeze/1" },
    ]);
    expect(byPath("/hook")).toEqual([expect.objectContaining({ kind: "TollgateNotification", event: "Frozen", profile: "game-service" })]);
  });

  it("retries server errors with backoff, and gives up at once on a 4xx", async () => {
    const { url, received } = await receiver([503, 502, 200, 404]);
    const results: DeliveryResult[] = [];
    const n = notifier({}, { results });
    n.send([{ name: "hook", type: "webhook", events: ["Warning"], url }], note("Warning"));
    await n.drain();
    expect(received).toHaveLength(3);
    expect(results).toEqual([expect.objectContaining({ ok: true, attempts: 3 })]);
    n.send([{ name: "hook", type: "webhook", events: ["Warning"], url }], note("Warning"));
    await n.drain();
    expect(results[1]).toMatchObject({ ok: false, attempts: 1, error: "HTTP 404" });
  });

  it("returns before delivery: a slow receiver never blocks the caller", async () => {
    server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const n = new Notifier({ readSecret: async () => undefined, logger: silentLogger(), retries: 0, timeoutMs: 200 });
    const t = performance.now();
    n.send([{ name: "hook", type: "webhook", events: ["Warning"], url }], note("Warning"));
    expect(performance.now() - t).toBeLessThan(50);
    await n.drain();
    server.closeAllConnections();
  });

  it("reports a missing secret instead of throwing", async () => {
    const results: DeliveryResult[] = [];
    const n = notifier({}, { results });
    n.send([{ name: "slack", type: "slack", events: ["Warning"], secretRef: { name: "missing", key: "url" } }], note("Warning"));
    await n.drain();
    expect(results).toEqual([expect.objectContaining({ ok: false, attempts: 0, error: "secret shop/missing has no key url" })]);
  });
});

describe("notificationFor", () => {
  it("addresses a notify action to its profile", () => {
    const at = new Date("2026-11-22T08:00:00Z");
    const action = { event: "CanaryFailed" as const, severity: "warning" as const, summary: "The canary failed.", dedupKey: "k", details: { step: 2 } };
    expect(notificationFor({ namespace: "games", name: "game" }, action, at)).toEqual({ namespace: "games", profile: "game", ...action, at });
    const { details: _, ...bare } = action;
    expect(notificationFor({ namespace: "games", name: "game" }, bare, at)).not.toHaveProperty("details");
  });
});
