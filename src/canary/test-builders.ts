// Builders for the canary's tests: a spec, the two Deployments, canary measurements, and a small
// cluster that applies the step machine's actions. Test support only.
import { profileSpecSchema, type ProfileSpec, type ProfileSpecInput } from "../api/profile.ts";
import { stepCanary } from "./step.ts";
import type { CanaryAction, CanaryDecision, CanaryFreeze, CanaryInput, CanaryMeasurement, CanaryStatus, WorkloadFacts } from "./types.ts";

export const T0 = new Date("2026-11-22T08:00:00Z");
/** T0 plus minutes. */
export const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
export const iso = (minutes: number) => at(minutes).toISOString();

export const OLD = "6d8f9c7b5";
export const NEW = "7c9d4f8a1";
export const NEWER = "5b7e2a9c3";

/** The seed's game service with a canary: 10 % steps every 1m up to 50 %, maxBurnRate 2, failureLimit 3. */
export function canarySpec(canary: Partial<NonNullable<ProfileSpecInput["canary"]>> = {}): ProfileSpec {
  return profileSpecSchema.parse({
    targetRef: { name: "game-service" },
    slos: [
      { name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } },
      { name: "latency-p95", objective: 95, indicator: { istio: { kind: "latency", threshold: "500ms" } } },
    ],
    canary: { service: { name: "game-service", port: 8080 }, ...canary },
  });
}

/** The user's Deployment with a new template (NEW, revision 2), rolled out with 3 ready pods. */
export function target(over: Partial<CanaryInput["target"]> = {}): CanaryInput["target"] {
  return { templateHash: NEW, revision: 2, desiredReplicas: 3, readyReplicas: 3, rolloutComplete: true, ...over };
}

/** game-service-primary running OLD with 3 ready pods. */
export function primary(over: Partial<WorkloadFacts> = {}): WorkloadFacts {
  return { templateHash: OLD, desiredReplicas: 3, readyReplicas: 3, rolloutComplete: true, ...over };
}

/** The canary's numbers for both SLOs over the last interval; healthy by default. */
export function canaryMetrics(availability: { burn?: number; events?: number } = {}, latency: { burn?: number; events?: number } = {}): CanaryMeasurement {
  const reading = (slo: string, r: { burn?: number; events?: number }) => ({
    slo,
    ...(r.burn === undefined && "burn" in r ? {} : { burnRate: r.burn ?? 0.5 }),
    ...(r.events === undefined && "events" in r ? {} : { events: r.events ?? 500 }),
  });
  return { slos: [reading("availability", availability), reading("latency-p95", latency)] };
}

export const FROZEN: CanaryFreeze = { reason: "BudgetExhausted", message: "rollouts are frozen (BudgetExhausted by availability); no canary starts or promotes until the freeze lifts" };

/** A canary of NEW at `step`, weight step × 10, last checked at T0 (so the next check is due at T0 + 1m). */
export function running(step: number, over: Partial<CanaryStatus> = {}): CanaryStatus {
  return {
    phase: "Progressing",
    weight: Math.min(step * 10, 50),
    step,
    failedChecks: 0,
    revision: 2,
    templateHash: NEW,
    startedAt: iso(-step),
    lastCheck: T0.toISOString(),
    ...over,
  };
}

export function input(over: Partial<CanaryInput> = {}): CanaryInput {
  return {
    profile: { namespace: "games", name: "game-service" },
    spec: canarySpec(),
    status: undefined,
    target: target(),
    primary: primary(),
    canaryMeasurement: canaryMetrics(),
    frozen: undefined,
    now: T0,
    ...over,
    // What the mesh routes is what the status recorded, unless a test says otherwise.
    routedWeight: over.routedWeight ?? over.status?.weight ?? 0,
  };
}

/** What the API server gives back: JSON, nothing else. */
export const roundTrip = <T>(x: T): T => (x === undefined ? x : (JSON.parse(JSON.stringify(x)) as T));

/** The action kinds in order, with their numbers, for compact expectations. */
export function brief(actions: readonly CanaryAction[]): string[] {
  return actions.map((a) => {
    switch (a.action) {
      case "setWeights":
        return `weights ${a.primary}/${a.canary}`;
      case "scaleCanary":
        return `scaleCanary ${a.replicas}`;
      case "scalePrimary":
        return `scalePrimary ${a.replicas}`;
      case "ensurePrimary":
        return `ensurePrimary ${a.replicas}`;
      case "promote":
        return `promote ${a.templateHash}`;
      case "event":
        return `event ${a.reason}`;
      case "notify":
        return `notify ${a.event}`;
    }
  });
}

/**
 * The operator in miniature: decides, applies the cluster actions to the two Deployments and stores
 * the status through a JSON round trip. Scaling and rollouts take effect at once unless `lag` is set,
 * in which case pods become ready only on `settle()`.
 */
export class CanarySim {
  spec: ProfileSpec;
  status: CanaryStatus | undefined;
  target: CanaryInput["target"];
  primary: WorkloadFacts | undefined;
  weights = { primary: 100, canary: 0 };
  frozen: CanaryFreeze | undefined;
  lag = false;
  /** While set, the VirtualService's writes fail (the API server is down): weights stay as they are. */
  routingFails = false;
  log: string[] = [];

  constructor(init: { spec?: ProfileSpec; status?: CanaryStatus; target?: CanaryInput["target"]; primary?: WorkloadFacts | undefined } = {}) {
    this.spec = init.spec ?? canarySpec();
    this.status = init.status;
    this.target = init.target ?? target({ templateHash: OLD, revision: 1 });
    this.primary = "primary" in init ? init.primary : primary();
  }

  step(now: Date, m: CanaryMeasurement | undefined = canaryMetrics()): CanaryDecision {
    const d = stepCanary({
      profile: { namespace: "games", name: "game-service" },
      spec: this.spec,
      status: this.status,
      target: this.target,
      primary: this.primary,
      canaryMeasurement: m,
      routedWeight: this.weights.canary,
      frozen: this.frozen,
      now,
    });
    for (const a of d.actions) this.apply(a);
    this.log.push(...brief(d.actions));
    this.status = roundTrip(d.status);
    return d;
  }

  /** A new template on the user's Deployment, as `kubectl set image` would make it. */
  release(templateHash: string): void {
    this.target = { ...this.target, templateHash, revision: this.target.revision + 1, readyReplicas: 0, rolloutComplete: this.target.desiredReplicas === 0 };
    if (!this.lag) this.settle();
  }

  /** Every pod the Deployments want is up and ready. */
  settle(): void {
    this.target = { ...this.target, readyReplicas: this.target.desiredReplicas, rolloutComplete: true };
    if (this.primary) this.primary = { ...this.primary, readyReplicas: this.primary.desiredReplicas, rolloutComplete: true };
  }

  private apply(a: CanaryAction): void {
    switch (a.action) {
      case "ensurePrimary":
        this.primary ??= { templateHash: this.target.templateHash, desiredReplicas: a.replicas, readyReplicas: 0, rolloutComplete: false };
        break;
      case "setWeights":
        if (!this.routingFails) this.weights = { primary: a.primary, canary: a.canary };
        break;
      case "scaleCanary":
        if (this.target.desiredReplicas !== a.replicas) this.target = { ...this.target, desiredReplicas: a.replicas, readyReplicas: Math.min(this.target.readyReplicas, a.replicas), rolloutComplete: a.replicas === 0 };
        break;
      case "scalePrimary":
        if (this.primary && this.primary.desiredReplicas < a.replicas) this.primary = { ...this.primary, desiredReplicas: a.replicas };
        break;
      case "promote":
        if (this.primary && this.primary.templateHash !== a.templateHash) this.primary = { ...this.primary, templateHash: a.templateHash, readyReplicas: 0, rolloutComplete: false };
        break;
      default:
        return;
    }
    if (!this.lag) this.settle();
  }
}
