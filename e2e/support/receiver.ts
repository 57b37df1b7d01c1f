import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  body: Record<string, unknown>;
  at: number;
  /** The request's headers, names in lower case as Node gives them (e.g. "idempotency-key"). */
  headers: IncomingHttpHeaders;
}

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  on(path: string): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A local HTTP endpoint standing in for Slack, PagerDuty and webhooks: records every JSON POST. */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      try {
        received.push({ path: req.url ?? "/", body: JSON.parse(body) as Record<string, unknown>, at: Date.now(), headers: req.headers });
      } catch {
        received.push({ path: req.url ?? "/", body: { raw: body }, at: Date.now(), headers: req.headers });
      }
      res.writeHead(202, { "Content-Type": "application/json" }).end('{"status":"success"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    on: (path) => received.filter((r) => r.path === path).map((r) => r.body),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
