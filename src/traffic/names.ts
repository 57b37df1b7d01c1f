import type { ProfileSpec } from "../api/profile.ts";

/**
 * The Service the DestinationRule and VirtualService are for, which also names them: a DestinationRule
 * is per host, and naming it after the host keeps one name in guard and canary mode. With a canary it is
 * `canary.service.name`; in guard mode the API names no Service, so the target's name, the usual
 * convention (a controller that resolves the real Service may pass that instead).
 */
export function serviceHost(spec: Pick<ProfileSpec, "canary" | "targetRef">): string {
  return spec.canary?.service.name ?? spec.targetRef.name;
}

export const PRIMARY_SUFFIX = "-primary";

/** The Deployment Tollgate keeps with the last promoted template in canary mode. */
export function primaryName(target: string): string {
  return `${target}${PRIMARY_SUFFIX}`;
}

/**
 * The Deployment the HPA scales, which also names the HPA: the primary in canary mode (the canary's
 * replicas are Tollgate's to set), the target itself in guard mode.
 */
export function scaledDeployment(spec: Pick<ProfileSpec, "canary" | "targetRef">): string {
  return spec.canary ? primaryName(spec.targetRef.name) : spec.targetRef.name;
}
