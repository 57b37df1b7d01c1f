import { formatDuration, parseDuration } from "../api/duration.ts";
import type { RateLimit } from "../kube/token-bucket.ts";

/** A flag or command line that cannot be used: exit code 2, with the usage. */
export class UsageError extends Error {}

/** Input a command was given that it refuses (a profile file): exit code 1, with the message alone. */
export class InputError extends Error {}

/** --tile: a duration of whole seconds, or off (null). */
export function tileFlag(raw: string): string | null {
  if (raw === "off") return null;
  try {
    const ms = parseDuration(raw);
    if (ms >= 1_000 && ms % 1_000 === 0) return formatDuration(ms);
  } catch {
    // the message below says what is wanted
  }
  throw new UsageError(`--tile must be a duration of whole seconds such as 5m, or off, not ${JSON.stringify(raw)}`);
}

/**
 * --kube-api-qps (a positive number, fractions allowed as in client-go) and --kube-api-burst (a
 * positive integer).
 */
export function kubeApiRateFlags(qps: string, burst: string): RateLimit {
  const q = Number(qps);
  if (qps.trim() === "" || !Number.isFinite(q) || q <= 0) throw new UsageError(`--kube-api-qps must be a positive number, not ${JSON.stringify(qps)}`);
  const b = Number(burst);
  if (burst.trim() === "" || !Number.isInteger(b) || b <= 0) throw new UsageError(`--kube-api-burst must be a positive integer, not ${JSON.stringify(burst)}`);
  return { qps: q, burst: b };
}
