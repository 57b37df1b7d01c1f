// HTTP for every client Tollgate has (Kubernetes API, Prometheus, its reload endpoint, notification
// receivers), on Node's own http and https modules. An HTTP client package (undici, which Node's fetch
// also loads) cost ~11 MiB of resident memory and ~2.4 MiB of heap at start, a seventh of the operator's
// idle footprint (issue 13); the operator needs none of fetch's extras. Responses are never asked
// to be compressed: zlib's per-stream native buffers are memory the operator would hold for a gain only
// on slow links, and the API server's lists are read once per start.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { VERSION } from "../version.ts";

/** Names Tollgate in API servers' audit logs and receivers' access logs; a request's own header wins. */
export const USER_AGENT = `tollgate/${VERSION} (node ${process.version})`;

/** How a pool's TLS connections are made; all optional (the system's CAs, full verification). */
export interface TlsOptions {
  ca?: Buffer | string;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

/** An idle connection is closed after this long, below the idle cut of API servers and load balancers (60–90 s). */
export const IDLE_SOCKET_MS = 30_000;
/** TCP keep-alive probes start after this long without traffic, as client-go does. */
const TCP_KEEPALIVE_MS = 30_000;

/**
 * Keep-alive connections, one pool per scheme: TLS is negotiated once per connection, not per request.
 * A long-lived client owns one; one-off requests share the default pool.
 */
export class HttpPool {
  private readonly tls: TlsOptions;
  private http: HttpAgent | undefined;
  private https: HttpsAgent | undefined;

  constructor(tls: TlsOptions = {}) {
    this.tls = tls;
  }

  agent(url: URL): HttpAgent {
    if (url.protocol === "https:") {
      this.https ??= new HttpsAgent({ keepAlive: true, keepAliveMsecs: TCP_KEEPALIVE_MS, timeout: IDLE_SOCKET_MS, ...this.tls });
      return this.https;
    }
    this.http ??= new HttpAgent({ keepAlive: true, keepAliveMsecs: TCP_KEEPALIVE_MS, timeout: IDLE_SOCKET_MS });
    return this.http;
  }

  /** Closes every connection, idle or not. */
  close(): void {
    this.http?.destroy();
    this.https?.destroy();
  }
}

const DEFAULT_POOL = new HttpPool();

export interface HttpRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  /** Aborts the request, and the reading of its body: the promise rejects with the signal's reason, as fetch's does. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  /** The body as UTF-8 text. */
  text(): Promise<string>;
  /** The body line by line (a watch's events), without the line breaks. */
  lines(): AsyncGenerator<string>;
  /** Reads the body to its end without keeping it, so the connection goes back to its pool. */
  discard(): Promise<void>;
}

/**
 * A failure below HTTP (refused, reset, TLS): a TypeError whose `cause` is Node's error with its
 * `code`, the shape fetch rejects with, so callers report `cause.code` (ECONNREFUSED) as before.
 */
function transportFailure(err: unknown): TypeError {
  return new TypeError(err instanceof Error ? err.message : String(err), { cause: err });
}

/** Errors that mean a kept-alive connection was closed by the server just as it was reused. */
const STALE_SOCKET = new Set(["ECONNRESET", "EPIPE"]);

/**
 * Sends one request. A GET that finds its reused connection closed under it is sent once more on a
 * new one: the server saw nothing of it. Other methods are not, since the server may have applied them.
 */
export async function send(url: URL, req: HttpRequest, pool: HttpPool = DEFAULT_POOL): Promise<HttpResponse> {
  try {
    return await sendOnce(url, req, pool);
  } catch (err) {
    if (!(err instanceof StaleSocket)) throw err;
    return sendOnce(url, req, pool).catch((again: unknown) => {
      throw again instanceof StaleSocket ? transportFailure(again.cause) : again;
    });
  }
}

class StaleSocket extends Error {}

function sendOnce(url: URL, req: HttpRequest, pool: HttpPool): Promise<HttpResponse> {
  const { signal } = req;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { "User-Agent": USER_AGENT, ...req.headers };
    if (req.body !== undefined) headers["Content-Length"] = Buffer.byteLength(req.body);
    const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, { method: req.method, headers, agent: pool.agent(url) });
    const onAbort = () => request.destroy(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason)));
    signal?.addEventListener("abort", onAbort, { once: true });
    const release = () => signal?.removeEventListener("abort", onAbort);
    // `on`, not `once`: a second error (a reset after an abort) must not go unheard and end the process.
    request.on("error", (err: NodeJS.ErrnoException) => {
      release();
      if (signal?.aborted) reject(signal.reason);
      else if (request.reusedSocket && req.method === "GET" && STALE_SOCKET.has(err.code ?? "")) reject(new StaleSocket(err.message, { cause: err }));
      else reject(transportFailure(err));
    });
    request.once("response", (res) => {
      res.once("close", release);
      resolve(new NodeResponse(res, signal));
    });
    request.end(req.body);
  });
}

class NodeResponse implements HttpResponse {
  private readonly res: IncomingMessage;
  private readonly signal: AbortSignal | undefined;

  constructor(res: IncomingMessage, signal: AbortSignal | undefined) {
    this.res = res;
    this.signal = signal;
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  async text(): Promise<string> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of this.res) chunks.push(chunk as Buffer);
    } catch (err) {
      throw this.failure(err);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  async *lines(): AsyncGenerator<string> {
    this.res.setEncoding("utf8");
    let rest = "";
    try {
      for await (const chunk of this.res) {
        const parts = (rest + (chunk as string)).split("\n");
        rest = parts.pop() ?? "";
        for (const line of parts) yield line;
      }
    } catch (err) {
      throw this.failure(err);
    } finally {
      // A consumer that stops early leaves the stream open: close it, not the pool's other connections.
      this.res.destroy();
    }
    if (rest) yield rest;
  }

  async discard(): Promise<void> {
    try {
      for await (const _ of this.res);
    } catch (err) {
      throw this.failure(err);
    }
  }

  private failure(err: unknown): unknown {
    return this.signal?.aborted ? this.signal.reason : transportFailure(err);
  }
}
