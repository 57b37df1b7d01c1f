import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Notification as Receiver } from "../api/notifications.ts";
import { silentLogger } from "../log.ts";
import type { Notification } from "./messages.ts";
import { Notifier, type DeliveryResult, type NotifierOptions } from "./notifier.ts";

// A local HTTP receiver stands in for Slack, PagerDuty and a webhook: it records exactly what arrives.
interface Received {
  path: string;
  idempotencyKey: string | undefined;
  body: Record<string, unknown>;
}
let server: Server | undefined;
afterEach(
  () =>
    new Promise<void>((r) => {
      if (!server) return r();
      // Tests leave requests unanswered on purpose; close would wait for them.
      server.closeAllConnections();
      server.close(() => r());
      server = undefined;
    }),
);

/** Listens on loopback; `answer` decides how (and whether) each recorded request is answered. */
async function listen(answer: (res: ServerResponse, received: Received[]) => void): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const s = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const key = req.headers["idempotency-key"];
      received.push({ path: req.url ?? "", idempotencyKey: Array.isArray(key) ? key.join(",") : key, body: JSON.parse(body) as Record<string, unknown> });
      answer(res, received);
    });
  });
  server = s;
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, received };
}

/** Answers with `statuses` in order, then 200. */
const receiver = (statuses: number[] = []) => listen((res) => res.writeHead(statuses.shift() ?? 200).end("ok"));

const note = (event: Notification["event"], id = `0123456789abcdef-${event}`): Notification => ({
  id,
  namespace: "shop",
  profile: "game-service",
  event,
  summary: "availability consumed 104.2 % of its 30d budget (freeze at 100 %)",
  severity: "critical",
  dedupKey: "shop/game-service/freeze/1",
  details: { consumedPercent: 104.2 },
  at: new Date("2026-01-01T00:00:00Z"),
});

function notifier(secrets: Record<string, string>, extra: Partial<NotifierOptions> & { results?: DeliveryResult[] } = {}): Notifier {
  const { results, ...opts } = extra;
  return new Notifier({
    readSecret: async (_ns, name, key) => secrets[`${name}/${key}`],
    logger: silentLogger(),
    retryDelayMs: 5,
    onResult: (r) => results?.push(r),
    ...opts,
  });
}

const hook = (url: string, events: Receiver["events"] = ["Warning"]): Receiver => ({ name: "hook", type: "webhook", events, url });

describe("Notifier.deliver", () => {
  it("posts to Slack, PagerDuty and a webhook, each only for the events it subscribed to, keyed by the notification id", async () => {
    const { url, received } = await receiver();
    const receivers: Receiver[] = [
      { name: "slack", type: "slack", events: ["Warning", "Frozen"], secretRef: { name: "alerting", key: "slack" } },
      { name: "pager", type: "pagerduty", events: ["Frozen", "Unfrozen"], secretRef: { name: "alerting", key: "pd" } },
      { name: "hook", type: "webhook", events: ["Frozen"], url: `${url}/hook` },
    ];
    const reported: DeliveryResult[] = [];
    const n = notifier({ "alerting/slack": `${url}/slack`, "alerting/pd": "routing-key-1" }, { pagerDutyUrl: `${url}/pd`, results: reported });

    const frozen = await n.deliver(receivers, note("Frozen", "aaaaaaaaaaaaaaaa"));
    const unfrozen = await n.deliver(receivers, note("Unfrozen", "bbbbbbbbbbbbbbbb"));

    const ok = { ok: true, permanent: false, attempts: 1 };
    expect(frozen).toEqual([
      { receiver: "slack", type: "slack", event: "Frozen", ...ok },
      { receiver: "pager", type: "pagerduty", event: "Frozen", ...ok },
      { receiver: "hook", type: "webhook", event: "Frozen", ...ok },
    ]);
    expect(unfrozen).toEqual([{ receiver: "pager", type: "pagerduty", event: "Unfrozen", ...ok }]);
    // onResult reports each receiver as it finishes, so in no fixed order.
    expect(reported).toHaveLength(4);
    expect(reported).toEqual(expect.arrayContaining([...frozen, ...unfrozen]));

    const byPath = (p: string) => received.filter((r) => r.path === p);
    expect(byPath("/slack").map((r) => r.idempotencyKey)).toEqual(["aaaaaaaaaaaaaaaa"]);
    expect(byPath("/slack")[0]?.body).toMatchObject({ text: expect.stringContaining("*Frozen* shop/game-service") });
    expect(byPath("/pd").map((r) => r.idempotencyKey)).toEqual(["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]);
    expect(byPath("/pd").map((r) => r.body)).toEqual([
      expect.objectContaining({
        routing_key: "routing-key-1",
        event_action: "trigger",
        dedup_key: "shop/game-service/freeze/1",
        payload: expect.objectContaining({ severity: "critical", source: "shop/game-service", class: "Frozen" }),
      }),
      { routing_key: "routing-key-1", event_action: "resolve", dedup_key: "shop/game-service/freeze/1" },
    ]);
    expect(byPath("/hook").map((r) => r.idempotencyKey)).toEqual(["aaaaaaaaaaaaaaaa"]);
    expect(byPath("/hook").map((r) => r.body)).toEqual([
      expect.objectContaining({ kind: "TollgateNotification", id: "aaaaaaaaaaaaaaaa", event: "Frozen", profile: "game-service" }),
    ]);
  });

  it("skips the receivers in skip: those that accepted it in an earlier pass", async () => {
    const { url, received } = await receiver();
    const receivers: Receiver[] = [
      { name: "first", type: "webhook", events: ["Frozen"], url: `${url}/first` },
      { name: "second", type: "webhook", events: ["Frozen"], url: `${url}/second` },
    ];
    const results = await notifier({}).deliver(receivers, note("Frozen"), { skip: ["first"] });
    expect(results).toEqual([expect.objectContaining({ receiver: "second", ok: true })]);
    expect(received.map((r) => r.path)).toEqual(["/second"]);
  });

  it("sends nothing when no receiver listens to the event", async () => {
    const { url, received } = await receiver();
    expect(await notifier({}).deliver([hook(url, ["Frozen"])], note("Warning"))).toEqual([]);
    expect(received).toEqual([]);
  });

  it("retries a server error once, with the same idempotency key", async () => {
    const { url, received } = await receiver([500, 200]);
    expect(await notifier({}).deliver([hook(url)], note("Warning", "cccccccccccccccc"))).toEqual([
      expect.objectContaining({ ok: true, permanent: false, attempts: 2 }),
    ]);
    expect(received.map((r) => r.idempotencyKey)).toEqual(["cccccccccccccccc", "cccccccccccccccc"]);
  });

  it("retries a 429 too", async () => {
    const { url, received } = await receiver([429, 200]);
    expect(await notifier({}).deliver([hook(url)], note("Warning"))).toEqual([expect.objectContaining({ ok: true, attempts: 2 })]);
    expect(received).toHaveLength(2);
  });

  it("leaves a second server error to the next pass: failed, not permanent", async () => {
    const { url, received } = await receiver([500, 500, 200]);
    expect(await notifier({}).deliver([hook(url)], note("Warning"))).toEqual([
      { receiver: "hook", type: "webhook", event: "Warning", ok: false, permanent: false, attempts: 2, error: "HTTP 500" },
    ]);
    expect(received).toHaveLength(2);
  });

  it("gives up at once on a 4xx: permanent", async () => {
    const { url, received } = await receiver([404]);
    expect(await notifier({}).deliver([hook(url)], note("Warning"))).toEqual([
      { receiver: "hook", type: "webhook", event: "Warning", ok: false, permanent: true, attempts: 1, error: "HTTP 404" },
    ]);
    expect(received).toHaveLength(1);
  });

  it("reports a missing secret key as failed but not permanent, without sending", async () => {
    const results: DeliveryResult[] = [];
    const slack: Receiver = { name: "slack", type: "slack", events: ["Warning"], secretRef: { name: "missing", key: "url" } };
    expect(await notifier({}, { results }).deliver([slack], note("Warning"))).toEqual([
      { receiver: "slack", type: "slack", event: "Warning", ok: false, permanent: false, attempts: 0, error: "secret shop/missing has no key url" },
    ]);
    expect(results).toHaveLength(1);
  });

  it("refuses a malformed URL from a secret as permanent, without quoting it", async () => {
    const slack: Receiver = { name: "slack", type: "slack", events: ["Warning"], secretRef: { name: "alerting", key: "slack" } };
    const [result] = await notifier({ "alerting/slack": "hooks.slack.example/T0/B0/s3cret" }).deliver([slack], note("Warning"));
    expect(result).toMatchObject({ ok: false, permanent: true, attempts: 0 });
    expect(result?.error).not.toContain("s3cret");
  });

  it("times a silent receiver out, retries once, and fails not permanent", async () => {
    const { url, received } = await listen(() => {
      /* never answers */
    });
    const t = performance.now();
    const [result] = await notifier({}, { timeoutMs: 100 }).deliver([hook(url)], note("Warning"));
    expect(result).toMatchObject({ ok: false, permanent: false, attempts: 2, error: "no answer within 100 ms" });
    expect(received).toHaveLength(2);
    expect(performance.now() - t).toBeLessThan(2_000);
  });

  it("delivers to its receivers concurrently", async () => {
    // Each request is held until both have arrived: one after the other, the first would time out.
    const held: ServerResponse[] = [];
    const { url } = await listen((res) => {
      held.push(res);
      if (held.length === 2) for (const r of held) r.writeHead(200).end();
    });
    const receivers: Receiver[] = [
      { name: "a", type: "webhook", events: ["Warning"], url: `${url}/a` },
      { name: "b", type: "webhook", events: ["Warning"], url: `${url}/b` },
    ];
    const results = await notifier({}, { timeoutMs: 1_000 }).deliver(receivers, note("Warning"));
    expect(results).toEqual([expect.objectContaining({ receiver: "a", ok: true, attempts: 1 }), expect.objectContaining({ receiver: "b", ok: true, attempts: 1 })]);
  });

  it("returns promptly, cancelled and not permanent, when the signal aborts a request in flight", async () => {
    const { url, received } = await listen(() => {
      /* never answers */
    });
    const controller = new AbortController();
    const pass = notifier({}).deliver([hook(url)], note("Warning"), { signal: controller.signal });
    await until(() => received.length === 1);
    const t = performance.now();
    controller.abort();
    expect(await pass).toEqual([
      { receiver: "hook", type: "webhook", event: "Warning", ok: false, permanent: false, attempts: 1, error: "delivery cancelled" },
    ]);
    expect(performance.now() - t).toBeLessThan(500);
  });

  it("does not wait out the retry delay once the signal aborts", async () => {
    const { url, received } = await receiver([503]);
    const controller = new AbortController();
    const pass = notifier({}, { retryDelayMs: 60_000 }).deliver([hook(url)], note("Warning"), { signal: controller.signal });
    await until(() => received.length === 1);
    controller.abort();
    expect(await pass).toEqual([expect.objectContaining({ ok: false, permanent: false, attempts: 1, error: "delivery cancelled" })]);
    expect(received).toHaveLength(1);
  });

  it("sends nothing when the signal has already aborted", async () => {
    const { url, received } = await receiver();
    const results = await notifier({}).deliver([hook(url)], note("Warning"), { signal: AbortSignal.abort() });
    expect(results).toEqual([expect.objectContaining({ ok: false, permanent: false, attempts: 0, error: "delivery cancelled" })]);
    expect(received).toEqual([]);
  });

  it("still returns the result when the onResult hook throws", async () => {
    const { url } = await receiver();
    const n = notifier({}, {
      onResult: () => {
        throw new Error("metrics broke");
      },
    });
    expect(await n.deliver([hook(url)], note("Warning"))).toEqual([expect.objectContaining({ ok: true })]);
  });
});

describe("Notifier.drain", () => {
  it("waits for every delivery pass under way", async () => {
    const { url, received } = await listen((res) => setTimeout(() => res.writeHead(200).end(), 100));
    const n = notifier({});
    const settled: string[] = [];
    void n.deliver([hook(url)], note("Warning", "1111111111111111")).then(() => settled.push("first"));
    void n.deliver([hook(url)], note("Warning", "2222222222222222")).then(() => settled.push("second"));
    await until(() => received.length === 2);
    expect(settled).toEqual([]);
    await n.drain();
    expect(settled.sort()).toEqual(["first", "second"]);
  });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

describe("Notifier and the operator's allowed URLs", () => {
  const hook = (url: string): Receiver => ({ name: "hook", type: "webhook", events: ["Frozen"], url });

  it("sends nothing to a URL the operator does not allow, and gives it up for good", async () => {
    const r = await receiver();
    const [result] = await notifier({}, { allowed: () => false }).deliver([hook(`${r.url}/hook`)], note("Frozen"));
    expect(result).toMatchObject({ ok: false, permanent: true, attempts: 0 });
    expect(r.received).toEqual([]);
  });

  it("does not follow a redirect away from an allowed receiver", async () => {
    const r = await listen((res, received) => (received.at(-1)?.path === "/hook" ? res.writeHead(307, { Location: "/elsewhere" }).end() : res.writeHead(200).end("ok")));
    const [result] = await notifier({}).deliver([hook(`${r.url}/hook`)], note("Frozen"));
    expect(result).toMatchObject({ ok: false, permanent: true });
    expect(r.received.map((x) => x.path)).toEqual(["/hook"]);
  });
});
