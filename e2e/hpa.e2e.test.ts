import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { autoscalingSchema } from "../src/api/autoscaling.ts";
import { KubeClient } from "../src/kube/client.ts";
import { loadClusterAccess } from "../src/kube/cluster-access.ts";
import { applyHpa } from "../src/kube/hpa.ts";
import { horizontalPodAutoscaler, type HorizontalPodAutoscaler } from "../src/traffic/autoscaler.ts";
import { loadClusterEnv } from "./support/env.ts";
import { applyYaml, createNamespace, deleteNamespace, installCrds, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { deploymentYaml, minimalProfileYaml } from "./support/workloads.ts";
import { owns } from "./support/managed-fields.ts";


const PROFILE = minimalProfileYaml("game");

describe("Tollgate's HorizontalPodAutoscaler (autoscaling/v2)", () => {
  let ns: string;
  let client: KubeClient;
  let uid: string;
  // The seed: 2-10 replicas, 70 % CPU, 80 % memory, 30s up / 300s down (the last two are the defaults).
  const seed = autoscalingSchema.parse({ memoryUtilization: 80 });
  const hpa = (cpuUtilization?: number) =>
    horizontalPodAutoscaler(ns, "game", seed, { target: "game-primary", ownerUid: uid, ...(cpuUtilization ? { cpuUtilization } : {}) });
  const live = () => kubectlJson<HorizontalPodAutoscaler>(["-n", ns, "get", "hpa", "game-primary", "--show-managed-fields"]);

  beforeAll(async () => {
    await installCrds();
    client = new KubeClient(loadClusterAccess(loadClusterEnv().KUBECONFIG));
    ns = await createNamespace("e2e-hpa");
    await applyYaml(PROFILE, ns);
    await applyYaml(deploymentYaml("game-primary", "registry.example/game-service:1.0.0"), ns);
    uid = (await kubectlJson<{ metadata: { uid: string } }>(["-n", ns, "get", "performanceprofile", "game"])).metadata.uid;
  });
  afterAll(async () => {
    await deleteNamespace(ns);
  });

  it("is accepted with the seed's numbers and matches the profile", async () => {
    await applyHpa(client, hpa());
    const h = await live();
    expect(h.spec).toMatchObject({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "game-primary" },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
        { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } },
      ],
      behavior: { scaleUp: { stabilizationWindowSeconds: 30 }, scaleDown: { stabilizationWindowSeconds: 300 } },
    });
    expect(h.metadata.ownerReferences?.[0]).toMatchObject({ kind: "PerformanceProfile", uid });
    // The API server's defaulted scaling policies are there and belong to no manager, so no one fights over them.
    expect(h.spec.behavior.scaleDown).toHaveProperty("policies");
    expect(owns(h, "tollgate", ["f:spec", "f:behavior", "f:scaleDown", "f:stabilizationWindowSeconds"])).toBe(true);
    expect(owns(h, "tollgate", ["f:spec", "f:behavior", "f:scaleDown", "f:policies"])).toBe(false);
  });

  it("applies a changed CPU target (the SLO boost)", async () => {
    await applyHpa(client, hpa(50));
    expect((await live()).spec.metrics[0]?.resource.target.averageUtilization).toBe(50);
    await applyHpa(client, hpa());
    expect((await live()).spec.metrics[0]?.resource.target.averageUtilization).toBe(70);
  });

  it("restores a hand edit of minReplicas and leaves other managers' labels alone", async () => {
    await kubectlOk(["-n", ns, "patch", "hpa", "game-primary", "--type=merge", "--field-manager=kubectl-edit", "-p", '{"spec":{"minReplicas":5}}']);
    expect((await live()).spec.minReplicas).toBe(5);
    const argo = await kubectl(["apply", "-n", ns, "--server-side", "--field-manager=argocd-controller", "-f", "-"], {
      input: "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: game-primary, labels: {team: games}}\n",
    });
    expect(argo.code, argo.stderr).toBe(0);

    await applyHpa(client, hpa());
    const h = await live();
    expect(h.spec.minReplicas).toBe(2);
    expect(owns(h, "kubectl-edit", ["f:spec", "f:minReplicas"])).toBe(false);
    expect(h.metadata.labels).toMatchObject({ team: "games", "app.kubernetes.io/managed-by": "tollgate" });
    expect(owns(h, "argocd-controller", ["f:metadata", "f:labels", "f:team"])).toBe(true);
  });
});
