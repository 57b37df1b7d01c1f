import { connect, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A loopback TCP proxy in front of the API server that can make it hang. TLS passes through untouched
 * (the API server's certificate names 127.0.0.1, so a kubeconfig pointed at the proxy verifies as
 * before).
 *
 * `stall()` models an API server that takes calls and never answers them: connections open and TLS
 * handshakes complete, but no request sent from then on is forwarded, and its connection is held open
 * without a byte in reply. Hanging after the handshake matters: a connect that hangs is cut by the HTTP
 * client's connect timeout, a request that hangs only by the caller's own timeout. Responses already
 * on their way keep flowing, as watches already streaming do. `resume()` forwards new requests again;
 * held connections stay held until their client gives up, as calls lost in a hung server do.
 *
 * The proxy tells handshake from request by TLS record types alone (the 5-byte record headers are
 * plain text): the client's application data records are its requests. In TLS 1.3 the client's
 * Finished is also an application data record; it is the first one, sent after the server's own.
 */
export interface StallProxy {
  readonly port: number;
  stall(): void;
  resume(): void;
  /** Connections whose requests were held. */
  readonly heldConnections: number;
  close(): Promise<void>;
}

/** The TLS record type of application data (RFC 8446 §5.1). */
const APPLICATION_DATA = 23;

/** Splits whole TLS records off the front of `buffer`: their types and bytes, and what is left over. */
export function splitRecords(buffer: Buffer): { records: Array<{ type: number; bytes: Buffer }>; rest: Buffer } {
  const records: Array<{ type: number; bytes: Buffer }> = [];
  let offset = 0;
  while (buffer.length - offset >= 5) {
    const length = buffer.readUInt16BE(offset + 3);
    if (buffer.length - offset < 5 + length) break;
    records.push({ type: buffer[offset]!, bytes: buffer.subarray(offset, offset + 5 + length) });
    offset += 5 + length;
  }
  return { records, rest: buffer.subarray(offset) };
}

export async function startStallProxy(target: { host: "127.0.0.1"; port: number }): Promise<StallProxy> {
  let stalled = false;
  let heldConnections = 0;
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    // A client that gives up resets its end; that is the proxy's cue to let go, never an error.
    socket.on("error", () => socket.destroy());
  };

  const server = createServer((client) => {
    track(client);
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());

    // Server to client: forwarded as is; watched only until the server's first application data record.
    let serverSentApplicationData = false;
    let fromServer: Buffer = Buffer.alloc(0);
    upstream.on("data", (chunk: Buffer) => {
      if (!serverSentApplicationData) {
        const { records, rest } = splitRecords(Buffer.concat([fromServer, chunk]));
        fromServer = rest;
        if (records.some((r) => r.type === APPLICATION_DATA)) serverSentApplicationData = true;
      }
      client.write(chunk);
    });

    // Client to server: record by record, so requests can be held while the handshake goes through.
    let finishedSent = false;
    let held = false;
    let fromClient: Buffer = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      const { records, rest } = splitRecords(Buffer.concat([fromClient, chunk]));
      fromClient = rest;
      for (const record of records) {
        let request = record.type === APPLICATION_DATA;
        if (request && !finishedSent && serverSentApplicationData) {
          // TLS 1.3: the client's first application data record after the server's is its Finished.
          finishedSent = true;
          request = false;
        }
        if (request && (stalled || held)) {
          if (!held) heldConnections++;
          held = true;
          continue;
        }
        upstream.write(record.bytes);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
    },
    get heldConnections() {
      return heldConnections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
