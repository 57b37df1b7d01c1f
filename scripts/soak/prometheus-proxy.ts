// A loopback HTTP proxy between the operators and Prometheus, to make Prometheus slow or unreachable
// without stopping it: `pass` forwards, `slow` holds each answer back for a while first, `drop` resets
// every connection as a request arrives, `hang` takes requests and never answers them (the operators'
// query timeout ends them). Prometheus itself stopped shows through as 502.

import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type ProxyMode = { kind: "pass" } | { kind: "slow"; delayMs: number } | { kind: "drop" } | { kind: "hang" };

export interface PrometheusProxy {
  readonly url: string;
  mode: ProxyMode;
  close(): Promise<void>;
}

export async function startPrometheusProxy(upstream: string): Promise<PrometheusProxy> {
  const target = new URL(upstream);
  let mode: ProxyMode = { kind: "pass" };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end(`proxy: ${err.message}`);
      else res.destroy();
    });
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    const m = mode;
    switch (m.kind) {
      case "drop":
        req.socket.destroy();
        return;
      case "hang":
        // Read the request, answer nothing; the client's timeout or our close ends it.
        req.resume();
        return;
      case "slow": {
        const timer = setTimeout(() => {
          timers.delete(timer);
          forward(req, res);
        }, m.delayMs);
        timers.add(timer);
        return;
      }
      case "pass":
        forward(req, res);
    }
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get mode() {
      return mode;
    },
    set mode(m: ProxyMode) {
      mode = m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
