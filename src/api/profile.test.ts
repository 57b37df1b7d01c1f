import { describe, expect, it } from "vitest";
import { AUTOSCALING_DEFAULTS } from "./autoscaling.ts";
import { CANARY_DEFAULTS } from "./canary.ts";
import { POLICY_DEFAULTS } from "./policy.ts";
import { profileSpecSchema, profileStatusSchema, type ProfileSpecInput } from "./profile.ts";
import { indicatorKind } from "./slo.ts";
import { TRAFFIC_POLICY_DEFAULTS } from "./traffic-policy.ts";

const minimal: ProfileSpecInput = {
  targetRef: { name: "game-service" },
  slos: [{ name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } }],
};

describe("profileSpecSchema defaults", () => {
  it("fills the seed's error-budget policy when policy is omitted", () => {
    const spec = profileSpecSchema.parse(minimal);
    expect(spec.policy).toEqual({
      warnAt: 90,
      freezeAt: 100,
      rollbackAt: 150,
      unfreezeBelow: 70,
      evaluationInterval: "30s",
      onNoData: "Hold",
      minEvents: 100,
      stableAfter: "10m",
      rollback: { enabled: true },
    });
    expect(POLICY_DEFAULTS).toMatchObject({ warnAt: 90, freezeAt: 100, rollbackAt: 150, unfreezeBelow: 70 });
  });

  it("keeps given policy fields and defaults the rest", () => {
    const spec = profileSpecSchema.parse({ ...minimal, policy: { warnAt: 80, rollback: { enabled: false } } });
    expect(spec.policy).toMatchObject({ warnAt: 80, freezeAt: 100, unfreezeBelow: 70, rollback: { enabled: false } });
  });

  it("defaults targetRef to an apps/v1 Deployment and the SLO window to 30d", () => {
    const spec = profileSpecSchema.parse(minimal);
    expect(spec.targetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "game-service" });
    expect(spec.slos[0]?.window).toBe("30d");
  });

  it("leaves canary, trafficPolicy, autoscaling and prometheus absent unless asked for", () => {
    const spec = profileSpecSchema.parse(minimal);
    expect(spec.canary).toBeUndefined();
    expect(spec.trafficPolicy).toBeUndefined();
    expect(spec.autoscaling).toBeUndefined();
    expect(spec.prometheus).toBeUndefined();
  });

  it("fills the seed's canary: 10 % steps to 50 % every minute, burn rate 2, 3 failures, mesh gateway", () => {
    const spec = profileSpecSchema.parse({ ...minimal, canary: { service: { name: "game-service", port: 8080 } } });
    expect(spec.canary).toEqual({
      service: { name: "game-service", port: 8080, gateways: ["mesh"] },
      stepWeight: 10,
      maxWeight: 50,
      interval: "1m",
      maxBurnRate: 2,
      failureLimit: 3,
    });
    expect(CANARY_DEFAULTS.stepWeight).toBe(10);
  });

  it("fills the seed's circuit breaker (5 / 30s / 30s / 50 %) and connection pool", () => {
    const spec = profileSpecSchema.parse({ ...minimal, trafficPolicy: { circuitBreaker: {}, connectionPool: {} } });
    expect(spec.trafficPolicy).toEqual({
      circuitBreaker: { consecutiveErrors: 5, interval: "30s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
      connectionPool: { maxConnections: 100, http1MaxPendingRequests: 64, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3 },
    });
    expect(spec.trafficPolicy).toEqual(TRAFFIC_POLICY_DEFAULTS);
  });

  it("fills the seed's HPA: 2-10 replicas at 70 % CPU, 30s up, 300s down", () => {
    const spec = profileSpecSchema.parse({ ...minimal, autoscaling: {} });
    expect(spec.autoscaling).toEqual({
      minReplicas: 2,
      maxReplicas: 10,
      cpuUtilization: 70,
      behavior: { scaleUpStabilization: "30s", scaleDownStabilization: "300s" },
    });
    const boosted = profileSpecSchema.parse({ ...minimal, autoscaling: { memoryUtilization: 80, sloBoost: {} } });
    expect(boosted.autoscaling?.memoryUtilization).toBe(80);
    expect(boosted.autoscaling?.sloBoost).toEqual(AUTOSCALING_DEFAULTS.sloBoost);
  });

  it("defaults TLS verification on", () => {
    const spec = profileSpecSchema.parse({ ...minimal, prometheus: { tls: {} } });
    expect(spec.prometheus?.tls).toEqual({ insecureSkipVerify: false });
  });
});

describe("indicatorKind", () => {
  it("names the one indicator set", () => {
    expect(indicatorKind({ istio: { kind: "availability" } })).toBe("istio");
    expect(indicatorKind({ ratio: { errors: "a[{{window}}]", total: "b[{{window}}]" } })).toBe("ratio");
    expect(() => indicatorKind({})).toThrow();
  });
});

describe("profileStatusSchema", () => {
  const status = {
    observedGeneration: 3,
    phase: "Warning",
    budget: { consumedPercent: 93.4, remainingPercent: 6.6, worstSlo: "availability", worstBurnRate: 1.2 },
    slos: [
      {
        name: "availability",
        verdict: "Ok",
        sli: 99.53,
        consumedPercent: 93.4,
        remainingPercent: 6.6,
        burnRates: { "5m": 1.2, "1h": 0.9, "30d": 0.934 },
        events: 1_250_000,
        lastEvaluated: "2025-01-01T00:00:00Z",
      },
    ],
    lastKnownGood: { revision: 4, templateHash: "5d4f8b7c9", since: "2025-01-01T00:00:00Z" },
    canary: { phase: "Progressing", weight: 20, step: 2, failedChecks: 0 },
    conditions: [{ type: "Ready", status: "True", reason: "Reconciled", message: "ok", lastTransitionTime: "2025-01-01T00:00:00Z" }],
  };

  it("accepts the status Tollgate writes", () => {
    expect(profileStatusSchema.safeParse(status).success).toBe(true);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])("refuses a non-finite budget (%d)", (n) => {
    expect(profileStatusSchema.safeParse({ ...status, budget: { ...status.budget, consumedPercent: n } }).success).toBe(false);
  });

  it("refuses a phase outside the enum", () => {
    expect(profileStatusSchema.safeParse({ ...status, phase: "Burning" }).success).toBe(false);
  });
});
