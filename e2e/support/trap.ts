import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/** One TCP connection a trap accepted, with the first bytes the client sent (a request line, a TLS hello). */
export interface Sprung {
  at: number;
  firstBytes: string;
}

export interface Trap {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Every connection accepted so far, in order. */
  readonly connections: readonly Sprung[];
  close(): Promise<void>;
}

/**
 * A loopback listener nobody is allowed to reach: for an endpoint a profile names that the operator must
 * refuse before it sends anything. It counts TCP connections, not HTTP requests, so a TLS handshake or a
 * request that never completes is caught too, and it answers nothing (the socket is closed at once), so
 * a client that did connect learns nothing from it.
 */
export async function startTrap(host = "127.0.0.1"): Promise<Trap> {
  const connections: Sprung[] = [];
  const open = new Set<Socket>();
  const server: Server = createServer((socket) => {
    open.add(socket);
    const entry: Sprung = { at: Date.now(), firstBytes: "" };
    connections.push(entry);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => open.delete(socket));
    socket.once("data", (chunk: Buffer) => {
      entry.firstBytes = chunk.subarray(0, 200).toString("latin1");
      socket.destroy();
    });
    // A client that connects and sends nothing is still counted; let it go after a moment.
    setTimeout(() => socket.destroy(), 1_000).unref();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    host,
    port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
