import { describe, expect, it } from "vitest";
import { trafficPolicySchema } from "../api/traffic-policy.ts";
import { destinationRule, istioTrafficPolicy } from "./destination-rule.ts";

const seeds = trafficPolicySchema.parse({ circuitBreaker: {}, connectionPool: {} });
const opts = { host: "game-service", ownerUid: "uid-1" };

describe("destinationRule", () => {
  it("carries the seeds' circuit breaker and connection pool in Istio's current field names", () => {
    const dr = destinationRule("shop", "game", seeds, { ...opts, subsets: false });
    expect(dr.spec.trafficPolicy).toEqual({
      outlierDetection: { consecutive5xxErrors: 5, interval: "30s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
      connectionPool: {
        tcp: { maxConnections: 100 },
        http: { http1MaxPendingRequests: 64, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3 },
      },
    });
    expect(dr.spec).not.toHaveProperty("subsets");
    expect(dr.spec.host).toBe("game-service");
  });

  it("writes durations as seconds, which both Istio and its CRD's CEL read", () => {
    const tp = trafficPolicySchema.parse({
      circuitBreaker: { interval: "1m", baseEjectionTime: "1h30m", minHealthPercent: 30 },
      connectionPool: { connectTimeout: "500ms" },
    });
    const p = istioTrafficPolicy(tp);
    expect(p?.outlierDetection).toMatchObject({ interval: "60s", baseEjectionTime: "5400s", minHealthPercent: 30 });
    expect(p?.connectionPool?.tcp).toEqual({ maxConnections: 100, connectTimeout: "0.5s" });
  });

  it("leaves out what the profile does not set, so Istio's defaults and other managers' fields stay", () => {
    expect(istioTrafficPolicy(undefined)).toBeUndefined();
    expect(istioTrafficPolicy({})).toBeUndefined();
    const onlyPool = istioTrafficPolicy(trafficPolicySchema.parse({ connectionPool: {} }));
    expect(onlyPool).not.toHaveProperty("outlierDetection");
    const dr = destinationRule("shop", "game", undefined, { ...opts, subsets: true });
    expect(dr.spec).not.toHaveProperty("trafficPolicy");
  });

  it("adds primary and canary subsets selected by the track label in canary mode", () => {
    const dr = destinationRule("shop", "game", seeds, { ...opts, subsets: true });
    expect(dr.spec.subsets).toEqual([
      { name: "primary", labels: { "tollgate.dev/track": "primary" } },
      { name: "canary", labels: { "tollgate.dev/track": "canary" } },
    ]);
  });

  it("is named after the host and owned by the profile", () => {
    const dr = destinationRule("shop", "game", seeds, { ...opts, subsets: true });
    expect(dr.metadata).toEqual({
      name: "game-service",
      namespace: "shop",
      labels: { "app.kubernetes.io/managed-by": "tollgate", "tollgate.dev/profile": "game" },
      ownerReferences: [
        { apiVersion: "tollgate.dev/v1alpha1", kind: "PerformanceProfile", name: "game", uid: "uid-1", controller: true, blockOwnerDeletion: true },
      ],
    });
  });
});
