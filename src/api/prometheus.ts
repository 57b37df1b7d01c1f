import { z } from "zod";
import { withRules } from "./cel.ts";
import { duration } from "./duration.ts";
import { secretKeyRef } from "./secret-ref.ts";
import { dnsLabel } from "./names.ts";
import { httpUrl } from "./url.ts";

const address = httpUrl(
  "prometheus.address",
  "Base URL of the Prometheus-compatible HTTP API (Prometheus, Thanos Query, Mimir, Cortex), without /api/v1, e.g. http://prometheus.monitoring:9090 or https://mimir.example/prometheus. Only addresses the operator allows (--prometheus-allowed-address) are queried; anything else is Ready=False EndpointNotAllowed, with no request sent. Prefer connection. Defaults to the operator's --prometheus-url.",
  "http://prometheus.monitoring:9090",
);

const HEADER_NAME = /^[A-Za-z0-9-]+$/;

/** The CRD's maxProperties; the refinement repeats it for profiles the API server did not check. */
const MAX_HEADERS = 16;

const headers = withRules(
  z
    .record(z.string().max(256), z.string().max(4096))
    .refine((h) => Object.keys(h).length <= MAX_HEADERS, `prometheus.headers may hold at most ${MAX_HEADERS} headers.`),
  [
    {
      rule: "self.all(k, k.matches('^[A-Za-z0-9-]+$'))",
      message: "prometheus.headers names must be HTTP header names: letters, digits and dashes.",
      check: (h: Record<string, string>) => Object.keys(h).every((k) => HEADER_NAME.test(k)),
    },
    {
      // A line break in a value would start another header: the one a tenant may not set.
      rule: "self.all(k, !self[k].contains('\\r') && !self[k].contains('\\n'))",
      message: "prometheus.headers values must be one line: no carriage return or line feed.",
      check: (h: Record<string, string>) => Object.values(h).every((v) => !/[\r\n]/.test(v)),
    },
  ],
  {
    description:
      "Extra HTTP headers sent with every query. Only header names the operator lets profiles set (--prometheus-profile-header) are sent; any other is Ready=False HeadersNotAllowed. Headers that select a tenant (X-Scope-OrgID) belong in the operator's connection, not here, unless the operator allows them. Values are stored in the profile in plain text: put credentials in bearerTokenSecretRef instead. At most 16 headers.",
    maxProperties: MAX_HEADERS,
  },
);

const tlsSchema = z
  .object({
    caSecretRef: secretKeyRef(
      "prometheus.tls.caSecretRef",
      "Secret key holding the PEM CA bundle that signed the server's certificate, for a private CA. The system trust store is used when absent.",
    ).optional(),
    insecureSkipVerify: z
      .boolean()
      .default(false)
      .describe("Skip verifying the server's certificate. Only for test setups: it makes the connection open to interception. Defaults to false."),
  })
  .describe("TLS settings for an https address.");

export const prometheusSchema = withRules(
  z.object({
    connection: dnsLabel(
      "prometheus.connection",
      "Name of a Prometheus connection the operator was given (--prometheus-connections: URL, tenant headers, credentials, CA). The operator's default (--prometheus-url) when neither connection nor address is set.",
    ).optional(),
    address: address.optional(),
    headers: headers.optional(),
    bearerTokenSecretRef: secretKeyRef(
      "prometheus.bearerTokenSecretRef",
      "Secret key holding a bearer token, sent as 'Authorization: Bearer <token>' with every query (e.g. for an OAuth proxy or Grafana Cloud).",
    ).optional(),
    tls: tlsSchema.optional(),
    mode: z
      .enum(["Direct", "RecordingRules"])
      .optional()
      .describe(
        "How burn rates are read. RecordingRules: Tollgate emits recording rules (a PrometheusRule where the prometheus-operator CRDs exist) and reads all profiles with a few instant queries per cycle; scales to thousands of profiles. Direct: Tollgate sends the range queries itself each cycle; for plain Prometheus setups without rule loading. Defaults to the operator's configured mode.",
      ),
    timeout: duration(
      "prometheus.timeout",
      "How long one query may take before it counts as no data (never as a failure of the service), e.g. 10s. 1s to 2m, and at most policy.evaluationInterval: a slower query holds up every evaluation after it. Defaults to the operator's query timeout.",
      { min: "1s", max: "2m" },
    ).optional(),
  }),
  [
    {
      rule: "!(has(self.connection) && has(self.address))",
      message: "prometheus.connection and prometheus.address are exclusive: a connection carries its own address.",
      fieldPath: ".address",
      reason: "FieldValueForbidden",
      check: (p) => !(p.connection !== undefined && p.address !== undefined),
    },
  ],
  {
    description:
      "Where and how to query the metrics of this profile's SLOs. Everything is optional: unset fields come from the operator's configuration (--prometheus-url and friends).",
  },
);

export type PrometheusSpec = z.output<typeof prometheusSchema>;
