// A kubeconfig's exec credential plugin (client.authentication.k8s.io): the command prints an
// ExecCredential whose status holds a bearer token or a client certificate, and maybe when it expires.
import { execFile } from "node:child_process";
import type { ClusterSpec, ExecSpec } from "./kubeconfig.ts";

export interface ExecCredential {
  token?: string;
  /** PEM, as the plugin printed it. */
  clientCertificateData?: string;
  clientKeyData?: string;
  /** When it stops being valid; undefined: until the API server refuses it. */
  expiresAtMs?: number;
}

/** The plugin's output, checked field by field. */
export function parseExecCredential(stdout: string, command: string): ExecCredential {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new Error(`exec plugin ${command}: printed no JSON ExecCredential`);
  }
  const status = (doc as { status?: unknown } | null)?.status;
  if (typeof status !== "object" || status === null) throw new Error(`exec plugin ${command}: ExecCredential has no status`);
  const s = status as Record<string, unknown>;
  const field = (name: string): string | undefined => {
    const v = s[name];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw new Error(`exec plugin ${command}: status.${name} must be a string`);
    return v;
  };
  const out: ExecCredential = {
    token: field("token"),
    clientCertificateData: field("clientCertificateData"),
    clientKeyData: field("clientKeyData"),
  };
  const expiry = field("expirationTimestamp");
  if (expiry !== undefined) {
    const ms = Date.parse(expiry);
    if (Number.isNaN(ms)) throw new Error(`exec plugin ${command}: status.expirationTimestamp ${expiry} is not a time`);
    out.expiresAtMs = ms;
  }
  if ((out.clientCertificateData === undefined) !== (out.clientKeyData === undefined)) {
    throw new Error(`exec plugin ${command}: status.clientCertificateData and status.clientKeyData come together`);
  }
  if (out.token === undefined && out.clientCertificateData === undefined) {
    throw new Error(`exec plugin ${command}: status has neither token nor clientCertificateData`);
  }
  return out;
}

/** What the plugin is told in KUBERNETES_EXEC_INFO: never interactive, and the cluster if it asked. */
export function execInfo(spec: ExecSpec, cluster: ClusterSpec, caData: Buffer | undefined): string {
  return JSON.stringify({
    apiVersion: spec.apiVersion,
    kind: "ExecCredential",
    spec: {
      interactive: false,
      ...(spec.provideClusterInfo
        ? {
            cluster: {
              server: cluster.server,
              ...(cluster.tlsServerName ? { "tls-server-name": cluster.tlsServerName } : {}),
              ...(caData ? { "certificate-authority-data": caData.toString("base64") } : {}),
              "insecure-skip-tls-verify": cluster.insecureSkipTlsVerify,
            },
          }
        : {}),
    },
  });
}

export function runExecPlugin(spec: ExecSpec, info: string, env: NodeJS.ProcessEnv = process.env): Promise<ExecCredential> {
  const childEnv: NodeJS.ProcessEnv = { ...env, KUBERNETES_EXEC_INFO: info };
  for (const e of spec.env) childEnv[e.name] = e.value;
  return new Promise((resolve, reject) => {
    execFile(spec.command, spec.args, { env: childEnv, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return reject(new Error(`exec plugin ${spec.command}: not found${spec.installHint ? `; ${spec.installHint.trim()}` : ""}`));
        return reject(new Error(`exec plugin ${spec.command} failed: ${String(stderr).trim() || err.message}`));
      }
      try {
        resolve(parseExecCredential(stdout, spec.command));
      } catch (parseErr) {
        reject(parseErr as Error);
      }
    });
  });
}
