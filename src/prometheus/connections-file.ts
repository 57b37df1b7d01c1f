import { parse } from "yaml";
import { z } from "zod";
import { DNS_LABEL_PATTERN } from "../api/names.ts";
import { durationMillis } from "../api/duration.ts";
import type { NamedConnection } from "./connections.ts";

const connectionSchema = z.strictObject({
  name: z.string().regex(new RegExp(DNS_LABEL_PATTERN), "name must be a DNS label (lower-case letters, digits and dashes)").max(63),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string()).optional(),
  bearerTokenFile: z.string().min(1).optional(),
  caFile: z.string().min(1).optional(),
  timeout: z.string().refine((t) => durationMillis(t) !== undefined, "timeout must be a duration such as 10s").optional(),
  insecureSkipVerify: z.boolean().optional(),
});

const fileSchema = z.strictObject({ connections: z.array(connectionSchema) }).refine(
  (f) => new Set(f.connections.map((c) => c.name)).size === f.connections.length,
  "connection names must be unique",
);

/**
 * The Prometheus connections the operator's owner gives profiles (--prometheus-connections), as YAML
 * or JSON: `connections: [{name, url, headers, bearerTokenFile, caFile, timeout, insecureSkipVerify}]`.
 * Throws with the path of the first bad field, for a clear failure at start.
 */
export function parseConnections(text: string, source: string): NamedConnection[] {
  const parsed = fileSchema.safeParse(parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: ${issue?.path.join(".") || "(top level)"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data.connections.map(({ timeout, ...c }) => ({ ...c, ...(timeout !== undefined ? { timeoutMs: durationMillis(timeout) } : {}) }));
}
