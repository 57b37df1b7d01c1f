import type { KubeClient } from "./client.ts";
import { Resources } from "./resources.ts";
import type { KubeObject } from "./types.ts";

/** Reads one key of a Secret; undefined when the Secret or the key is missing. */
export type SecretReader = (namespace: string, name: string, key: string) => Promise<string | undefined>;

interface Secret extends KubeObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** A SecretReader over the API: read at use, so rotated credentials apply on the next use. */
export function secretReader(client: KubeClient): SecretReader {
  return async (namespace, name, key) => {
    const secret = await client.find<Secret>(Resources.Secret, namespace, name);
    const b64 = secret?.data?.[key];
    return b64 === undefined ? undefined : Buffer.from(b64, "base64").toString("utf8");
  };
}
