import { describe, expect, it } from "vitest";
import { autoscalingSchema } from "../api/autoscaling.ts";
import { horizontalPodAutoscaler } from "./autoscaler.ts";

const seed = autoscalingSchema.parse({ memoryUtilization: 80 });

describe("horizontalPodAutoscaler", () => {
  it("is the seed's HPA: 2-10 replicas, 70 % CPU, 80 % memory, 30s up / 300s down", () => {
    const hpa = horizontalPodAutoscaler("shop", "game", seed, { target: "game-primary", ownerUid: "uid-1" });
    expect(hpa.metadata.name).toBe("game-primary");
    expect(hpa.metadata.ownerReferences?.[0]?.name).toBe("game");
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "game-primary" },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
        { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } },
      ],
      behavior: { scaleUp: { stabilizationWindowSeconds: 30 }, scaleDown: { stabilizationWindowSeconds: 300 } },
    });
  });

  it("uses the boosted CPU target when given, and no memory metric when unset", () => {
    const a = autoscalingSchema.parse({ behavior: { scaleDownStabilization: "10m" } });
    const hpa = horizontalPodAutoscaler("shop", "game", a, { target: "game", ownerUid: "u", cpuUtilization: 50 });
    expect(hpa.spec.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }]);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(600);
  });
});
