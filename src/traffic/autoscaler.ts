import type { Autoscaling } from "../api/autoscaling.ts";
import { parseDuration } from "../api/duration.ts";
import type { KubeObject, ObjectMeta } from "../kube/types.ts";
import { ownedMeta } from "./meta.ts";

export interface ResourceMetric {
  type: "Resource";
  resource: { name: "cpu" | "memory"; target: { type: "Utilization"; averageUtilization: number } };
}

export interface HorizontalPodAutoscaler extends KubeObject {
  apiVersion: "autoscaling/v2";
  kind: "HorizontalPodAutoscaler";
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1"; kind: "Deployment"; name: string };
    minReplicas: number;
    maxReplicas: number;
    metrics: ResourceMetric[];
    behavior: {
      scaleUp: { stabilizationWindowSeconds: number };
      scaleDown: { stabilizationWindowSeconds: number };
    };
  };
}

export interface HpaOptions {
  /** The Deployment to scale, which also names the HPA (traffic/names.ts scaledDeployment). */
  target: string;
  ownerUid: string;
  /** The effective CPU target while the SLO boost lowers it; defaults to autoscaling.cpuUtilization. */
  cpuUtilization?: number;
}

const utilization = (name: "cpu" | "memory", averageUtilization: number): ResourceMetric => ({
  type: "Resource",
  resource: { name, target: { type: "Utilization", averageUtilization } },
});

/**
 * The autoscaling/v2 HPA from spec.autoscaling. Only the stabilization windows of `behavior` are set;
 * the API server defaults the scaling policies, and defaulted fields belong to no manager, so Tollgate's
 * applies do not fight them. `metrics` and the policies are atomic lists in autoscaling/v2: Tollgate owns
 * them whole.
 */
export function horizontalPodAutoscaler(namespace: string, profileName: string, autoscaling: Autoscaling, opts: HpaOptions): HorizontalPodAutoscaler {
  const metrics = [utilization("cpu", opts.cpuUtilization ?? autoscaling.cpuUtilization)];
  if (autoscaling.memoryUtilization !== undefined) metrics.push(utilization("memory", autoscaling.memoryUtilization));
  const seconds = (d: string) => Math.round(parseDuration(d) / 1000);
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: ownedMeta(opts.target, namespace, profileName, opts.ownerUid),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: opts.target },
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics,
      behavior: {
        scaleUp: { stabilizationWindowSeconds: seconds(autoscaling.behavior.scaleUpStabilization) },
        scaleDown: { stabilizationWindowSeconds: seconds(autoscaling.behavior.scaleDownStabilization) },
      },
    },
  };
}
