import { profileSpecSchema } from "../../src/api/profile.ts";
import type { SloProfile } from "../../src/slo/plan.ts";
import { workloadIdentity } from "./model.ts";

export const AVAILABILITY_OBJECTIVE = 99.9;
export const LATENCY_OBJECTIVE = 95;
export const LATENCY_THRESHOLD = "500ms";
export const SLO_WINDOW = "30d";
export const EVALUATION_INTERVAL = "30s";

/**
 * `count` profiles spread round-robin over `workloads` workloads: profile i measures workload
 * i mod workloads, so the first N of a larger set are the set for N, and several profiles of one
 * workload ask Prometheus the same questions under different names, as teams that each watch a shared
 * service do. Each has Tollgate's default-ish SLOs on the Istio preset, parsed by the CRD's own schema
 * as the controller would see them.
 */
export function benchProfiles(count: number, workloads: number): SloProfile[] {
  return Array.from({ length: count }, (_, i) => {
    const w = workloadIdentity(i % workloads);
    return {
      namespace: w.namespace,
      name: `${w.name}-${Math.floor(i / workloads)}`,
      spec: profileSpecSchema.parse({
        targetRef: { name: w.name },
        policy: { evaluationInterval: EVALUATION_INTERVAL },
        slos: [
          { name: "availability", objective: AVAILABILITY_OBJECTIVE, window: SLO_WINDOW, indicator: { istio: { kind: "availability" } } },
          { name: "latency", objective: LATENCY_OBJECTIVE, window: SLO_WINDOW, indicator: { istio: { kind: "latency", threshold: LATENCY_THRESHOLD } } },
        ],
      }),
    };
  });
}
