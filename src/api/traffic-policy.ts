import { z } from "zod";
import { duration } from "./duration.ts";

/** The seeds' circuit breaker (5 errors / 30s / 30s / 50 %) and connection pool (100 / 64 / 1000 / 10 / 3). */
export const TRAFFIC_POLICY_DEFAULTS = {
  circuitBreaker: { consecutiveErrors: 5, interval: "30s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
  connectionPool: { maxConnections: 100, http1MaxPendingRequests: 64, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3 },
} as const;

const cb = TRAFFIC_POLICY_DEFAULTS.circuitBreaker;
const cp = TRAFFIC_POLICY_DEFAULTS.connectionPool;

const percent = z.int().min(0).max(100);

export const circuitBreakerSchema = z
  .object({
    consecutiveErrors: z
      .int()
      .min(1)
      .default(cb.consecutiveErrors)
      .describe("Consecutive 5xx responses (or connection failures) after which a pod is ejected from the load-balancing pool (Istio consecutive5xxErrors). Defaults to 5."),
    interval: duration(
      "trafficPolicy.circuitBreaker.interval",
      "How often Istio scans the pods for ejection (outlierDetection.interval). Defaults to 30s.",
    ).default(cb.interval),
    baseEjectionTime: duration(
      "trafficPolicy.circuitBreaker.baseEjectionTime",
      "Minimum ejection time; a pod ejected again stays out longer, this times the number of ejections. Defaults to 30s.",
    ).default(cb.baseEjectionTime),
    maxEjectionPercent: percent
      .default(cb.maxEjectionPercent)
      .describe("Most pods, in percent of the pool, that may be ejected at once, so the breaker never ejects the whole service. 0 to 100; defaults to 50."),
    minHealthPercent: percent
      .optional()
      .describe("Outlier detection stays off while fewer than this percent of pods are healthy, e.g. 30. 0 to 100; unset leaves Istio's default (0: always on)."),
  })
  .describe("Outlier detection (the circuit breaker): pods that keep failing leave the pool for a while. Written to the DestinationRule's trafficPolicy.outlierDetection.");

export const connectionPoolSchema = z
  .object({
    maxConnections: z
      .int()
      .min(1)
      .default(cp.maxConnections)
      .describe("Most TCP connections to the service from each client sidecar (tcp.maxConnections). Defaults to 100."),
    connectTimeout: duration(
      "trafficPolicy.connectionPool.connectTimeout",
      "TCP connect timeout (tcp.connectTimeout), e.g. 10s. Unset leaves Istio's default (10s).",
    ).optional(),
    http1MaxPendingRequests: z
      .int()
      .min(1)
      .default(cp.http1MaxPendingRequests)
      .describe("Most requests queued while waiting for a connection (http.http1MaxPendingRequests); more fail fast with 503. Defaults to 64."),
    http2MaxRequests: z
      .int()
      .min(1)
      .default(cp.http2MaxRequests)
      .describe("Most concurrent requests to the service (http.http2MaxRequests). Defaults to 1000."),
    maxRequestsPerConnection: z
      .int()
      .min(1)
      .default(cp.maxRequestsPerConnection)
      .describe("Requests per connection before it is closed and reopened (http.maxRequestsPerConnection), which spreads load over new pods. Defaults to 10."),
    maxRetries: z
      .int()
      .min(0)
      .default(cp.maxRetries)
      .describe("Most concurrent retries to the service across all its pods (http.maxRetries). Defaults to 3."),
  })
  .describe("Connection and request limits of each client sidecar towards the service. Written to the DestinationRule's trafficPolicy.connectionPool.");

export const trafficPolicySchema = z
  .object({
    circuitBreaker: circuitBreakerSchema.optional(),
    connectionPool: connectionPoolSchema.optional(),
  })
  .describe(
    "The Istio DestinationRule trafficPolicy Tollgate keeps for the service (circuitBreaker, connectionPool); the same DestinationRule carries the canary's subsets. Set a part to {} for the seeds' defaults; an absent part is left to Istio's defaults.",
  );

export type TrafficPolicy = z.output<typeof trafficPolicySchema>;
