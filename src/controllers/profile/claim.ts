import type { PerformanceProfile } from "../../api/types.ts";

/**
 * The profile that governs Deployment `target` in `namespace`: of every profile naming it, the one
 * created first (ties by name). Each replica computes the same answer from its cache, and it never
 * changes while that profile exists, deletion included: a profile being deleted still holds the
 * Deployment until its finalizer has handed it back. Only the governing profile freezes, rolls back or
 * runs a canary; another is refused with Ready=False naming it.
 */
export function governingProfile(profiles: Iterable<PerformanceProfile>, namespace: string, target: string): string | undefined {
  let first: PerformanceProfile | undefined;
  for (const p of profiles) {
    if (p.metadata?.namespace !== namespace || p.spec?.targetRef?.name !== target) continue;
    if (!first || older(p, first)) first = p;
  }
  return first?.metadata?.name;
}

function older(a: PerformanceProfile, b: PerformanceProfile): boolean {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? "") || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? "") || 0;
  if (ta !== tb) return ta < tb;
  return (a.metadata?.name ?? "") < (b.metadata?.name ?? "");
}

/** The Ready condition's message for a profile refused because `first` governs its Deployment. */
export function claimedMessage(namespace: string, target: string, first: string): string {
  return `Deployment ${namespace}/${target} is governed by PerformanceProfile ${first}, created first; this profile acts on it only once that one is gone.`;
}
