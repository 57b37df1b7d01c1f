import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterAccess, EXEC_RENEW_BEFORE_MS, TOKEN_FILE_REREAD_MS } from "./cluster-access.ts";
import { KubeClient } from "./client.ts";
import type { ExecCredential } from "./exec-credential.ts";
import type { Credentials } from "./kubeconfig.ts";
import { Resources } from "./resources.ts";

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A loopback API server that keeps each request's Authorization and counts the connections it accepted. */
async function apiServer(answer: (req: IncomingMessage, res: ServerResponse) => void = (_q, res) => void res.writeHead(200).end("{}")) {
  const seen: Array<string | undefined> = [];
  let connections = 0;
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    answer(req, res);
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, connections: () => connections };
}

function access(server: string, credentials: Credentials, opts: ConstructorParameters<typeof ClusterAccess>[1] = {}): ClusterAccess {
  const a = new ClusterAccess({ source: "test", cluster: { server, insecureSkipTlsVerify: true }, credentials }, opts);
  closers.push(() => void a.close());
  return a;
}

const get = (client: KubeClient, name = "a") => client.get(Resources.PerformanceProfile, "ns", name);

describe("ClusterAccess", () => {
  it("reuses its connections, rather than opening one per request", async () => {
    const api = await apiServer();
    const client = new KubeClient(access(api.server, { kind: "token", token: "t" }));
    for (let i = 0; i < 5; i++) await get(client);
    const opened = api.connections();
    // A second may open before the first is back in its pool; after that, none.
    expect(opened).toBeLessThanOrEqual(2);
    for (let i = 0; i < 20; i++) await get(client);
    expect(api.connections()).toBe(opened);
    expect(api.seen).toEqual(Array(25).fill("Bearer t"));
  });

  it("reads a token file again once a minute, and keeps the token it has while the file is being rewritten", async () => {
    const api = await apiServer();
    const dir = mkdtempSync(join(tmpdir(), "tollgate-token-"));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "token");
    writeFileSync(file, "first\n");
    let now = 0;
    const client = new KubeClient(access(api.server, { kind: "tokenFile", file }, { now: () => now }));
    await get(client);
    writeFileSync(file, "second\n");
    now = TOKEN_FILE_REREAD_MS - 1;
    await get(client);
    now = TOKEN_FILE_REREAD_MS;
    await get(client);
    unlinkSync(file);
    now = 3 * TOKEN_FILE_REREAD_MS;
    await get(client);
    expect(api.seen).toEqual(["Bearer first", "Bearer first", "Bearer second", "Bearer second"]);
  });

  it("refuses to send a request with a token file it has never been able to read", async () => {
    const api = await apiServer();
    const client = new KubeClient(access(api.server, { kind: "tokenFile", file: "/nonexistent/token" }));
    await expect(get(client)).rejects.toThrow("0 CredentialsUnavailable: test: tokenFile /nonexistent/token: ENOENT");
    expect(api.seen).toEqual([]);
  });

  it("runs an exec plugin once for requests that need it at once, and again shortly before the credential expires", async () => {
    const api = await apiServer();
    let now = 0;
    let runs = 0;
    const runExec = async (): Promise<ExecCredential> => {
      runs++;
      await new Promise((r) => setTimeout(r, 5));
      return { token: `run-${runs}`, expiresAtMs: now + 60_000 };
    };
    const client = new KubeClient(access(api.server, { kind: "exec", exec: { command: "x", args: [], env: [], apiVersion: "client.authentication.k8s.io/v1", provideClusterInfo: false } }, { now: () => now, runExec }));
    await Promise.all(["a", "b", "c"].map((n) => get(client, n)));
    now = 60_000 - EXEC_RENEW_BEFORE_MS - 1;
    await get(client);
    now = 60_000 - EXEC_RENEW_BEFORE_MS;
    await get(client);
    expect(api.seen).toEqual(["Bearer run-1", "Bearer run-1", "Bearer run-1", "Bearer run-1", "Bearer run-2"]);
  });

  it("asks the exec plugin again after the API server refuses its credential", async () => {
    let refuse = true;
    const api = await apiServer((_q, res) => {
      if (refuse) {
        refuse = false;
        return void res.writeHead(401).end('{"kind":"Status","reason":"Unauthorized","message":"Unauthorized"}');
      }
      res.writeHead(200).end("{}");
    });
    let runs = 0;
    const runExec = async (): Promise<ExecCredential> => ({ token: `run-${++runs}` });
    const client = new KubeClient(access(api.server, { kind: "exec", exec: { command: "x", args: [], env: [], apiVersion: "client.authentication.k8s.io/v1", provideClusterInfo: false } }, { runExec }));
    await expect(get(client)).rejects.toThrow("401 Unauthorized");
    await get(client);
    await get(client);
    expect(api.seen).toEqual(["Bearer run-1", "Bearer run-2", "Bearer run-2"]);
  });

  it("sends basic auth, and nothing when the user has no credentials", async () => {
    const api = await apiServer();
    await get(new KubeClient(access(api.server, { kind: "basic", username: "admin", password: "pw" })));
    await get(new KubeClient(access(api.server, { kind: "none" })));
    expect(api.seen).toEqual([`Basic ${Buffer.from("admin:pw").toString("base64")}`, undefined]);
  });

  it("names a CA file it cannot read when it is built, not at the first request", () => {
    expect(() => new ClusterAccess({ source: "/k/config (context main)", cluster: { server: "https://x", ca: { file: "/nonexistent/ca.crt" }, insecureSkipTlsVerify: false }, credentials: { kind: "none" } })).toThrow(
      "/k/config (context main): certificate-authority /nonexistent/ca.crt: ENOENT",
    );
  });
});
