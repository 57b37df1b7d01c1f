import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canarySchema } from "../src/api/canary.ts";
import { trafficPolicySchema } from "../src/api/traffic-policy.ts";
import { KubeClient } from "../src/kube/client.ts";
import { loadClusterAccess } from "../src/kube/cluster-access.ts";
import { isConflict } from "../src/kube/errors.ts";
import { applyDestinationRule, applyVirtualService } from "../src/kube/istio.ts";
import { Resources } from "../src/kube/resources.ts";
import { destinationRule, type DestinationRule } from "../src/traffic/destination-rule.ts";
import { virtualService, type VirtualService, type Weights } from "../src/traffic/virtual-service.ts";
import { loadClusterEnv } from "./support/env.ts";
import { applyYaml, createNamespace, deleteNamespace, installCrds, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { owns } from "./support/managed-fields.ts";
import { minimalProfileYaml } from "./support/workloads.ts";



const PROFILE = minimalProfileYaml("game");

// What an Argo CD sync of the user's Git manifest sends: only the user's own fields, its own manager, no force.
const argocdVirtualService = (annotation: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: game-service
  labels: {app.kubernetes.io/instance: shop, team: games}
  annotations: {example.com/owner: "${annotation}"}
spec:
  exportTo: ["."]
`;

const argocdApply = (ns: string, yaml: string, force = false) =>
  kubectl(["apply", "-n", ns, "--server-side", "--field-manager=argocd-controller", ...(force ? ["--force-conflicts"] : []), "-f", "-"], { input: yaml });

describe("Tollgate's DestinationRule and VirtualService on Istio's real CRDs", () => {
  let ns: string;
  let client: KubeClient;
  let uid: string;

  // kubectl hides managedFields unless asked; they are what these tests are about.
  const getDr = () => kubectlJson<DestinationRule>(["-n", ns, "get", "destinationrule", "game-service", "--show-managed-fields"]);
  const getVs = () => kubectlJson<VirtualService & { spec: { exportTo?: string[] } }>(["-n", ns, "get", "virtualservice", "game-service", "--show-managed-fields"]);
  const seedDr = () => destinationRule(ns, "game", trafficPolicySchema.parse({ circuitBreaker: {}, connectionPool: {} }), { subsets: true, host: "game-service", ownerUid: uid });
  const canary = canarySchema.parse({ service: { name: "game-service", port: 8080 } });
  const vs = (w: Weights) => virtualService(ns, "game", canary, w, uid);
  const weights = (v: VirtualService) => v.spec.http[0]?.route.map((r) => r.weight);

  beforeAll(async () => {
    await installCrds();
    client = new KubeClient(loadClusterAccess(loadClusterEnv().KUBECONFIG));
    ns = await createNamespace("e2e-istio");
    await applyYaml(PROFILE, ns);
    uid = (await kubectlJson<{ metadata: { uid: string } }>(["-n", ns, "get", "performanceprofile", "game"])).metadata.uid;
  });
  afterAll(async () => {
    await deleteNamespace(ns);
  });

  describe("DestinationRule", () => {
    it("is accepted with the seed's circuit breaker and connection pool, and matches the profile", async () => {
      const applied = await applyDestinationRule(client, seedDr());
      expect(applied.metadata.name).toBe("game-service");
      const live = await getDr();
      expect(live.spec).toEqual(seedDr().spec);
      expect(live.spec.trafficPolicy?.outlierDetection).toEqual({ consecutive5xxErrors: 5, interval: "30s", baseEjectionTime: "30s", maxEjectionPercent: 50 });
      expect(live.spec.trafficPolicy?.connectionPool).toEqual({
        tcp: { maxConnections: 100 },
        http: { http1MaxPendingRequests: 64, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3 },
      });
      expect(live.metadata.ownerReferences?.[0]).toMatchObject({ kind: "PerformanceProfile", name: "game", uid });
      expect(owns(live, "tollgate", ["f:spec", "f:trafficPolicy", "f:outlierDetection", "f:consecutive5xxErrors"])).toBe(true);
    });

    it("follows a changed profile, and a dropped part goes away with it", async () => {
      const tp = trafficPolicySchema.parse({
        circuitBreaker: { consecutiveErrors: 3, interval: "10s", baseEjectionTime: "1m", maxEjectionPercent: 30, minHealthPercent: 20 },
        connectionPool: { maxConnections: 50, connectTimeout: "500ms" },
      });
      await applyDestinationRule(client, destinationRule(ns, "game", tp, { subsets: true, host: "game-service", ownerUid: uid }));
      let live = await getDr();
      expect(live.spec.trafficPolicy?.outlierDetection).toEqual({ consecutive5xxErrors: 3, interval: "10s", baseEjectionTime: "60s", maxEjectionPercent: 30, minHealthPercent: 20 });
      expect(live.spec.trafficPolicy?.connectionPool?.tcp).toEqual({ maxConnections: 50, connectTimeout: "0.5s" });

      await applyDestinationRule(client, destinationRule(ns, "game", { circuitBreaker: tp.circuitBreaker }, { subsets: true, host: "game-service", ownerUid: uid }));
      live = await getDr();
      expect(live.spec.trafficPolicy).not.toHaveProperty("connectionPool");
      expect(live.spec.trafficPolicy?.outlierDetection?.consecutive5xxErrors).toBe(3);
    });

    it("restores a hand edit of its fields; an apply without force would conflict instead", async () => {
      await applyDestinationRule(client, seedDr());
      // What `kubectl edit` does: an update by another field manager, which takes the field over.
      await kubectlOk(["-n", ns, "patch", "destinationrule", "game-service", "--type=merge", "--field-manager=kubectl-edit",
        "-p", JSON.stringify({ spec: { trafficPolicy: { outlierDetection: { consecutive5xxErrors: 99 } } } })]);
      const edited = await getDr();
      expect(edited.spec.trafficPolicy?.outlierDetection?.consecutive5xxErrors).toBe(99);
      expect(owns(edited, "kubectl-edit", ["f:spec", "f:trafficPolicy", "f:outlierDetection", "f:consecutive5xxErrors"])).toBe(true);

      const unforced = await client.apply(Resources.DestinationRule, seedDr(), { force: false }).then(() => undefined, (err: unknown) => err);
      expect(isConflict(unforced)).toBe(true);

      await applyDestinationRule(client, seedDr());
      const live = await getDr();
      expect(live.spec.trafficPolicy?.outlierDetection?.consecutive5xxErrors).toBe(5);
      expect(owns(live, "tollgate", ["f:spec", "f:trafficPolicy", "f:outlierDetection", "f:consecutive5xxErrors"])).toBe(true);
      expect(owns(live, "kubectl-edit", ["f:spec", "f:trafficPolicy", "f:outlierDetection", "f:consecutive5xxErrors"])).toBe(false);
    });

    it("leaves another manager's trafficPolicy fields and labels alone, and they leave Tollgate's", async () => {
      const argo = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: game-service, labels: {team: games}}
spec:
  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
`;
      const first = await argocdApply(ns, argo);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      await applyDestinationRule(client, seedDr());
      const live = await getDr();
      expect(live.spec.trafficPolicy).toMatchObject({ loadBalancer: { simple: "LEAST_REQUEST" }, outlierDetection: { consecutive5xxErrors: 5 } });
      expect(live.metadata.labels).toMatchObject({ team: "games", "app.kubernetes.io/managed-by": "tollgate" });
      expect(owns(live, "argocd-controller", ["f:spec", "f:trafficPolicy", "f:loadBalancer"])).toBe(true);
      expect(owns(live, "argocd-controller", ["f:spec", "f:trafficPolicy", "f:outlierDetection"])).toBe(false);
    });

    it("in guard mode carries the trafficPolicy without subsets", async () => {
      const dr = destinationRule(ns, "game", trafficPolicySchema.parse({ circuitBreaker: {} }), { subsets: false, host: "game", ownerUid: uid });
      await applyDestinationRule(client, dr);
      const live = await kubectlJson<DestinationRule>(["-n", ns, "get", "destinationrule", "game"]);
      expect(live.spec).toEqual({ host: "game", trafficPolicy: { outlierDetection: { consecutive5xxErrors: 5, interval: "30s", baseEjectionTime: "30s", maxEjectionPercent: 50 } } });
    });
  });

  describe("VirtualService next to an Argo CD-style field manager", () => {
    it("keeps Argo CD's labels, annotations and exportTo through Tollgate's weight changes, and Tollgate's weights through Argo CD's re-apply", async () => {
      await applyVirtualService(client, vs({ primary: 100, canary: 0 }));
      const sync1 = await argocdApply(ns, argocdVirtualService("team-a"));
      expect(sync1.code, sync1.stderr).toBe(0);

      for (const canaryWeight of [10, 20]) {
        await applyVirtualService(client, vs({ primary: 100 - canaryWeight, canary: canaryWeight }));
      }
      let live = await getVs();
      expect(weights(live)).toEqual([80, 20]);
      expect(live.metadata.labels).toMatchObject({ team: "games", "app.kubernetes.io/instance": "shop", "tollgate.dev/profile": "game" });
      expect(live.metadata.annotations).toMatchObject({ "example.com/owner": "team-a" });
      expect(live.spec).toMatchObject({ exportTo: ["."], hosts: ["game-service"], gateways: ["mesh"] });
      expect(owns(live, "argocd-controller", ["f:metadata", "f:annotations", "f:example.com/owner"])).toBe(true);
      expect(owns(live, "argocd-controller", ["f:spec", "f:exportTo"])).toBe(true);

      // Argo CD syncs again, without force, with a changed annotation: no conflict, weights untouched.
      const sync2 = await argocdApply(ns, argocdVirtualService("team-b"));
      expect(sync2.code, sync2.stderr).toBe(0);
      live = await getVs();
      expect(weights(live)).toEqual([80, 20]);
      expect(live.metadata.annotations).toMatchObject({ "example.com/owner": "team-b" });
      expect(owns(live, "tollgate", ["f:spec", "f:http"])).toBe(true);
      expect(owns(live, "argocd-controller", ["f:spec", "f:http"])).toBe(false);

      // And Tollgate's next step still applies without a conflict, Argo CD's fields still there.
      await applyVirtualService(client, vs({ primary: 70, canary: 30 }));
      live = await getVs();
      expect(weights(live)).toEqual([70, 30]);
      expect(live.metadata.annotations).toMatchObject({ "example.com/owner": "team-b" });
      expect(live.spec.exportTo).toEqual(["."]);
    });

    it("cannot share a route: spec.http is one atomic list, so a route-level retries in Git fights Tollgate", async () => {
      await applyVirtualService(client, vs({ primary: 70, canary: 30 }));
      const withRetries = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: game-service}
spec:
  http:
  - name: tollgate-canary
    retries: {attempts: 3, perTryTimeout: 2s}
    route:
    - destination: {host: game-service, subset: primary, port: {number: 8080}}
      weight: 70
    - destination: {host: game-service, subset: canary, port: {number: 8080}}
      weight: 30
`;
      // Without force: a conflict over the whole list, even with Tollgate's own weights copied in.
      const refused = await argocdApply(ns, withRetries);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/conflict/i);
      expect(refused.stderr).toContain(".spec.http");

      // Argo CD's ServerSideApply=true forces: it takes the whole list...
      const forced = await argocdApply(ns, withRetries, true);
      expect(forced.code, forced.stderr).toBe(0);
      expect(owns(await getVs(), "tollgate", ["f:spec", "f:http"])).toBe(false);

      // ...and Tollgate's next step takes it back, retries gone: the route is Tollgate's alone.
      await applyVirtualService(client, vs({ primary: 60, canary: 40 }));
      const live = await getVs();
      expect(weights(live)).toEqual([60, 40]);
      expect(live.spec.http[0]).not.toHaveProperty("retries");
      expect(owns(live, "argocd-controller", ["f:spec", "f:http"])).toBe(false);
    });
  });
});
