import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthChecks {
  /** Liveness: false only when the process should be restarted. */
  live(): boolean;
  /** Readiness, with the reason when not ready. */
  ready(): { ok: boolean; reason: string };
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Parses "host:port", ":port" or "port"; an empty host binds every interface. */
export function parseListenAddress(addr: string): { host: string | undefined; port: number } {
  const i = addr.lastIndexOf(":");
  const host = i > 0 ? addr.slice(0, i).replace(/^\[|\]$/g, "") : undefined;
  const port = Number(i >= 0 ? addr.slice(i + 1) : addr);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid listen address ${JSON.stringify(addr)}`);
  return { host, port };
}

/** /healthz, /readyz and /metrics on one port, as kubelet probes and Prometheus expect them. */
export async function startHealthServer(addr: string, registry: Registry, checks: HealthChecks): Promise<HealthServer> {
  const { host, port } = parseListenAddress(addr);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz" || path === "/livez") {
      const ok = checks.live();
      res.writeHead(ok ? 200 : 500, { "Content-Type": "text/plain" }).end(ok ? "ok\n" : "unhealthy\n");
      return;
    }
    if (path === "/readyz") {
      const r = checks.ready();
      res.writeHead(r.ok ? 200 : 503, { "Content-Type": "text/plain" }).end(`${r.ok ? "ok" : "not ready"}: ${r.reason}\n`);
      return;
    }
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => res.writeHead(200, { "Content-Type": registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
