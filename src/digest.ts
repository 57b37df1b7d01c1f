import { createHash } from "node:crypto";

/**
 * A digest of `text` (SHA-256, base64: 44 characters), to remember what was written or applied by
 * its digest rather than by a copy: a comparison needs no more, and a cache of thousands of copies
 * costs their size.
 */
export function digest(text: string): string {
  return createHash("sha256").update(text).digest("base64");
}
