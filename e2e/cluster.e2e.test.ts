import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyYaml, createNamespace, deleteNamespace, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";

interface Deployment {
  metadata: { annotations?: Record<string, string>; generation: number };
  status?: { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number; replicas?: number };
}
interface ReplicaSet {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { template: { spec: { containers: Array<{ image: string }> } } };
  status: { replicas: number; readyReplicas?: number };
}
interface Pod {
  spec: { nodeName?: string };
  status: { phase: string; conditions?: Array<{ type: string; status: string }> };
}

describe("the test cluster", () => {
  let ns: string;
  beforeAll(async () => {
    ns = await createNamespace("e2e-cluster");
  });
  afterAll(async () => {
    await deleteNamespace(ns);
  });

  it("runs a Deployment's pods to Ready on the kwok node", async () => {
    await applyYaml(deploymentYaml("game-service", "registry.example/game-service:1.0.0"), ns);
    const ready = await waitFor("2 ready replicas", async () => {
      const d = await kubectlJson<Deployment>(["-n", ns, "get", "deployment", "game-service"]);
      return d.status?.readyReplicas === 2 ? d : undefined;
    });
    expect(ready.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    const pods = await kubectlJson<{ items: Pod[] }>(["-n", ns, "get", "pods", "-l", "app=game-service"]);
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.spec.nodeName).toBe("kwok-node-0");
      expect(pod.status.phase).toBe("Running");
      expect(pod.status.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    }
  });

  it("rolls out a new ReplicaSet at revision 2 when the image changes", async () => {
    await kubectlOk(["-n", ns, "set", "image", "deployment/game-service", "app=registry.example/game-service:1.1.0"]);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=90s"]);
    const rs = await kubectlJson<{ items: ReplicaSet[] }>(["-n", ns, "get", "replicasets", "-l", "app=game-service"]);
    const byRevision = new Map(rs.items.map((r) => [r.metadata.annotations?.["deployment.kubernetes.io/revision"], r]));
    expect([...byRevision.keys()].sort()).toEqual(["1", "2"]);
    expect(byRevision.get("2")?.spec.template.spec.containers[0]?.image).toBe("registry.example/game-service:1.1.0");
    expect(byRevision.get("2")?.status.readyReplicas).toBe(2);
    expect(byRevision.get("1")?.status.replicas).toBe(0);
    const d = await kubectlJson<Deployment>(["-n", ns, "get", "deployment", "game-service"]);
    expect(d.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("2");
  });

  it("serves Istio's real networking CRDs: valid objects are accepted, a string weight is refused", async () => {
    await applyYaml(
      `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: game-service}
spec:
  host: game-service
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 5, interval: 30s, baseEjectionTime: 30s, maxEjectionPercent: 50}
  subsets:
    - {name: primary, labels: {app: game-service}}
    - {name: canary, labels: {app: game-service-canary}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: game-service}
spec:
  hosts: [game-service]
  http:
    - route:
        - {destination: {host: game-service, subset: primary}, weight: 90}
        - {destination: {host: game-service, subset: canary}, weight: 10}
`,
      ns,
    );
    const vs = await kubectlJson<{ spec: { http: Array<{ route: Array<{ weight: number }> }> } }>(["-n", ns, "get", "virtualservice", "game-service"]);
    expect(vs.spec.http[0]?.route.map((r) => r.weight)).toEqual([90, 10]);

    const bad = await kubectl(["-n", ns, "apply", "-f", "-"], {
      input: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken}
spec:
  hosts: [game-service]
  http:
    - route:
        - {destination: {host: game-service, subset: primary}, weight: "ninety"}
`,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/weight/);
    expect(bad.stderr).toMatch(/integer|must be of type/i);
    const missing = await kubectl(["-n", ns, "get", "virtualservice", "broken"]);
    expect(missing.code).not.toBe(0);
  });
});
