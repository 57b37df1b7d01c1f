import { Counter, Gauge, Histogram, type MetricObjectWithValues, type MetricValue, type Registry } from "prom-client";
import { exposition, type WritesOwnText } from "../runtime/metrics-registry.ts";
import type { Measurements, SloMeasurement } from "../slo/types.ts";

/** The phases a profile can be in: tollgate_profile_phase's `phase` label takes one of them. */
export const PHASES = ["Healthy", "Warning", "Frozen", "RollingBack", "Progressing", "Degraded", "Unknown"] as const;

/** A profile's last pass as its series show it: the SLO measurements it read and the phase it planned. */
interface Observed {
  namespace: string;
  profile: string;
  phase: string;
  slos: readonly SloMeasurement[];
}

/**
 * A gauge whose series are made when it is scraped, from what `series` yields, instead of stored one by
 * one: prom-client keeps about 300 bytes per stored series (its key, a copy of the labels, the value),
 * which for a profile of 2 SLOs with data was 5.3 KB, more than the rest of what the operator keeps of
 * it. The measurements the series come from are held anyway (the recorded reads keep each profile's).
 */
class ScrapedGauge<L extends string> extends Gauge<L> implements WritesOwnText {
  private readonly series: () => Iterable<MetricValue<L>>;
  private readonly family: { name: string; help: string; type: string };

  constructor(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }, series: () => Iterable<MetricValue<L>>) {
    super(config);
    this.series = series;
    this.family = { name: config.name, help: config.help, type: "gauge" };
  }

  override async get(): Promise<MetricObjectWithValues<MetricValue<L>>> {
    return { ...(await super.get()), values: [...this.series()] };
  }

  /** In a MetricsRegistry: the text a slice at a time, with turns of the event loop between. */
  writeText(): Promise<string> {
    return exposition(this.family, this.series() as Iterable<{ labels: Record<string, string>; value: number }>);
  }
}

/**
 * What Tollgate knows of each profile, for dashboards and alerts on Tollgate itself. Series of a deleted
 * profile are removed with it, so a dashboard never shows a ghost.
 */
export class SloMetrics {
  readonly actions: Counter<"namespace" | "profile" | "action">;
  readonly queryDuration: Histogram<"mode">;
  readonly prometheusWait: Histogram;
  readonly queryErrors: Counter<"mode" | "kind">;
  readonly queries: Counter<"mode">;
  readonly notifications: Counter<"type" | "event" | "outcome">;
  readonly canaryWeight: Gauge<"namespace" | "profile">;
  /**
   * Each profile's last pass, which the budget, burn-rate and phase series are made from at scrape
   * time. The phase gauge has one series per profile, not one per phase with the others at 0.
   */
  private readonly observed = new Map<string, Observed>();

  constructor(registry: Registry) {
    const registers = [registry];
    const observed = this.observed;
    new ScrapedGauge(
      {
        name: "tollgate_slo_budget_consumed_ratio",
        help: "Error budget consumed over the SLO window (1 = all of it; may exceed 1). Absent without a verdict.",
        labelNames: ["namespace", "profile", "slo"],
        registers,
      },
      function* () {
        for (const { namespace, profile, slos } of observed.values()) {
          for (const slo of slos) if (slo.consumedPercent !== undefined) yield { labels: { namespace, profile, slo: slo.name }, value: slo.consumedPercent / 100 };
        }
      },
    );
    new ScrapedGauge(
      {
        name: "tollgate_slo_burn_rate",
        help: "Error-budget burn rate over a window (1 = exactly the rate that spends the budget in the SLO window).",
        labelNames: ["namespace", "profile", "slo", "window"],
        registers,
      },
      function* () {
        for (const { namespace, profile, slos } of observed.values()) {
          for (const slo of slos) {
            for (const br of slo.burnRates) if (br.value !== undefined) yield { labels: { namespace, profile, slo: slo.name, window: br.window }, value: br.value };
          }
        }
      },
    );
    new ScrapedGauge(
      {
        name: "tollgate_profile_phase",
        help: "1, with the profile's current phase as its phase label: one series per profile.",
        labelNames: ["namespace", "profile", "phase"],
        registers,
      },
      function* () {
        for (const { namespace, profile, phase } of observed.values()) yield { labels: { namespace, profile, phase }, value: 1 };
      },
    );
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

  /** A pass's measurements and phase: the profile's series from now on, until its next pass or forget. */
  observe(namespace: string, profile: string, m: Measurements, phase: string): void {
    this.observed.set(`${namespace}/${profile}`, { namespace, profile, phase, slos: m.slos });
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
    this.observed.delete(`${namespace}/${profile}`);
    this.canaryWeight.remove({ namespace, profile });
  }
}
