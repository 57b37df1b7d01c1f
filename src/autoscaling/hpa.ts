import type { Autoscaling } from "../api/autoscaling.ts";
import { horizontalPodAutoscaler, type HorizontalPodAutoscaler } from "../traffic/autoscaler.ts";

export type { HorizontalPodAutoscaler };

/**
 * The HPA Tollgate applies for `targetName` (the primary in canary mode, the target itself in guard
 * mode) with the effective CPU target from `boost`. One HPA builder exists, in traffic/autoscaler.ts,
 * beside the other objects Tollgate server-side applies; this names it in the autoscaling terms the
 * boost speaks, so the controller reads boost → hpaSpec → apply.
 */
export function hpaSpec(
  profile: { namespace: string; name: string; uid: string },
  autoscaling: Autoscaling,
  targetName: string,
  cpuTarget: number,
): HorizontalPodAutoscaler {
  return horizontalPodAutoscaler(profile.namespace, profile.name, autoscaling, { target: targetName, ownerUid: profile.uid, cpuUtilization: cpuTarget });
}
