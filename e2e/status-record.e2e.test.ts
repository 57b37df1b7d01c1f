import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PerformanceProfile } from "../src/api/types.ts";
import { StaleProfile, StatusRecorder } from "../src/controllers/profile/record.ts";
import { KubeClient } from "../src/kube/client.ts";
import { loadClusterAccess } from "../src/kube/cluster-access.ts";
import { Resources } from "../src/kube/resources.ts";
import { loadClusterEnv } from "./support/env.ts";
import { applyYaml, createNamespace, deleteNamespace, installCrds } from "./support/kubectl.ts";

// The API server itself refuses a status write planned from a stale copy: a new leader whose cache
// lags what the last one recorded cannot overwrite its outbox.
describe("status writes over a stale copy", () => {
  let ns: string;
  let client: KubeClient;
  beforeAll(async () => {
    await installCrds();
    client = new KubeClient(loadClusterAccess(loadClusterEnv().KUBECONFIG));
    ns = await createNamespace("e2e-status");
    await applyYaml(
      `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: game}
spec:
  targetRef: {name: game-service}
  slos:
    - {name: availability, objective: 99.5, window: 1m, indicator: {istio: {kind: availability}}}
`,
      ns,
    );
  });
  afterAll(async () => {
    await deleteNamespace(ns);
  });

  it("are refused by the API server, and the next pass gets the current copy", async () => {
    const read = await client.find<PerformanceProfile>(Resources.PerformanceProfile, ns, "game");
    if (!read) throw new Error("the profile was not created");
    // The last leader records a notification as delivered...
    const last = new StatusRecorder(client);
    const recorded = await last.record(read, { phase: "Frozen" }, { ifUnchanged: true });
    expect(Number(recorded.metadata?.resourceVersion)).toBeGreaterThan(Number(read.metadata?.resourceVersion));
    // ...and the next one, planning from the copy before that, may not write over it.
    const next = new StatusRecorder(client);
    await expect(next.record(read, { phase: "Frozen", outbox: [{ id: "n1", kind: "Notification", reason: "Frozen", message: "again", at: new Date().toISOString() }] }, { ifUnchanged: true })).rejects.toThrow(StaleProfile);
    const stored = await client.find<PerformanceProfile>(Resources.PerformanceProfile, ns, "game");
    expect(stored?.status?.outbox).toBeUndefined();
    expect(next.freshest(`${ns}/game`, read)?.metadata?.resourceVersion).toBe(stored?.metadata?.resourceVersion);
  });
});
