import { startSimulator, type Simulator } from "../simulator/client.ts";
import type { Condition } from "./conditions.ts";
import { loadClusterEnv } from "./env.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./identity.ts";
import { applyYaml, installCrds, kubectl, kubectlJson, kubectlOk } from "./kubectl.ts";
import { startOperator, type OperatorProcess } from "./operator.ts";
import { waitFor } from "./wait.ts";
import { deploymentYaml } from "./workloads.ts";

// A canary of the game service through Istio, as the canary and kubectl-plugin suites run it. The
// canary is the target Deployment (destination_workload game-service), primary is game-service-primary;
// the simulator serves each workload's requests at the rates a suite sets, as the sidecars would report
// them. Both need traffic from the start: the service's budget is measured on the two together, and a
// profile whose budget has no verdict is Degraded (MetricsUnavailable), never Progressing.

export interface CanaryStatus {
  phase: string;
  weight: number;
  step: number;
  failedChecks: number;
  revision?: number;
  templateHash?: string;
  startedAt?: string;
  lastCheck?: string;
  lastVerdict?: { verdict: string; message: string };
}
export interface CanaryProfileStatus {
  phase?: string;
  canary?: CanaryStatus;
  conditions?: Condition[];
}
export interface Deployment {
  metadata: { annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { replicas: number; paused?: boolean; template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ image: string }> } } };
  status?: { readyReplicas?: number; updatedReplicas?: number };
}
export interface VirtualService {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; managedFields?: unknown[] };
  spec: { exportTo?: string[]; http: Array<{ route: Array<{ destination: { subset: string }; weight: number }> }> };
}
export interface KubeEvent {
  type: string;
  reason: string;
  message: string;
  lastTimestamp?: string;
  involvedObject: { kind: string };
}

/** The Deployment controller's numbering of a Deployment's templates, which status.canary.revision and the canary's events quote. */
export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";

/**
 * The game service's profile with `canary` settings (canary.service is the game service's port 8080
 * unless `canary` names one, as a YAML flow mapping). By default a 1h SLO window and no budget
 * rollback, so only the canary acts; `budget` swaps both for a suite about the budget policy.
 */
export function canaryProfileYaml(
  canary: Record<string, string | number>,
  extra = "",
  budget = { window: "1h", policy: "{evaluationInterval: 2s, minEvents: 20, rollback: {enabled: false}}" },
): string {
  const fields = Object.entries(canary)
    .map(([k, v]) => `    ${k}: ${v}`)
    .join("\n");
  return `apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: game-service}
spec:
  targetRef: {name: game-service}
  slos:
    - {name: availability, objective: 99.5, window: ${budget.window}, indicator: {istio: {kind: availability}}}
  policy: ${budget.policy}
  canary:
${"service" in canary ? "" : "    service: {name: game-service, port: 8080}\n"}${fields}
${extra}`;
}

/** One namespace with the game service, its profile, the simulator's traffic for primary and canary, and the operator. */
export class CanaryScenario {
  ns = "";
  sim!: Simulator;
  operator!: OperatorProcess;
  private readonly env = loadClusterEnv();

  async setUp(prefix: string, profile: string, rates: { primary: number; canary: number; canaryErrors?: number }): Promise<void> {
    await installCrds();
    this.ns = await createOperatorNamespace(prefix);
    this.sim = await startSimulator({ targetsDir: this.env.PROMETHEUS_TARGETS_DIR });
    await this.sim.setWorkload(this.ns, "game-service-primary", { rate: rates.primary, errorRatio: 0 });
    await this.sim.setWorkload(this.ns, "game-service", { rate: rates.canary, errorRatio: rates.canaryErrors ?? 0 });
    await applyYaml(deploymentYaml("game-service", "registry.example/game-service:1.0.0"), this.ns);
    await kubectlOk(["-n", this.ns, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
    await applyYaml(profile, this.ns);
    this.startOperator();
  }

  startOperator(): OperatorProcess {
    this.operator = startOperator(["--namespace", this.ns, "--prometheus-url", this.env.PROMETHEUS_URL]);
    return this.operator;
  }

  async tearDown(): Promise<void> {
    await this.operator?.stop();
    await this.sim?.stop();
    if (this.ns) await deleteOperatorNamespace(this.ns);
  }

  async status(): Promise<CanaryProfileStatus> {
    return (await kubectlJson<{ status?: CanaryProfileStatus }>(["-n", this.ns, "get", "pp", "game-service"])).status ?? {};
  }
  condition(s: CanaryProfileStatus, type: string): Condition | undefined {
    return s.conditions?.find((c) => c.type === type);
  }
  deployment(name: string): Promise<Deployment> {
    return kubectlJson<Deployment>(["-n", this.ns, "get", "deployment", name]);
  }
  /** The target's revision now, as the Deployment controller numbers it. */
  async revision(): Promise<number> {
    return Number((await this.deployment("game-service")).metadata.annotations?.[REVISION_ANNOTATION]);
  }
  async image(name: string): Promise<string | undefined> {
    return (await this.deployment(name)).spec.template.spec.containers[0]?.image;
  }
  virtualService(): Promise<VirtualService> {
    return kubectlJson<VirtualService>(["-n", this.ns, "get", "virtualservice", "game-service", "--show-managed-fields"]);
  }
  async weights(): Promise<{ primary: number; canary: number } | undefined> {
    const vs = await kubectl(["-n", this.ns, "get", "virtualservice", "game-service", "-o", "json"]);
    if (vs.code !== 0) return undefined;
    const route = (JSON.parse(vs.stdout) as VirtualService).spec.http[0]?.route ?? [];
    const w = (subset: string) => route.find((r) => r.destination.subset === subset)?.weight ?? 0;
    return { primary: w("primary"), canary: w("canary") };
  }
  async events(): Promise<KubeEvent[]> {
    const list = await kubectlJson<{ items: KubeEvent[] }>(["-n", this.ns, "get", "events"]);
    return list.items.filter((e) => e.involvedObject.kind === "PerformanceProfile");
  }
  /** The profile's first event with `reason`, once there is one. */
  event(reason: string): Promise<KubeEvent> {
    return waitFor(`a ${reason} event`, async () => (await this.events()).find((e) => e.reason === reason));
  }
  canary(want: (c: CanaryStatus, s: CanaryProfileStatus) => boolean, what: string, timeoutMs = 90_000): Promise<CanaryProfileStatus> {
    return waitFor(what, async () => {
      const s = await this.status();
      return s.canary && want(s.canary, s) ? s : undefined;
    }, { timeoutMs, intervalMs: 300 });
  }
  /** Initialized: primary runs the first template with all traffic, the target is scaled to 0, the budget has data. */
  async initialized(): Promise<void> {
    await this.canary((c, st) => c.phase === "Waiting" && st.phase === "Healthy", "the canary to be initialized and the budget measured");
    await waitFor("all traffic on primary and the target at 0", async () => {
      const [w, target] = await Promise.all([this.weights(), this.deployment("game-service")]);
      return w?.primary === 100 && target.spec.replicas === 0 ? true : undefined;
    });
  }
  setImage(image: string): Promise<string> {
    return kubectlOk(["-n", this.ns, "set", "image", "deployment/game-service", `app=${image}`]);
  }
}
