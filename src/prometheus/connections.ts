import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { PrometheusSpec } from "../api/prometheus.ts";
import { parseDuration } from "../api/duration.ts";
import type { SecretReader } from "../kube/secrets.ts";
import { endpointAllowed, type EndpointPattern } from "../tenancy/endpoints.ts";
import { PrometheusClient, type PrometheusConnection } from "./client.ts";

/** A Prometheus connection the operator's owner configured (--prometheus-connections), named for profiles. */
export interface NamedConnection {
  name: string;
  url: string;
  /** Sent with every query; a tenant header (X-Scope-OrgID) belongs here, set by the operator's owner. */
  headers?: Record<string, string>;
  /** A file holding the bearer token (a mounted Secret), read at use so a rotated token applies. */
  bearerTokenFile?: string;
  /** A file holding the PEM CA bundle. */
  caFile?: string;
  timeoutMs?: number;
  insecureSkipVerify?: boolean;
}

export interface OperatorPrometheus {
  /** --prometheus-url: the Prometheus of profiles that name neither a connection nor an address. */
  url?: string;
  timeoutMs: number;
  /** --prometheus-connections: the connections profiles may name in spec.prometheus.connection. */
  connections?: readonly NamedConnection[];
  /** --prometheus-allowed-address: the addresses profiles may name in spec.prometheus.address. */
  allowedAddresses?: readonly EndpointPattern[];
  /** --prometheus-profile-header: header names profiles may set in spec.prometheus.headers (lower-case). */
  profileHeaders?: readonly string[];
}

/** Why a profile's Prometheus cannot be used: a problem of the spec, named by its field. */
export interface ConnectionProblem {
  field: string;
  reason: "ConnectionNotFound" | "EndpointNotAllowed" | "HeadersNotAllowed" | "SecretNotFound";
  message: string;
}

export type Resolved = { ok: true; client: PrometheusClient } | { ok: false; message: string; problem?: ConnectionProblem };

/**
 * One Prometheus client per distinct connection (address, headers, credentials, CA), shared by every
 * profile that uses it, so connection pools are reused. A tenant reaches only what the operator's
 * owner allowed: a named connection, an allowed address, or the default; headers only those allowed;
 * credentials only from Secrets in the profile's own namespace, read at each resolution so a rotated
 * token is picked up on the next evaluation. A refusal sends nothing anywhere.
 */
export class PrometheusConnections {
  private readonly clients = new Map<string, PrometheusClient>();
  private readonly readSecret: SecretReader;
  private readonly defaults: OperatorPrometheus;
  private readonly readFileText: (path: string) => Promise<string>;

  constructor(readSecret: SecretReader, defaults: OperatorPrometheus, opts: { readFile?: (path: string) => Promise<string> } = {}) {
    this.readSecret = readSecret;
    this.defaults = defaults;
    this.readFileText = opts.readFile ?? ((path) => readFile(path, "utf8"));
  }

  async resolve(namespace: string, spec: PrometheusSpec | undefined): Promise<Resolved> {
    const base = this.base(spec);
    if (!base.ok) return base;
    const conn: PrometheusConnection = { ...base.conn };
    if (base.files) {
      // The owner's files: a failure to read one is the operator's, not the tenant's (MetricsAvailable).
      try {
        if (base.files.token) conn.bearerToken = (await this.readFileText(base.files.token)).trim();
        if (base.files.ca) conn.ca = await this.readFileText(base.files.ca);
      } catch (err) {
        return { ok: false, message: `the operator cannot read a file of its connection ${spec?.connection}: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    const refused = this.headerProblem(spec?.headers);
    if (refused) return { ok: false, message: refused.message, problem: refused };
    // The connection's own headers win: a profile never overrides the tenant its owner was given.
    if (spec?.headers) conn.headers = { ...spec.headers, ...conn.headers };
    if (spec?.timeout) conn.timeoutMs = parseDuration(spec.timeout);
    if (spec?.tls?.insecureSkipVerify) conn.insecureSkipVerify = true;
    const token = spec?.bearerTokenSecretRef;
    if (token) {
      const value = await this.readSecret(namespace, token.name, token.key);
      if (value === undefined) return missing("spec.prometheus.bearerTokenSecretRef", namespace, token);
      conn.bearerToken = value.trim();
    }
    const ca = spec?.tls?.caSecretRef;
    if (ca) {
      const value = await this.readSecret(namespace, ca.name, ca.key);
      if (value === undefined) return missing("spec.prometheus.tls.caSecretRef", namespace, ca);
      conn.ca = value;
    }
    const key = createHash("sha256").update(JSON.stringify(conn)).digest("hex");
    let client = this.clients.get(key);
    if (!client) {
      client = new PrometheusClient(conn);
      this.clients.set(key, client);
    }
    return { ok: true, client };
  }

  /** The connection before the profile's own additions: a named one, an allowed address, or the default. */
  private base(
    spec: PrometheusSpec | undefined,
  ): { ok: true; conn: PrometheusConnection; files?: { token?: string; ca?: string } } | { ok: false; message: string; problem?: ConnectionProblem } {
    const timeoutMs = this.defaults.timeoutMs;
    if (spec?.connection !== undefined) {
      const named = this.defaults.connections?.find((c) => c.name === spec.connection);
      if (!named) {
        const known = (this.defaults.connections ?? []).map((c) => c.name);
        return refuse("spec.prometheus.connection", "ConnectionNotFound", `the operator has no Prometheus connection named ${spec.connection} (it has ${known.length ? known.join(", ") : "none"}).`);
      }
      return { ok: true, conn: this.fromNamed(named), files: { token: named.bearerTokenFile, ca: named.caFile } };
    }
    if (spec?.address !== undefined) {
      if (!endpointAllowed(spec.address, this.defaults.allowedAddresses ?? [])) {
        return refuse(
          "spec.prometheus.address",
          "EndpointNotAllowed",
          `${spec.address} is not an address the operator allows (--prometheus-allowed-address); name one of its connections in spec.prometheus.connection, or leave the address out to use its default Prometheus. No request was sent.`,
        );
      }
      return { ok: true, conn: { url: spec.address, timeoutMs } };
    }
    if (!this.defaults.url) return { ok: false, message: "no Prometheus configured: set spec.prometheus.connection or the operator's --prometheus-url" };
    return { ok: true, conn: { url: this.defaults.url, timeoutMs } };
  }

  private fromNamed(c: NamedConnection): PrometheusConnection {
    return {
      url: c.url,
      timeoutMs: c.timeoutMs ?? this.defaults.timeoutMs,
      ...(c.headers ? { headers: c.headers } : {}),
      ...(c.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    };
  }

  private headerProblem(headers: Record<string, string> | undefined): ConnectionProblem | undefined {
    const allowed = new Set((this.defaults.profileHeaders ?? []).map((h) => h.toLowerCase()));
    const name = Object.keys(headers ?? {}).find((h) => !allowed.has(h.toLowerCase()));
    if (name === undefined) return undefined;
    const which = allowed.size ? `it allows ${[...allowed].join(", ")}` : "it allows none";
    return {
      field: `spec.prometheus.headers.${name}`,
      reason: "HeadersNotAllowed",
      message: `the operator does not let profiles set the ${name} header (--prometheus-profile-header; ${which}); a tenant header belongs in the operator's connection.`,
    };
  }
}

function refuse(field: string, reason: ConnectionProblem["reason"], message: string): { ok: false; message: string; problem: ConnectionProblem } {
  return { ok: false, message: `${field}: ${message}`, problem: { field, reason, message } };
}

function missing(field: string, namespace: string, ref: { name: string; key: string }): { ok: false; message: string; problem: ConnectionProblem } {
  return refuse(field, "SecretNotFound", `Secret ${namespace}/${ref.name} has no key ${ref.key} (or does not exist).`);
}
