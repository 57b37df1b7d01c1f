import { stringify } from "yaml";
import { API_VERSION, KIND } from "../../src/api/meta.ts";
import type { ProfileSpecInput } from "../../src/api/profile.ts";
import { kubectl } from "./kubectl.ts";
import { sleep } from "./wait.ts";

/** Tollgate's finalizer: the profile stays until Tollgate has handed its Deployment back. */
export const CLEANUP_FINALIZER = "tollgate.dev/cleanup";

interface Named {
  metadata: { name: string; finalizers?: string[] };
}

/**
 * For a suite's afterAll, while its operator still runs: deletes every profile in `ns` and gives the
 * operator up to `timeoutMs` to finish them (its finalizer hands each Deployment back); whatever is left
 * then loses its finalizers, so the namespace can go once the operator is stopped. Returns the names
 * that had to be stripped.
 */
export async function deleteProfiles(ns: string, timeoutMs = 30_000): Promise<string[]> {
  await kubectl(["-n", ns, "delete", "pp", "--all", "--wait=false"]);
  const deadline = Date.now() + timeoutMs;
  let left: Named[] = [];
  do {
    const res = await kubectl(["-n", ns, "get", "pp", "-o", "json"]);
    if (res.code !== 0) return [];
    left = (JSON.parse(res.stdout) as { items: Named[] }).items;
    if (left.length === 0) return [];
    await sleep(500);
  } while (Date.now() < deadline);
  for (const p of left) {
    await kubectl(["-n", ns, "patch", "pp", p.metadata.name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
  }
  return left.map((p) => p.metadata.name);
}

/** The profile, or undefined once the API server no longer has it. */
export async function findProfile<T>(ns: string, name: string): Promise<T | undefined> {
  const res = await kubectl(["-n", ns, "get", "pp", name, "-o", "json", "--ignore-not-found"]);
  if (res.code !== 0) throw new Error(`kubectl get pp ${name} failed: ${res.stderr.trim()}`);
  return res.stdout.trim() === "" ? undefined : (JSON.parse(res.stdout) as T);
}

/**
 * The suites' quick profile: availability on the Istio preset over a one-minute window, judged every
 * 2 s once 10 requests are in. Every burn window scales onto the 10 s floor.
 */
export function minuteAvailabilitySpec(target: string): ProfileSpecInput {
  return {
    targetRef: { name: target },
    slos: [{ name: "availability", objective: 99.5, window: "1m", indicator: { istio: { kind: "availability" } } }],
    policy: { evaluationInterval: "2s", minEvents: 10 },
  };
}

/** A PerformanceProfile named after the Deployment it governs, with minuteAvailabilitySpec. */
export function minuteAvailabilityYaml(name: string): string {
  return stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec: minuteAvailabilitySpec(name) });
}
