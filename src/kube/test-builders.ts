// Test support: a stand-in API server on loopback and a kubeconfig that points at it.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

export type Handle = (req: IncomingMessage, res: ServerResponse) => void;

const answerEmpty: Handle = (_req, res) => void res.writeHead(200, { "Content-Type": "application/json" }).end("{}");

/**
 * Listens on 127.0.0.1 with `handle` answering each request (an empty JSON object by default), keeping
 * every request line in `seen`; `close` ends it and its connections.
 */
export async function loopbackApi(handle: Handle = answerEmpty): Promise<{ kc: KubeConfig; seen: string[]; close: () => void }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "loopback", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: "nobody" }],
    contexts: [{ name: "loopback", cluster: "loopback", user: "nobody" }],
    currentContext: "loopback",
  });
  return {
    kc,
    seen,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
