// The notification receiver of a soak run: takes every webhook POST and logs it (path, Idempotency-Key,
// the status it answered, the body) to receiver.jsonl; while `failing`, it answers 503 instead.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { JsonlWriter } from "./jsonl.ts";

export interface SoakReceiver {
  readonly url: string;
  failing: boolean;
  close(): Promise<void>;
}

export async function startSoakReceiver(log: JsonlWriter): Promise<SoakReceiver> {
  const state = { failing: false };
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      const status = state.failing ? 503 : 202;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = { raw: body.slice(0, 4096) };
      }
      const key = req.headers["idempotency-key"];
      log.write({ at: new Date().toISOString(), path: req.url ?? "/", ...(typeof key === "string" ? { key } : {}), status, body: parsed });
      res.writeHead(status, { "content-type": "application/json" }).end(status === 202 ? '{"status":"accepted"}' : '{"error":"receiver failing (soak fault)"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get failing() {
      return state.failing;
    },
    set failing(v: boolean) {
      state.failing = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
