import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "../src/kube/client.ts";
import { loadClusterAccess } from "../src/kube/cluster-access.ts";
import { freezeDeployment, readDeploymentState, rollBackDeployment, unfreezeDeployment } from "../src/kube/deployments.ts";
import { loadClusterEnv } from "./support/env.ts";
import { applyYaml, createNamespace, deleteNamespace, installCrds, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";

const REASON = "availability consumed 104.2 % of its 30d budget (freeze at 100 %)";

interface Deployment {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { paused?: boolean; template: { spec: { containers: Array<{ image: string }> } } };
}

describe("freezing, rolling back and unfreezing a Deployment", () => {
  let ns: string;
  let client: KubeClient;
  beforeAll(async () => {
    await installCrds();
    client = new KubeClient(loadClusterAccess(loadClusterEnv().KUBECONFIG));
    ns = await createNamespace("e2e-freeze");
    await applyYaml(deploymentYaml("game-service", "registry.example/game-service:1.0.0"), ns);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
    await kubectlOk(["-n", ns, "set", "image", "deployment/game-service", "app=registry.example/game-service:1.1.0"]);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
  });
  afterAll(async () => {
    await deleteNamespace(ns);
  });

  it("reads the live revision and the revisions it can return to", async () => {
    const read = await readDeploymentState(client, ns, "game-service");
    expect(read?.state).toMatchObject({ revision: 2, rolloutComplete: true, paused: false, frozen: false });
    expect(read?.state.revisions.map((r) => r.revision)).toEqual([2, 1]);
    expect(read?.state.templateHash).toBe(read?.state.revisions[0]?.templateHash);
  });

  it("refuses an image update to a frozen Deployment with the profile, SLO and budget in the message", async () => {
    await freezeDeployment(client, ns, "game-service", "game-service", REASON);
    const d = await kubectlJson<Deployment>(["-n", ns, "get", "deployment", "game-service"]);
    expect(d.spec.paused).toBe(true);
    expect(d.metadata.labels?.["tollgate.dev/frozen"]).toBe("true");

    const refused = await waitFor("the admission policy to refuse the update", async () => {
      const res = await kubectl(["-n", ns, "set", "image", "deployment/game-service", "app=registry.example/game-service:1.2.0"]);
      return res.code !== 0 ? res : undefined;
    });
    expect(refused.stderr).toContain(
      `Deployment game-service is frozen by PerformanceProfile game-service: ${REASON}. New pod templates do not roll out until the freeze lifts.`,
    );
    expect(refused.stderr).toContain("tollgate.dev/override-freeze");
    const resume = await kubectl(["-n", ns, "rollout", "resume", "deployment/game-service"]);
    expect(resume.code).not.toBe(0);
    expect(resume.stderr).toContain("It stays paused until the freeze lifts");
    const unlabel = await kubectl(["-n", ns, "label", "deployment/game-service", "tollgate.dev/frozen-"]);
    expect(unlabel.code).not.toBe(0);
    expect(unlabel.stderr).toContain("Only Tollgate lifts the tollgate.dev/frozen label");
    // Scaling (what the HPA does) stays possible while frozen.
    await kubectlOk(["-n", ns, "scale", "deployment/game-service", "--replicas=3"]);
    const after = await kubectlJson<Deployment>(["-n", ns, "get", "deployment", "game-service"]);
    expect(after.spec.template.spec.containers[0]?.image).toBe("registry.example/game-service:1.1.0");
  });

  it("is idempotent: freezing a frozen Deployment changes nothing", async () => {
    // The scale above is still being carried out: the Deployment controller writes the status until
    // every replica it asked for is ready. The object is read once that has settled, so the only
    // writer left to change it would be the second freeze.
    const before = await waitFor("the scaled Deployment's status to settle", async () => {
      const d = await kubectlJson<{ metadata: { resourceVersion: string; generation: number }; spec: { replicas: number }; status?: { observedGeneration?: number; replicas?: number; readyReplicas?: number; availableReplicas?: number } }>(["-n", ns, "get", "deployment", "game-service"]);
      const s = d.status ?? {};
      const settled = s.observedGeneration === d.metadata.generation && s.replicas === d.spec.replicas && s.readyReplicas === d.spec.replicas && s.availableReplicas === d.spec.replicas;
      return settled ? d : undefined;
    });
    await freezeDeployment(client, ns, "game-service", "game-service", REASON);
    const after = await kubectlJson<{ metadata: { resourceVersion: string } }>(["-n", ns, "get", "deployment", "game-service"]);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it("rolls a frozen Deployment back to an earlier revision's template, and the rollout completes", async () => {
    const read = (await readDeploymentState(client, ns, "game-service"))!;
    const good = read.state.revisions.find((r) => r.revision === 1)!;
    await rollBackDeployment(client, read.deployment, read.replicaSets, good.templateHash);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=90s"]);
    const after = (await readDeploymentState(client, ns, "game-service"))!;
    expect(after.state.templateHash).toBe(good.templateHash);
    expect(after.state.revision).toBe(3); // the controller re-numbers the reused ReplicaSet, as for `rollout undo`
    expect(after.state.rolloutComplete).toBe(true);
    expect(after.state.frozen).toBe(true);
    const d = await kubectlJson<Deployment>(["-n", ns, "get", "deployment", "game-service"]);
    expect(d.spec.template.spec.containers[0]?.image).toBe("registry.example/game-service:1.0.0");
  });

  it("lifts the freeze: label, annotations and pause gone, updates allowed again", async () => {
    await unfreezeDeployment(client, ns, "game-service");
    const d = await kubectlJson<Deployment>(["-n", ns, "get", "deployment", "game-service"]);
    expect(d.metadata.labels?.["tollgate.dev/frozen"]).toBeUndefined();
    expect(d.metadata.annotations?.["tollgate.dev/freeze-reason"]).toBeUndefined();
    expect(d.spec.paused ?? false).toBe(false);
    await kubectlOk(["-n", ns, "set", "image", "deployment/game-service", "app=registry.example/game-service:1.2.0"]);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
  });
});
