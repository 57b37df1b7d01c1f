import { describe, expect, it } from "vitest";
import { autoscalingSchema } from "../api/autoscaling.ts";
import { hpaSpec } from "./hpa.ts";

const profile = { namespace: "games", name: "game-service", uid: "0b6f2a4e-uid" };
const cpu = (n: number) => ({ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: n } } });
const memory = (n: number) => ({ type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: n } } });

const cases = [
  {
    name: "the seed's HPA on the primary: 2-10, 70 % CPU, 80 % memory, 30s up, 300s down",
    autoscaling: { memoryUtilization: 80 },
    target: "game-service-primary",
    cpuTarget: 70,
    spec: { minReplicas: 2, maxReplicas: 10, metrics: [cpu(70), memory(80)], behavior: { scaleUp: { stabilizationWindowSeconds: 30 }, scaleDown: { stabilizationWindowSeconds: 300 } } },
  },
  {
    name: "boosted: the effective CPU target, not the spec's",
    autoscaling: { sloBoost: {} },
    target: "game-service-primary",
    cpuTarget: 50,
    spec: { metrics: [cpu(50)] },
  },
  {
    name: "guard mode on the target, custom bounds and windows",
    autoscaling: { minReplicas: 3, maxReplicas: 30, cpuUtilization: 60, behavior: { scaleUpStabilization: "0s", scaleDownStabilization: "1h" } },
    target: "game-service",
    cpuTarget: 60,
    spec: { minReplicas: 3, maxReplicas: 30, metrics: [cpu(60)], behavior: { scaleUp: { stabilizationWindowSeconds: 0 }, scaleDown: { stabilizationWindowSeconds: 3600 } } },
  },
];

describe("hpaSpec", () => {
  it.each(cases)("$name", (c) => {
    const hpa = hpaSpec(profile, autoscalingSchema.parse(c.autoscaling), c.target, c.cpuTarget);
    expect(hpa).toMatchObject({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: c.target, namespace: "games" } });
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: c.target });
    expect(hpa.spec).toMatchObject(c.spec);
    expect(hpa.metadata.ownerReferences?.[0]).toMatchObject({ kind: "PerformanceProfile", name: "game-service", uid: profile.uid });
  });

  it("writes only the fields Tollgate owns: no status, no scaling policies", () => {
    const hpa = hpaSpec(profile, autoscalingSchema.parse({}), "game-service", 70);
    expect(Object.keys(hpa).sort()).toEqual(["apiVersion", "kind", "metadata", "spec"]);
    expect(hpa.spec.behavior).toEqual({ scaleUp: { stabilizationWindowSeconds: 30 }, scaleDown: { stabilizationWindowSeconds: 300 } });
  });
});
