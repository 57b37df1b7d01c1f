import type { TrafficPolicy } from "../api/traffic-policy.ts";
import { parseDuration } from "../api/duration.ts";
import type { KubeObject, ObjectMeta } from "../kube/types.ts";
import { CANARY, PRIMARY, TRACK_LABEL } from "./labels.ts";
import { ownedMeta, secondsDuration } from "./meta.ts";

export interface OutlierDetection {
  consecutive5xxErrors: number;
  interval: string;
  baseEjectionTime: string;
  maxEjectionPercent: number;
  minHealthPercent?: number;
}

export interface ConnectionPool {
  tcp: { maxConnections: number; connectTimeout?: string };
  http: { http1MaxPendingRequests: number; http2MaxRequests: number; maxRequestsPerConnection: number; maxRetries: number };
}

export interface IstioTrafficPolicy {
  outlierDetection?: OutlierDetection;
  connectionPool?: ConnectionPool;
}

export interface Subset {
  name: string;
  labels: Record<string, string>;
}

export interface DestinationRule extends KubeObject {
  apiVersion: "networking.istio.io/v1";
  kind: "DestinationRule";
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: { host: string; trafficPolicy?: IstioTrafficPolicy; subsets?: Subset[] };
}

export interface DestinationRuleOptions {
  /** Canary mode: add the primary and canary subsets. Guard mode (no canary) carries only trafficPolicy. */
  subsets: boolean;
  /** The Service's short name; it also names the DestinationRule (see docs/argo-cd.md). */
  host: string;
  /** The profile's uid, for the owner reference. */
  ownerUid: string;
}

/**
 * The API's circuit breaker as Istio outlier detection. `consecutiveErrors` becomes
 * `consecutive5xxErrors` (any 5xx, and for HTTP also connection failures), as the API documents it,
 * not the deprecated `consecutiveErrors`, which Istio read as gateway errors (502/503/504) only.
 * `consecutiveGatewayErrors` is left unset: gateway errors are 5xx, so the same
 * threshold there could never eject a pod the 5xx count had not ejected already.
 */
export function outlierDetection(cb: NonNullable<TrafficPolicy["circuitBreaker"]>): OutlierDetection {
  return {
    consecutive5xxErrors: cb.consecutiveErrors,
    interval: secondsDuration(parseDuration(cb.interval)),
    baseEjectionTime: secondsDuration(parseDuration(cb.baseEjectionTime)),
    maxEjectionPercent: cb.maxEjectionPercent,
    ...(cb.minHealthPercent !== undefined ? { minHealthPercent: cb.minHealthPercent } : {}),
  };
}

export function connectionPool(cp: NonNullable<TrafficPolicy["connectionPool"]>): ConnectionPool {
  return {
    tcp: {
      maxConnections: cp.maxConnections,
      ...(cp.connectTimeout !== undefined ? { connectTimeout: secondsDuration(parseDuration(cp.connectTimeout)) } : {}),
    },
    http: {
      http1MaxPendingRequests: cp.http1MaxPendingRequests,
      http2MaxRequests: cp.http2MaxRequests,
      maxRequestsPerConnection: cp.maxRequestsPerConnection,
      maxRetries: cp.maxRetries,
    },
  };
}

/** Only the parts the profile sets: an absent part leaves Istio's defaults, and another manager's fields. */
export function istioTrafficPolicy(tp: TrafficPolicy | undefined): IstioTrafficPolicy | undefined {
  if (!tp?.circuitBreaker && !tp?.connectionPool) return undefined;
  return {
    ...(tp.circuitBreaker ? { outlierDetection: outlierDetection(tp.circuitBreaker) } : {}),
    ...(tp.connectionPool ? { connectionPool: connectionPool(tp.connectionPool) } : {}),
  };
}

/**
 * The DestinationRule Tollgate applies: host, the profile's trafficPolicy, and in canary mode the two
 * subsets. Everything else (loadBalancer, tls, exportTo, other labels) stays free for other managers;
 * a part the profile drops disappears at the next apply, because Tollgate no longer applies it.
 */
export function destinationRule(namespace: string, profileName: string, trafficPolicy: TrafficPolicy | undefined, opts: DestinationRuleOptions): DestinationRule {
  const policy = istioTrafficPolicy(trafficPolicy);
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: ownedMeta(opts.host, namespace, profileName, opts.ownerUid),
    spec: {
      host: opts.host,
      ...(policy ? { trafficPolicy: policy } : {}),
      ...(opts.subsets
        ? {
            subsets: [
              { name: PRIMARY, labels: { [TRACK_LABEL]: PRIMARY } },
              { name: CANARY, labels: { [TRACK_LABEL]: CANARY } },
            ],
          }
        : {}),
    },
  };
}
