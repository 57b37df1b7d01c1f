// The simulated mesh of a soak run: each profile's traffic state (from the plan) sent to the simulator;
// for a canary profile split between `<target>-primary` and the canary by the VirtualService's weight,
// as Istio would (the whole load on the target until primary exists).

import type { Simulator } from "../../e2e/simulator/client.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { Resources } from "../../src/kube/resources.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import type { PlannedProfile, TrafficParams } from "./plan.ts";

interface VirtualService extends KubeObject {
  spec?: { http?: Array<{ route?: Array<{ destination?: { subset?: string }; weight?: number }> }> };
}

export class Mesh {
  readonly #sim: Simulator;
  readonly #kube: KubeClient;
  readonly #namespace: string;
  readonly #profiles: PlannedProfile[];
  readonly #params = new Map<string, TrafficParams>();
  readonly #sent = new Map<string, string>();
  #weights = new Map<string, number>();
  #primaries = new Set<string>();

  constructor(sim: Simulator, kube: KubeClient, namespace: string, profiles: PlannedProfile[]) {
    this.#sim = sim;
    this.#kube = kube;
    this.#namespace = namespace;
    this.#profiles = profiles;
  }

  set(profile: string, params: TrafficParams): void {
    this.#params.set(profile, params);
  }

  /** Reads the routes (keeping the last known ones while the API server is away) and sends what changed. */
  async sync(): Promise<void> {
    try {
      const [vss, deps] = await Promise.all([this.#kube.list<VirtualService>(Resources.VirtualService, this.#namespace), this.#kube.list(Resources.Deployment, this.#namespace)]);
      const weights = new Map<string, number>();
      for (const vs of vss.items) {
        const route = vs.spec?.http?.[0]?.route ?? [];
        weights.set(vs.metadata?.name ?? "", route.find((r) => r.destination?.subset === "canary")?.weight ?? 0);
      }
      this.#weights = weights;
      this.#primaries = new Set(deps.items.map((d) => d.metadata?.name ?? "").filter((n) => n.endsWith("-primary")));
    } catch {
      // The API server is down: the mesh keeps routing as it last did.
    }
    const puts: Array<Promise<unknown>> = [];
    for (const p of this.#profiles) {
      const params = this.#params.get(p.name);
      if (!params) continue;
      if (p.mode !== "canary") {
        puts.push(this.#put(p.name, params));
        continue;
      }
      const share = this.#primaries.has(`${p.name}-primary`) ? (this.#weights.get(p.name) ?? 0) / 100 : 1;
      puts.push(this.#put(p.name, { ...params, rate: round(params.rate * share) }));
      puts.push(this.#put(`${p.name}-primary`, { ...params, rate: round(params.rate * (1 - share)) }));
    }
    await Promise.all(puts);
  }

  async #put(workload: string, params: TrafficParams): Promise<void> {
    const body = JSON.stringify(params);
    if (this.#sent.get(workload) === body) return;
    await this.#sim.setWorkload(this.#namespace, workload, { ...params, service: workload.replace(/-primary$/, "") });
    this.#sent.set(workload, body);
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
