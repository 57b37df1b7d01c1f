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

/** Istio keeps connection-pool sizes as int32: a larger number would make the DestinationRule itself invalid. */
export const ISTIO_INT32_MAX = 2_147_483_647;
const int32 = (min: number) => z.int().min(min).max(ISTIO_INT32_MAX);

export const circuitBreakerSchema = z
  .object({
    consecutiveErrors: z
      .int()
      .min(1)
      .max(1000)
      .default(cb.consecutiveErrors)
      .describe(
        "Consecutive 5xx responses (or connection failures) after which a pod is ejected from the load-balancing pool (Istio consecutive5xxErrors). 1 to 1000: a breaker that waits for more never trips. Defaults to 5.",
      ),
    interval: duration(
      "trafficPolicy.circuitBreaker.interval",
      "How often Istio scans the pods for ejection (outlierDetection.interval). 1s to 1h. Defaults to 30s.",
      { min: "1s", max: "1h" },
    ).default(cb.interval),
    baseEjectionTime: duration(
      "trafficPolicy.circuitBreaker.baseEjectionTime",
      "Minimum ejection time; a pod ejected again stays out longer, this times the number of ejections. 1s to 24h: a pod that must stay out longer is better replaced. Defaults to 30s.",
      { min: "1s", max: "24h" },
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
    maxConnections: int32(1)
      .default(cp.maxConnections)
      .describe("Most TCP connections to the service from each client sidecar (tcp.maxConnections). 1 to 2147483647 (Istio's int32). Defaults to 100."),
    connectTimeout: duration(
      "trafficPolicy.connectionPool.connectTimeout",
      "TCP connect timeout (tcp.connectTimeout), e.g. 10s. 1ms to 1m: a connection that takes longer to open is not coming. Unset leaves Istio's default (10s).",
      { min: "1ms", max: "1m" },
    ).optional(),
    http1MaxPendingRequests: int32(1)
      .default(cp.http1MaxPendingRequests)
      .describe("Most requests queued while waiting for a connection (http.http1MaxPendingRequests); more fail fast with 503. 1 to 2147483647 (Istio's int32). Defaults to 64."),
    http2MaxRequests: int32(1)
      .default(cp.http2MaxRequests)
      .describe("Most concurrent requests to the service (http.http2MaxRequests). 1 to 2147483647 (Istio's int32). Defaults to 1000."),
    maxRequestsPerConnection: int32(1)
      .default(cp.maxRequestsPerConnection)
      .describe("Requests per connection before it is closed and reopened (http.maxRequestsPerConnection), which spreads load over new pods. 1 to 2147483647 (Istio's int32). Defaults to 10."),
    maxRetries: int32(0)
      .default(cp.maxRetries)
      .describe("Most concurrent retries to the service across all its pods (http.maxRetries). 0 to 2147483647 (Istio's int32). Defaults to 3."),
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
