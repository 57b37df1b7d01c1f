// A loopback HTTP server that plays the Kubernetes API for the plugin's shells, and a kubeconfig that
// points at it. Test support only.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Recorded {
  method: string;
  path: string;
  contentType: string | undefined;
  query: URLSearchParams;
  body: unknown;
}

export interface FakeApi {
  /** A kubeconfig for the server, current context namespace `shop`. */
  kubeconfig: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export type Handler = (req: Recorded) => { status: number; body: unknown };

export async function fakeApi(handler: Handler): Promise<FakeApi> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString("utf8")));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const recorded: Recorded = {
        method: req.method ?? "GET",
        path: url.pathname,
        contentType: req.headers["content-type"],
        query: url.searchParams,
        body: text === "" ? undefined : (JSON.parse(text) as unknown),
      };
      requests.push(recorded);
      const out = handler(recorded);
      res.writeHead(out.status, { "Content-Type": "application/json" }).end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), "plugin-kubeconfig-"));
  const kubeconfig = join(dir, "config");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: alice, user: {token: fake-token}}]
contexts: [{name: fake, context: {cluster: fake, user: alice, namespace: shop}}]
current-context: fake
`,
  );
  return {
    kubeconfig,
    requests,
    close: () =>
      new Promise<void>((r) => {
        rmSync(dir, { recursive: true, force: true });
        server.close(() => r());
      }),
  };
}

export const notFound = (name: string) => ({
  status: 404,
  body: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", message: `performanceprofiles.tollgate.dev "${name}" not found`, code: 404 },
});

export const PROFILES_PATH = "/apis/tollgate.dev/v1alpha1/namespaces/shop/performanceprofiles";
