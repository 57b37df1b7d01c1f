import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyYaml, createNamespace, deleteNamespace, installCrds, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { waitFor } from "./support/wait.ts";

interface Profile {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string; reason: string; observedGeneration?: number; lastTransitionTime: string }>;
  };
}

const profile = (target: string) => `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: game-service}
spec:
  targetRef: {name: ${target}}
  slos:
    - name: availability
      objective: 99.5
      indicator: {istio: {kind: availability}}
`;

describe("tollgate controller", () => {
  let ns: string;
  let operator: OperatorProcess;
  beforeAll(async () => {
    await installCrds();
    ns = await createNamespace("e2e-controller");
    operator = startOperator(["--namespace", ns]);
  });
  afterAll(async () => {
    const code = await operator?.stop();
    await deleteNamespace(ns);
    expect(code).toBe(0);
  });

  it("sets Ready=True with the observed generation on a profile", async () => {
    await applyYaml(profile("game-service"), ns);
    const ready = await waitFor("Ready=True", async () => {
      const p = await kubectlJson<Profile>(["-n", ns, "get", "pp", "game-service"]);
      const c = p.status?.conditions?.find((x) => x.type === "Ready");
      return c?.status === "True" ? { p, c } : undefined;
    });
    expect(ready.c.reason).toBe("Reconciled");
    expect(ready.c.observedGeneration).toBe(ready.p.metadata.generation);
    expect(ready.p.status?.observedGeneration).toBe(ready.p.metadata.generation);
  });

  it("follows a spec change to the new generation, keeping lastTransitionTime while Ready holds", async () => {
    const before = await kubectlJson<Profile>(["-n", ns, "get", "pp", "game-service"]);
    const since = before.status?.conditions?.find((x) => x.type === "Ready")?.lastTransitionTime;
    await kubectlOk(["-n", ns, "patch", "pp", "game-service", "--type=merge", "-p", '{"spec":{"targetRef":{"name":"other"}}}']);
    const after = await waitFor("observedGeneration to follow", async () => {
      const p = await kubectlJson<Profile>(["-n", ns, "get", "pp", "game-service"]);
      return p.metadata.generation > before.metadata.generation && p.status?.observedGeneration === p.metadata.generation ? p : undefined;
    });
    const ready = after.status?.conditions?.find((x) => x.type === "Ready");
    expect(ready?.status).toBe("True");
    expect(ready?.observedGeneration).toBe(after.metadata.generation);
    expect(ready?.lastTransitionTime).toBe(since);
  });
});
