import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Measurements } from "../slo/types.ts";

/** The phases a profile can be in: tollgate_profile_phase's `phase` label takes one of them. */
export const PHASES = ["Healthy", "Warning", "Frozen", "RollingBack", "Progressing", "Degraded", "Unknown"] as const;

/**
 * What Tollgate knows of each profile, for dashboards and alerts on Tollgate itself. Series of a deleted
 * profile are removed with it, so a dashboard never shows a ghost.
 */
export class SloMetrics {
  readonly consumed: Gauge<"namespace" | "profile" | "slo">;
  readonly burnRate: Gauge<"namespace" | "profile" | "slo" | "window">;
  readonly phase: Gauge<"namespace" | "profile" | "phase">;
  readonly actions: Counter<"namespace" | "profile" | "action">;
  readonly queryDuration: Histogram<"mode">;
  readonly prometheusWait: Histogram;
  readonly queryErrors: Counter<"mode" | "kind">;
  readonly queries: Counter<"mode">;
  readonly notifications: Counter<"type" | "event" | "outcome">;
  readonly canaryWeight: Gauge<"namespace" | "profile">;
  /**
   * The series each profile has, so they can be removed with it. The phase gauge keeps one series per
   * profile, not one per phase with the others at 0: at 10,000 profiles that was 60,000 series of zeros
   * held in memory and written on every scrape.
   */
  private readonly known = new Map<string, { slos: string[]; windows: Array<{ slo: string; window: string }>; phase: string }>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.consumed = new Gauge({
      name: "tollgate_slo_budget_consumed_ratio",
      help: "Error budget consumed over the SLO window (1 = all of it; may exceed 1). Absent without a verdict.",
      labelNames: ["namespace", "profile", "slo"],
      registers,
    });
    this.burnRate = new Gauge({
      name: "tollgate_slo_burn_rate",
      help: "Error-budget burn rate over a window (1 = exactly the rate that spends the budget in the SLO window).",
      labelNames: ["namespace", "profile", "slo", "window"],
      registers,
    });
    this.phase = new Gauge({
      name: "tollgate_profile_phase",
      help: "1, with the profile's current phase as its phase label: one series per profile.",
      labelNames: ["namespace", "profile", "phase"],
      registers,
    });
    this.actions = new Counter({
      name: "tollgate_actions_total",
      help: "Actions Tollgate took on workloads: freeze, unfreeze, rollback.",
      labelNames: ["namespace", "profile", "action"],
      registers,
    });
    this.queryDuration = new Histogram({
      name: "tollgate_prometheus_query_duration_seconds",
      help: "Time to read measurements from Prometheus, per reconcile (direct) or per cycle (recording rules).",
      labelNames: ["mode"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.prometheusWait = new Histogram({
      name: "tollgate_reconcile_prometheus_wait_seconds",
      help: "Time each profile's pass waited on Prometheus: its own queries (Direct reads, canary checks, PromQL parsing) or the recording-rule batch in flight. Under 1 ms when its reading was at hand.",
      // le="0.001": passes that found their reading ready, the usual case in RecordingRules mode.
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.queries = new Counter({
      name: "tollgate_prometheus_queries_total",
      help: "Instant queries sent to Prometheus, by what read them (Direct: per SLO and window; RecordingRules: two per batch, three with a ratio SLO; Canary: two per gating SLO per canary check).",
      labelNames: ["mode"],
      registers,
    });
    this.queryErrors = new Counter({
      name: "tollgate_prometheus_query_errors_total",
      help: "Failed reads from Prometheus, by kind (unreachable, timeout, bad_query, server).",
      labelNames: ["mode", "kind"],
      registers,
    });
    this.notifications = new Counter({
      name: "tollgate_notifications_total",
      help: "Notifications delivered or failed, by receiver type and event.",
      labelNames: ["type", "event", "outcome"],
      registers,
    });
    this.canaryWeight = new Gauge({
      name: "tollgate_canary_weight",
      help: "Percent of the target's traffic the canary takes, as Tollgate last routed it (the VirtualService's canary weight). Absent for a profile without a canary.",
      labelNames: ["namespace", "profile"],
      registers,
    });
  }

  /**
   * A pass's measurements and phase. Series are set in place; only those the last pass set and this one
   * does not (an SLO or a window gone, or without a value now) are removed: removing and adding every
   * series each pass would rebuild each profile's ~20 series every cycle.
   */
  observe(namespace: string, profile: string, m: Measurements, phase: string): void {
    const key = `${namespace}/${profile}`;
    const before = this.known.get(key);
    const known = { slos: [] as string[], windows: [] as Array<{ slo: string; window: string }>, phase };
    for (const slo of m.slos) {
      if (slo.consumedPercent !== undefined) {
        this.consumed.set({ namespace, profile, slo: slo.name }, slo.consumedPercent / 100);
        known.slos.push(slo.name);
      }
      for (const br of slo.burnRates) {
        if (br.value === undefined) continue;
        this.burnRate.set({ namespace, profile, slo: slo.name, window: br.window }, br.value);
        known.windows.push({ slo: slo.name, window: br.window });
      }
    }
    for (const slo of before?.slos ?? []) if (!known.slos.includes(slo)) this.consumed.remove({ namespace, profile, slo });
    for (const w of before?.windows ?? []) {
      if (!known.windows.some((k) => k.slo === w.slo && k.window === w.window)) this.burnRate.remove({ namespace, profile, slo: w.slo, window: w.window });
    }
    this.known.set(key, known);
    if (before && before.phase !== phase) this.phase.remove({ namespace, profile, phase: before.phase });
    this.phase.set({ namespace, profile, phase }, 1);
  }

  /**
   * The canary's weight once a pass's actions went through, so the series follows the VirtualService and
   * not an intention a failed pass never carried out; undefined (no canary in the spec) removes it.
   */
  canary(namespace: string, profile: string, weight: number | undefined): void {
    if (weight === undefined) this.canaryWeight.remove({ namespace, profile });
    else this.canaryWeight.set({ namespace, profile }, weight);
  }

  /** Every series of a profile that is gone. */
  forget(namespace: string, profile: string): void {
    this.forgetMeasured(namespace, profile);
    this.canaryWeight.remove({ namespace, profile });
  }

  /** The series a pass's measurements set. */
  private forgetMeasured(namespace: string, profile: string): void {
    const known = this.known.get(`${namespace}/${profile}`);
    if (!known) return;
    for (const slo of known.slos) this.consumed.remove({ namespace, profile, slo });
    for (const { slo, window } of known.windows) this.burnRate.remove({ namespace, profile, slo, window });
    this.phase.remove({ namespace, profile, phase: known.phase });
    this.known.delete(`${namespace}/${profile}`);
  }
}
