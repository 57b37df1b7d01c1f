import type { Canary } from "../api/canary.ts";
import type { KubeObject, ObjectMeta } from "../kube/types.ts";
import { CANARY, PRIMARY } from "./labels.ts";
import { ownedMeta } from "./meta.ts";

export interface Weights {
  primary: number;
  canary: number;
}

export interface RouteDestination {
  destination: { host: string; subset: string; port: { number: number } };
  weight: number;
}

export interface HttpRoute {
  name: string;
  route: RouteDestination[];
}

export interface VirtualService extends KubeObject {
  apiVersion: "networking.istio.io/v1";
  kind: "VirtualService";
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: { hosts: string[]; gateways: string[]; http: HttpRoute[] };
}

/** The name of Tollgate's HTTP route; it shows in Istio's telemetry and config dumps. */
export const ROUTE_NAME = "tollgate-canary";

export function checkWeights(w: Weights): void {
  const ok = (n: number) => Number.isInteger(n) && n >= 0 && n <= 100;
  if (!ok(w.primary) || !ok(w.canary) || w.primary + w.canary !== 100) {
    throw new Error(`canary weights must be whole percents adding up to 100, got primary=${w.primary} canary=${w.canary}`);
  }
}

/**
 * The VirtualService that splits the Service's HTTP traffic between the primary and canary subsets.
 * Both destinations are always present (weight 0 included) so a weight change touches only the numbers.
 * No port match: a match on the Service port would miss traffic arriving through a gateway on the
 * gateway's port; the destination port picks the Service port instead.
 *
 * Istio's CRD declares no list types, so `spec.http` is one atomic list under server-side apply: whoever
 * applies it owns every route in it. Route-level settings (retries, timeout) therefore cannot be owned by
 * another manager; they have to come from Tollgate (see docs/argo-cd.md).
 */
export function virtualService(namespace: string, profileName: string, canary: Canary, weights: Weights, ownerUid: string): VirtualService {
  checkWeights(weights);
  const { name, port, hosts, gateways } = canary.service;
  const to = (subset: string, weight: number): RouteDestination => ({ destination: { host: name, subset, port: { number: port } }, weight });
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: ownedMeta(name, namespace, profileName, ownerUid),
    spec: {
      hosts: hosts ?? [name],
      gateways: [...gateways],
      http: [{ name: ROUTE_NAME, route: [to(PRIMARY, weights.primary), to(CANARY, weights.canary)] }],
    },
  };
}

/** The share Tollgate's route in `vs` gives the canary subset: 0 without the VirtualService or its route. */
export function routedCanaryWeight(vs: VirtualService | undefined): number {
  const route = vs?.spec?.http?.find((h) => h.name === ROUTE_NAME);
  return route?.route?.find((d) => d.destination?.subset === CANARY)?.weight ?? 0;
}
