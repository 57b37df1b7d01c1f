// The simulator's HTTP face: /metrics for Prometheus, a small JSON API for tests.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { CONTENT_TYPE, renderExposition } from "./exposition.ts";
import type { Mesh } from "./mesh.ts";
import { parseWorkloadPatch, ValidationError } from "./workload.ts";

const MAX_BODY_BYTES = 1 << 20;

class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

export function createSimulatorServer(mesh: Mesh): Server {
  return createServer((req, res) => {
    handle(mesh, req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message }, err.headers);
      if (err instanceof ValidationError) return sendJson(res, 400, { error: err.message });
      sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
}

async function handle(mesh: Mesh, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? "GET";
  const path = new URL(req.url ?? "/", "http://simulator").pathname;

  if (path === "/metrics") {
    allow(method, ["GET"]);
    res.writeHead(200, { "content-type": CONTENT_TYPE });
    res.end(renderExposition(mesh.series()));
    return;
  }
  if (path === "/healthz") {
    allow(method, ["GET"]);
    return sendJson(res, 200, { status: "ok" });
  }
  if (path === "/workloads") {
    allow(method, ["GET"]);
    return sendJson(res, 200, { workloads: mesh.list() });
  }

  const segments = path.split("/").slice(1).map(decodeSegment);
  const [root, namespace, name, action, ...rest] = segments;
  if (root !== "workloads" || namespace === undefined || name === undefined || rest.length > 0) {
    throw new HttpError(404, `no route for ${path}`);
  }
  const id = `${namespace}/${name}`;

  if (action === "reset") {
    allow(method, ["POST"]);
    const reset = mesh.reset(namespace, name);
    if (reset === undefined) throw new HttpError(404, `workload ${id} not found`);
    return sendJson(res, 200, reset);
  }
  if (action !== undefined) throw new HttpError(404, `no route for ${path}`);

  switch (allow(method, ["GET", "PUT", "DELETE"])) {
    case "GET": {
      const found = mesh.get(namespace, name);
      if (found === undefined) throw new HttpError(404, `workload ${id} not found`);
      return sendJson(res, 200, found);
    }
    case "PUT": {
      const patch = parseWorkloadPatch(await readJson(req));
      const { view, created } = mesh.put(namespace, name, patch);
      return sendJson(res, created ? 201 : 200, view);
    }
    case "DELETE":
      if (!mesh.delete(namespace, name)) throw new HttpError(404, `workload ${id} not found`);
      res.writeHead(204).end();
      return;
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in path segment ${JSON.stringify(segment)}`);
  }
}

function allow<M extends string>(method: string, allowed: readonly M[]): M {
  const m = allowed.find((a) => a === method);
  if (m === undefined) {
    throw new HttpError(405, `method ${method} not allowed here (allowed: ${allowed.join(", ")})`, { allow: allowed.join(", ") });
  }
  return m;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    // Read on without keeping it: answering mid-upload makes clients report a broken pipe
    // instead of the 413.
    if (size <= MAX_BODY_BYTES) chunks.push(buf);
  }
  if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, `body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
