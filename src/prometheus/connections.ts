import { createHash } from "node:crypto";
import type { PrometheusSpec } from "../api/prometheus.ts";
import { parseDuration } from "../api/duration.ts";
import type { SecretReader } from "../kube/secrets.ts";
import { PrometheusClient, type PrometheusConnection } from "./client.ts";

export interface OperatorPrometheus {
  /** --prometheus-url: the Prometheus of profiles that do not name their own. */
  url?: string;
  timeoutMs: number;
}

export type Resolved = { ok: true; client: PrometheusClient } | { ok: false; message: string };

/**
 * One Prometheus client per distinct connection (address, headers, credentials, CA), shared by every
 * profile that uses it, so connection pools are reused. Credentials come from Secrets in the profile's
 * namespace at each resolution, so a rotated token is picked up on the next evaluation.
 */
export class PrometheusConnections {
  private readonly clients = new Map<string, PrometheusClient>();
  private readonly readSecret: SecretReader;
  private readonly defaults: OperatorPrometheus;

  constructor(readSecret: SecretReader, defaults: OperatorPrometheus) {
    this.readSecret = readSecret;
    this.defaults = defaults;
  }

  async resolve(namespace: string, spec: PrometheusSpec | undefined): Promise<Resolved> {
    const url = spec?.address ?? this.defaults.url;
    if (!url) return { ok: false, message: "no Prometheus configured: set spec.prometheus.address or the operator's --prometheus-url" };
    const conn: PrometheusConnection = {
      url,
      headers: spec?.headers,
      timeoutMs: spec?.timeout ? parseDuration(spec.timeout) : this.defaults.timeoutMs,
      insecureSkipVerify: spec?.tls?.insecureSkipVerify,
    };
    const token = spec?.bearerTokenSecretRef;
    if (token) {
      const value = await this.readSecret(namespace, token.name, token.key);
      if (!value) return { ok: false, message: `secret ${namespace}/${token.name} has no key ${token.key} (spec.prometheus.bearerTokenSecretRef)` };
      conn.bearerToken = value.trim();
    }
    const ca = spec?.tls?.caSecretRef;
    if (ca) {
      const value = await this.readSecret(namespace, ca.name, ca.key);
      if (!value) return { ok: false, message: `secret ${namespace}/${ca.name} has no key ${ca.key} (spec.prometheus.tls.caSecretRef)` };
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
}
