import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Verb } from "../kube/client.ts";
import type { ControllerHooks } from "./controller.ts";
import { MetricsRegistry } from "./metrics-registry.ts";

/** The operator's own metrics: work queues, reconciles, informers, API rate limits, leadership and shards. */
export class RuntimeMetrics {
  readonly registry: Registry;
  readonly queueDepth: Gauge<"controller">;
  readonly queueAdds: Counter<"controller">;
  readonly queueRetries: Counter<"controller">;
  readonly reconcileDuration: Histogram<"controller" | "outcome">;
  readonly reconcileErrors: Counter<"controller">;
  readonly informerErrors: Counter<"resource">;
  readonly leader: Gauge;
  readonly shardsHeld: Gauge;
  readonly shardLeader: Gauge<"shard">;
  readonly kubeApiRateLimitWait: Histogram<"client" | "verb">;

  constructor(registry: Registry = new MetricsRegistry()) {
    this.registry = registry;
    const registers = [registry];
    collectDefaultMetrics({ register: registry, prefix: "tollgate_" });
    this.queueDepth = new Gauge({ name: "tollgate_workqueue_depth", help: "Keys waiting in a controller's work queue.", labelNames: ["controller"], registers });
    this.queueAdds = new Counter({ name: "tollgate_workqueue_adds_total", help: "Keys added to a controller's work queue.", labelNames: ["controller"], registers });
    this.queueRetries = new Counter({ name: "tollgate_workqueue_retries_total", help: "Keys re-queued with backoff after a failed reconcile.", labelNames: ["controller"], registers });
    this.reconcileDuration = new Histogram({
      name: "tollgate_reconcile_duration_seconds",
      help: "Time spent in one reconcile, by outcome (success, requeue, error).",
      labelNames: ["controller", "outcome"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.reconcileErrors = new Counter({ name: "tollgate_reconcile_errors_total", help: "Reconciles that failed.", labelNames: ["controller"], registers });
    this.informerErrors = new Counter({ name: "tollgate_informer_errors_total", help: "Failed lists or watches, each followed by a relist.", labelNames: ["resource"], registers });
    this.leader = new Gauge({
      name: "tollgate_leader",
      help: "1 while this replica reconciles: it holds the leader lease, or with --shards at least one shard lease; else 0.",
      registers,
    });
    this.shardsHeld = new Gauge({ name: "tollgate_shards_held", help: "Shard leases this replica holds (with one shard, the leader lease).", registers });
    this.shardLeader = new Gauge({
      name: "tollgate_shard_leader",
      help: "1 while this replica holds the lease of the shard, else 0; one series per shard of --shards.",
      labelNames: ["shard"],
      registers,
    });
    this.kubeApiRateLimitWait = new Histogram({
      name: "tollgate_kube_api_rate_limit_wait_seconds",
      help: "Time each Kubernetes API request waited for a token of its client's rate limit (--kube-api-qps, --kube-api-burst), by client and verb (WATCH: a watch opened); the count is every request sent.",
      labelNames: ["client", "verb"],
      // le="0": requests that did not wait, most of them while the limit holds no backlog.
      buckets: [0, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
  }

  /** The KubeClient hook of one client ("controllers", "leader-election"): its waits for a token. */
  kubeApiRateLimitHook(client: string): (seconds: number, verb: Verb) => void {
    return (seconds, verb) => this.kubeApiRateLimitWait.observe({ client, verb }, seconds);
  }

  controllerHooks(controller: string): ControllerHooks {
    return {
      onAdd: () => this.queueAdds.inc({ controller }),
      onDepth: (depth) => this.queueDepth.set({ controller }, depth),
      onRetry: () => this.queueRetries.inc({ controller }),
      onReconcile: (seconds, outcome) => {
        this.reconcileDuration.observe({ controller, outcome }, seconds);
        if (outcome === "error") this.reconcileErrors.inc({ controller });
      },
    };
  }
}
