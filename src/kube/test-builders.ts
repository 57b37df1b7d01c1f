// Test support: a stand-in API server on loopback and the access that reaches it.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ClusterAccess } from "./cluster-access.ts";

export type Handle = (req: IncomingMessage, res: ServerResponse) => void;

const answerEmpty: Handle = (_req, res) => void res.writeHead(200, { "Content-Type": "application/json" }).end("{}");

/**
 * Listens on 127.0.0.1 with `handle` answering each request (an empty JSON object by default), keeping
 * every request line in `seen`; `close` ends it and its connections.
 */
export async function loopbackApi(handle: Handle = answerEmpty): Promise<{ access: ClusterAccess; seen: string[]; close: () => void }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    access: loopbackAccess(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    seen,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Plain-HTTP access with no credentials, to a stand-in API server at `server`. */
export function loopbackAccess(server: string): ClusterAccess {
  return new ClusterAccess({ source: "test", cluster: { server, insecureSkipTlsVerify: true }, credentials: { kind: "none" } });
}
