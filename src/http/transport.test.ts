import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpPool, send, USER_AGENT } from "./transport.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, n: { request: number; connection: number }) => void;

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A loopback server counting requests and the connections they came on. */
async function server(handler: Handler): Promise<{ url: (path?: string) => URL; connections: () => number; userAgents: string[] }> {
  let connections = 0;
  let requests = 0;
  const userAgents: string[] = [];
  const srv: Server = createServer((req, res) => {
    userAgents.push(req.headers["user-agent"] ?? "");
    handler(req, res, { request: ++requests, connection: connections });
  });
  srv.on("connection", () => connections++);
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  closers.push(() => {
    srv.closeAllConnections();
    srv.close();
  });
  const port = (srv.address() as AddressInfo).port;
  return { url: (path = "/") => new URL(`http://127.0.0.1:${port}${path}`), connections: () => connections, userAgents };
}

function pool(): HttpPool {
  const p = new HttpPool();
  closers.push(() => p.close());
  return p;
}

describe("send", () => {
  it("sends the body, reads the answer, names Tollgate and keeps one connection for requests in turn", async () => {
    const api = await server((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => res.end(`${req.method} ${req.url} ${body}`));
    });
    const p = pool();
    for (let i = 0; i < 10; i++) {
      const res = await send(api.url(`/n/${i}`), { method: "POST", body: `é${i}` }, p);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`POST /n/${i} é${i}`);
    }
    expect(api.connections()).toBe(1);
    expect(api.userAgents).toEqual(Array(10).fill(USER_AGENT));
  });

  it("streams lines as they come, a line or a character split between chunks made whole", async () => {
    const api = await server((_req, res) => {
      res.writeHead(200);
      const bytes = Buffer.from('{"a":"ü"}\n{"b":2}\n\n{"c":3}');
      // Split inside the two-byte "ü" and inside the second line.
      res.write(bytes.subarray(0, 7));
      setTimeout(() => {
        res.write(bytes.subarray(7, 14));
        setTimeout(() => res.end(bytes.subarray(14)), 10);
      }, 10);
    });
    const res = await send(api.url(), { method: "GET" }, pool());
    const lines: string[] = [];
    for await (const line of res.lines()) lines.push(line);
    expect(lines).toEqual(['{"a":"ü"}', '{"b":2}', "", '{"c":3}']);
  });

  it("rejects with the signal's reason when aborted before the answer", async () => {
    const api = await server(() => undefined);
    const err = await send(api.url(), { method: "GET", signal: AbortSignal.timeout(50) }, pool()).catch((e: unknown) => e);
    expect((err as Error).name).toBe("TimeoutError");
  });

  it("rejects with the signal's reason when aborted while the body streams", async () => {
    const api = await server((_req, res) => {
      res.writeHead(200);
      res.write("part of it");
    });
    const controller = new AbortController();
    const res = await send(api.url(), { method: "GET", signal: controller.signal }, pool());
    const reading = res.text().catch((e: unknown) => e);
    controller.abort(new Error("term ended"));
    expect(((await reading) as Error).message).toBe("term ended");
  });

  it("reports a refused connection with Node's code as the cause", async () => {
    const api = await server(() => undefined);
    const url = api.url();
    for (const close of closers.splice(0)) close();
    const err = (await send(url, { method: "GET" }, pool()).catch((e: unknown) => e)) as TypeError;
    expect(err).toBeInstanceOf(TypeError);
    expect((err.cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("sends a GET again on a new connection when the reused one was closed under it, but not a write", async () => {
    // The second request on each connection finds it closed, as a server's idle cut would.
    const served = new WeakMap<object, number>();
    const api = await server((req, res, n) => {
      const onThis = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, onThis);
      if (onThis === 2) req.socket.destroy();
      else res.end(`ok ${n.request}`);
    });
    const p = pool();
    expect(await (await send(api.url(), { method: "GET" }, p)).text()).toBe("ok 1");
    expect(await (await send(api.url(), { method: "GET" }, p)).text()).toBe("ok 3");
    expect(api.connections()).toBe(2);
    const write = (await send(api.url(), { method: "PUT", body: "x" }, p).catch((e: unknown) => e)) as TypeError;
    expect((write.cause as NodeJS.ErrnoException).code).toBe("ECONNRESET");
    expect(api.connections()).toBe(2);
  });

  it("discards a body so the connection serves the next request", async () => {
    const api = await server((_req, res) => res.end("x".repeat(100_000)));
    const p = pool();
    await (await send(api.url(), { method: "POST" }, p)).discard();
    expect(await (await send(api.url(), { method: "GET" }, p)).text()).toHaveLength(100_000);
    expect(api.connections()).toBe(1);
  });
});
