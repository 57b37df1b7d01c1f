// How each request reaches the API server: one keep-alive connection pool for the process's life
// (TLS is negotiated once per connection, not per request), and the credentials' current header.
import { readFileSync } from "node:fs";
import { HttpPool } from "../http/transport.ts";
import { execInfo, runExecPlugin, type ExecCredential } from "./exec-credential.ts";
import { findAccess, KubeconfigError, readNamed, type AccessSpec, type ExecSpec, type FindOptions, type Material } from "./kubeconfig.ts";

/** A rotating token file (a projected service-account token) is read again at most this often, as client-go does. */
export const TOKEN_FILE_REREAD_MS = 60_000;
/** An exec credential is renewed this long before it expires, so no request goes out with one about to lapse. */
export const EXEC_RENEW_BEFORE_MS = 10_000;

export interface ClusterAccessOptions {
  now?: () => number;
  /** Runs an exec credential plugin; for tests. */
  runExec?: (info: string) => Promise<ExecCredential>;
}

export interface Connection {
  headers: Record<string, string>;
  pool: HttpPool;
}

function readMaterial(m: Material | undefined, field: string, source: string): Buffer | undefined {
  if (!m) return undefined;
  return "data" in m ? m.data : readNamed(m.file, source, `${field} ${m.file}`);
}

export class ClusterAccess {
  readonly server: string;
  readonly source: string;
  readonly namespace: string | undefined;
  private readonly spec: AccessSpec;
  private readonly now: () => number;
  private readonly execSpec: ExecSpec | undefined;
  private readonly runExec: (info: string) => Promise<ExecCredential>;
  private readonly ca: Buffer | undefined;
  private readonly clientCertificate: Buffer | undefined;
  private readonly clientKey: Buffer | undefined;
  private pool: HttpPool;
  /** The client certificate the pool presents, when it came from an exec plugin. */
  private poolCertificate: string | undefined;
  private token: { value: string; readAtMs: number } | undefined;
  private exec: { credential: ExecCredential } | undefined;
  private execInFlight: Promise<ExecCredential> | undefined;

  constructor(spec: AccessSpec, opts: ClusterAccessOptions = {}) {
    this.spec = spec;
    this.server = spec.cluster.server;
    this.source = spec.source;
    this.namespace = spec.namespace;
    this.now = opts.now ?? Date.now;
    this.ca = readMaterial(spec.cluster.ca, "certificate-authority", spec.source);
    this.clientCertificate = readMaterial(spec.clientCertificate, "client-certificate", spec.source);
    this.clientKey = readMaterial(spec.clientKey, "client-key", spec.source);
    this.execSpec = spec.credentials.kind === "exec" ? spec.credentials.exec : undefined;
    const execSpec = this.execSpec;
    this.runExec = opts.runExec ?? ((info) => runExecPlugin(execSpec!, info));
    this.pool = this.newPool(this.clientCertificate, this.clientKey);
  }

  /** The headers and connection pool of the next request. */
  async connection(): Promise<Connection> {
    const headers: Record<string, string> = {};
    const creds = this.spec.credentials;
    switch (creds.kind) {
      case "none":
        break;
      case "token":
        headers.Authorization = `Bearer ${creds.token}`;
        break;
      case "tokenFile":
        headers.Authorization = `Bearer ${this.tokenFromFile(creds.file)}`;
        break;
      case "basic":
        headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
        break;
      case "exec": {
        const credential = await this.execCredential();
        if (credential.token) headers.Authorization = `Bearer ${credential.token}`;
        if (credential.clientCertificateData && credential.clientCertificateData !== this.poolCertificate) {
          // The old pool is left to itself: requests in flight (watches) finish on it, and its idle
          // connections close after IDLE_SOCKET_MS.
          this.pool = this.newPool(Buffer.from(credential.clientCertificateData), Buffer.from(credential.clientKeyData!));
          this.poolCertificate = credential.clientCertificateData;
        }
        break;
      }
    }
    return { headers, pool: this.pool };
  }

  /** The API server refused the credentials (401): the next request reads or asks for fresh ones. */
  invalidate(): void {
    this.token = undefined;
    this.exec = undefined;
  }

  close(): void {
    this.pool.close();
  }

  private newPool(cert: Buffer | undefined, key: Buffer | undefined): HttpPool {
    return new HttpPool({
      ca: this.ca,
      cert,
      key,
      rejectUnauthorized: !this.spec.cluster.insecureSkipTlsVerify,
      servername: this.spec.cluster.tlsServerName,
    });
  }

  private tokenFromFile(file: string): string {
    const at = this.now();
    if (!this.token || at - this.token.readAtMs >= TOKEN_FILE_REREAD_MS) {
      let value: string;
      try {
        value = readFileSync(file, "utf8").trim();
      } catch (err) {
        // A token read before stays in use until the file is back (the kubelet rewrites it in place).
        if (this.token) return this.token.value;
        throw new KubeconfigError(this.source, `tokenFile ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      this.token = { value, readAtMs: at };
    }
    return this.token.value;
  }

  private async execCredential(): Promise<ExecCredential> {
    const held = this.exec?.credential;
    if (held && (held.expiresAtMs === undefined || this.now() < held.expiresAtMs - EXEC_RENEW_BEFORE_MS)) return held;
    // One plugin run for every request that finds the credential stale at once.
    this.execInFlight ??= (async () => {
      try {
        const credential = await this.runExec(execInfo(this.execSpec!, this.spec.cluster, this.ca));
        this.exec = { credential };
        return credential;
      } finally {
        this.execInFlight = undefined;
      }
    })();
    return this.execInFlight;
  }
}

/** Access found as findAccess finds it: by default the operator's order (--kubeconfig, $KUBECONFIG, in-cluster, ~/.kube/config). */
export function loadClusterAccess(kubeconfigPath?: string, opts: FindOptions = {}): ClusterAccess {
  return new ClusterAccess(findAccess(kubeconfigPath, opts));
}
