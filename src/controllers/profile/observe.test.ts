import { describe, expect, it } from "vitest";
import type { ProfileSpec } from "../../api/profile.ts";
import type { HorizontalPodAutoscaler } from "../../traffic/index.ts";
import type { ReplicaSet } from "../../workload/deployment.ts";
import { observe, type ManagedIndex, type ObserveDeps } from "./observe.ts";
import { deployment, informer, NS, profile, replicaSet } from "./test-builders.ts";

const spec = { targetRef: { name: "game-service" }, slos: [], policy: { evaluationInterval: "30s" } } as unknown as ProfileSpec;

function hpa(name: string, namespace: string, ownerUid: string): HorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name, namespace, ownerReferences: [{ apiVersion: "tollgate.dev/v1alpha1", kind: "PerformanceProfile", name: "game", uid: ownerUid, controller: true }] },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name }, minReplicas: 1, maxReplicas: 2 },
  } as HorizontalPodAutoscaler;
}

describe("observe: what a pass reads of the caches", () => {
  // A deleting profile's pass reads the caches and nothing else (no Prometheus), which is what is under test.
  const p = profile("game", spec, { deleting: true });
  const target = deployment("game-service");
  const other = deployment("other-service");
  const elsewhere = { ...deployment("game-service"), metadata: { ...deployment("game-service").metadata, namespace: "elsewhere", uid: "uid-elsewhere" } };
  const rsElsewhere = { ...replicaSet(target, 1, "zzz"), metadata: { ...replicaSet(target, 1, "zzz").metadata, namespace: "elsewhere" } };
  const deps = {
    deployments: informer([target, other, elsewhere]),
    replicaSets: informer<ReplicaSet, "owner">([replicaSet(target, 1, "aaa"), replicaSet(target, 2, "bbb"), replicaSet(other, 1, "ccc"), rsElsewhere]),
    hpas: informer<HorizontalPodAutoscaler, ManagedIndex>([hpa("game-service", NS, "uid-game"), hpa("other-service", NS, "uid-other"), hpa("stray", "elsewhere", "uid-game")]),
  } as unknown as ObserveDeps;

  it("takes the ReplicaSets of the Deployments the pass governs, by owner uid, and no other Deployment's", async () => {
    const s = await observe(deps, p, new Date(), new Set());
    expect([...s.deployments.keys()]).toEqual(["game-service"]);
    expect(s.replicaSets.map((rs) => rs.metadata?.name).sort()).toEqual(["game-service-aaa", "game-service-bbb"]);
  });

  it("takes the managed objects of the profile's namespace, and of those the profile's own", async () => {
    const s = await observe(deps, p, new Date(), new Set());
    expect(s.managed.hpas.map((h) => h.metadata.name).sort()).toEqual(["game-service", "other-service"]);
    // An owner reference from another namespace names some other object: not this profile's.
    expect(s.owned.hpas.map((h) => h.metadata.name)).toEqual(["game-service"]);
    expect(s.managed.virtualServices).toEqual([]);
  });
});
