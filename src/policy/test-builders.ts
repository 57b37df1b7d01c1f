// Builders for the policy's tests: a spec, measurements, Deployment facts and a small cluster that
// applies the policy's actions the way kube/deployments.ts does. Test support only.
import { profileSpecSchema, type ProfileSpec, type ProfileSpecInput } from "../api/profile.ts";
import type { ProfileStatus } from "../api/status.ts";
import type { BurnRole, Measurements, SloMeasurement, Verdict } from "../slo/types.ts";
import type { PolicyAction } from "./actions.ts";
import { decide } from "./decide.ts";
import type { PolicyDecision, PolicyInput } from "./input.ts";
import type { DeploymentFacts } from "./deployment.ts";
import { parseOverride } from "./override.ts";
import { statusChanged } from "./status-changed.ts";

export const T0 = new Date("2026-11-22T08:00:00Z");
/** T0 plus minutes. */
export const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/** The seed's game service: 99.5 % availability and 95 % of requests under 500 ms, over 30d. */
export function gameSpec(policy: ProfileSpecInput["policy"] = {}): ProfileSpec {
  return profileSpecSchema.parse({
    targetRef: { name: "game-service" },
    slos: [
      { name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } },
      { name: "latency-p95", objective: 95, indicator: { istio: { kind: "latency", threshold: "500ms" } } },
    ],
    policy,
  });
}

export interface SloNumbers {
  consumed: number;
  /** 5m-role burn rate; defaults to 0.5 (healthy). */
  b5m?: number;
  /** 1h-role burn rate; defaults to 0.5 (healthy). */
  b1h?: number;
}
export type SloInput = SloNumbers | Exclude<Verdict, "Ok"> | { verdict: Exclude<Verdict, "Ok">; events: number };

function slo(name: string, objective: number, input: SloInput): SloMeasurement {
  const skeleton = (["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as BurnRole[]).map((role) => ({ role, window: role }));
  if (typeof input === "string") return { name, objective, window: "30d", verdict: input, burnRates: skeleton };
  if ("verdict" in input) return { name, objective, window: "30d", verdict: input.verdict, events: input.events, burnRates: skeleton };
  const values: Partial<Record<BurnRole, number | undefined>> = { "5m": input.b5m ?? 0.5, "1h": input.b1h ?? 0.5, "30m": 1, "6h": 1 };
  return {
    name,
    objective,
    window: "30d",
    verdict: "Ok",
    events: 100_000,
    sli: 100 - ((100 - objective) * input.consumed) / 100,
    consumedPercent: input.consumed,
    burnRates: skeleton.map((b) => (values[b.role] === undefined ? b : { ...b, value: values[b.role] as number })),
  };
}

/** Measurements at `now`: availability as given, latency-p95 healthy at 10 % unless given. */
export function measure(now: Date, availability: SloInput, latency: SloInput = { consumed: 10, b5m: 0.2, b1h: 0.2 }): Measurements {
  return { slos: [slo("availability", 99.5, availability), slo("latency-p95", 95, latency)], at: now };
}

export function prometheusDown(now: Date, error = "Get http://prometheus:9090/api/v1/query: connection refused"): Measurements {
  return { error, slos: [], at: now };
}

export function deployment(over: Partial<DeploymentFacts> & { revision: number; templateHash: string }): DeploymentFacts {
  return {
    rolloutComplete: true,
    paused: false,
    frozen: false,
    revisions: [{ revision: over.revision, templateHash: over.templateHash }],
    ...over,
  };
}

/** What the cluster looks like after the shell carried out the actions (kube/deployments.ts semantics). */
export function applyActions(d: DeploymentFacts | undefined, actions: readonly PolicyAction[]): DeploymentFacts | undefined {
  let out = d;
  for (const a of actions) {
    if (!out) break;
    if (a.action === "freeze") out = { ...out, paused: true, frozen: true };
    if (a.action === "unfreeze") out = { ...out, paused: false, frozen: false };
    if (a.action === "rollback" && out.templateHash !== a.toTemplateHash) {
      // Like `kubectl rollout undo`: the old ReplicaSet becomes the newest revision.
      const revision = Math.max(...out.revisions.map((r) => r.revision)) + 1;
      out = {
        ...out,
        revision,
        templateHash: a.toTemplateHash,
        paused: false,
        rolloutComplete: false,
        revisions: out.revisions.map((r) => (r.templateHash === a.toTemplateHash ? { revision, templateHash: r.templateHash } : r)),
      };
    }
  }
  return out;
}

/** A new release: a new template as the newest revision, rolled out. */
export function release(d: DeploymentFacts, templateHash: string): DeploymentFacts {
  const revision = Math.max(...d.revisions.map((r) => r.revision)) + 1;
  return { ...d, revision, templateHash, rolloutComplete: true, revisions: [...d.revisions, { revision, templateHash }] };
}

/** What the API server gives back: JSON, nothing else. */
export const roundTrip = <T>(x: T): T => (x === undefined ? x : (JSON.parse(JSON.stringify(x)) as T));

export const HEARTBEAT_MS = 5 * 60_000;

/**
 * The operator in miniature: decides, carries out Deployment actions, and stores the status only when
 * statusChanged says so, through a JSON round trip, as the controller would.
 */
export class Sim {
  spec: ProfileSpec;
  status: ProfileStatus | undefined;
  deployment: DeploymentFacts | undefined;
  annotation: string | undefined;
  writes = 0;

  constructor(init: { spec?: ProfileSpec; status?: ProfileStatus; deployment?: DeploymentFacts; annotation?: string } = {}) {
    this.spec = init.spec ?? gameSpec();
    this.status = init.status;
    this.deployment = init.deployment;
    this.annotation = init.annotation;
  }

  input(now: Date, measurements: Measurements): PolicyInput {
    return {
      profile: { namespace: "games", name: "game-service" },
      spec: this.spec,
      status: this.status,
      measurements,
      deployment: this.deployment,
      override: parseOverride(this.annotation, now),
      generation: 1,
      now,
    };
  }

  step(now: Date, measurements: Measurements): PolicyDecision {
    const decision = decide(this.input(now, measurements));
    this.deployment = applyActions(this.deployment, decision.actions);
    if (statusChanged(this.status, decision.status, { heartbeatMs: HEARTBEAT_MS })) {
      this.status = roundTrip(decision.status);
      this.writes++;
    }
    return decision;
  }
}

export const kinds = (actions: readonly PolicyAction[]) =>
  actions.map((a) => (a.action === "notify" ? `notify:${a.event}` : a.action === "event" ? `event:${a.reason}` : a.action));

export const notified = (actions: readonly PolicyAction[]) => actions.flatMap((a) => (a.action === "notify" ? [a.event] : []));

export const deploymentActions = (actions: readonly PolicyAction[]) =>
  actions.filter((a) => a.action === "freeze" || a.action === "unfreeze" || a.action === "rollback").map((a) => a.action);

export function condition(status: ProfileStatus, type: string) {
  return status.conditions?.find((c) => c.type === type);
}
