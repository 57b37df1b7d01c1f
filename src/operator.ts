import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { PerformanceProfile } from "./api/types.ts";
import { KubeClient, loadKubeConfig } from "./kube/client.ts";
import type { Deployment, ReplicaSet } from "./kube/deployments.ts";
import { Resources, type ResourceType } from "./kube/resources.ts";
import { secretReader } from "./kube/secrets.ts";
import { keyOf, type KubeObject } from "./kube/types.ts";
import { SloMetrics } from "./metrics/slo-metrics.ts";
import { Notifier } from "./notify/notifier.ts";
import { PrometheusConnections } from "./prometheus/connections.ts";
import { RecordedReadCache } from "./prometheus/recorded-cache.ts";
import { RulesFileWriter } from "./prometheus/rules-file.ts";
import type { ReadMode } from "./prometheus/slo-reader.ts";
import { PrometheusRuleApplier } from "./kube/rules.ts";
import { errorKind, profileReconciler } from "./controllers/profile.ts";
import { SyntaxChecker } from "./prometheus/syntax-check.ts";
import { EventRecorder } from "./runtime/events.ts";
import { startHealthServer, type HealthServer } from "./runtime/health.ts";
import { Informer } from "./runtime/informer.ts";
import { DEFAULT_LEADER_ELECTION, LeaderElector, type LeaderElectionConfig } from "./runtime/leader-election.ts";
import { Manager } from "./runtime/manager.ts";
import { RuntimeMetrics } from "./runtime/metrics.ts";

export interface OperatorConfig {
  kubeconfig?: string;
  /** Watch one namespace; all when undefined. */
  namespace?: string;
  workers: number;
  resyncMs: number;
  metricsAddr: string;
  /** Default Prometheus for profiles that do not name their own. */
  prometheusUrl?: string;
  prometheusTimeoutMs: number;
  /** Read mode of profiles that do not set spec.prometheus.mode. Default Direct. */
  readMode?: ReadMode;
  /** Write recording rules as files here (preferred over PrometheusRule objects when set). */
  rulesDir?: string;
  /** Where PagerDuty events go; the public Events API v2 unless overridden (proxies, tests). */
  pagerDutyUrl?: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaderElection?: LeaderElectionConfig;
  identity?: string;
}

export interface Operator {
  readonly identity: string;
  /** Resolves once the health server listens and the caches have synced. */
  start(): Promise<void>;
  /** Stops taking work, waits for in-flight reconciles and notifications, releases the lease. */
  stop(): Promise<void>;
  readonly metricsPort: number | undefined;
}

export function defaultIdentity(): string {
  return process.env.POD_NAME ?? `${hostname()}_${randomBytes(4).toString("hex")}`;
}

export function createOperator(config: OperatorConfig, logger: Logger): Operator {
  const identity = config.identity ?? defaultIdentity();
  const log = logger.child({ identity });
  const kubeConfig = loadKubeConfig(config.kubeconfig);
  const metrics = new RuntimeMetrics();
  const sloMetrics = new SloMetrics(metrics.registry);

  let manager: Manager | undefined;
  // Controllers write through a client fenced on leadership; the elector has its own, unfenced one.
  const client = new KubeClient(kubeConfig, {
    fence: () => (config.leaderElect && !manager?.leading ? "this replica does not hold the leader lease" : undefined),
  });
  const elector = config.leaderElect
    ? new LeaderElector({
        client: new KubeClient(kubeConfig),
        namespace: config.leaderElectionNamespace,
        name: config.leaderElectionId,
        identity,
        config: config.leaderElection ?? DEFAULT_LEADER_ELECTION,
        logger: log,
      })
    : undefined;

  const informer = <T extends KubeObject>(type: ResourceType) =>
    new Informer<T>(client, type, {
      namespace: config.namespace,
      resyncMs: config.resyncMs,
      logger: log,
      onError: () => metrics.informerErrors.inc({ resource: type.plural }),
    });
  const profiles = informer<PerformanceProfile>(Resources.PerformanceProfile);
  const deployments = informer<Deployment>(Resources.Deployment);
  const replicaSets = informer<ReplicaSet>(Resources.ReplicaSet);
  const readSecret = secretReader(client);
  const notifier = new Notifier({
    readSecret,
    logger: log,
    pagerDutyUrl: config.pagerDutyUrl,
    onResult: (r) => sloMetrics.notifications.inc({ type: r.type, event: r.event, outcome: r.ok ? "sent" : "failed" }),
  });

  // One batch of recorded reads per Prometheus connection, measured and counted per batch.
  const recorded = new RecordedReadCache({
    onQuery: () => sloMetrics.queries.inc({ mode: "RecordingRules" }),
    onRefresh: (seconds, readings) => {
      sloMetrics.queryDuration.observe({ mode: "RecordingRules" }, seconds);
      const error = readings.find((r) => r.measurements.error)?.measurements.error;
      if (error) sloMetrics.queryErrors.inc({ mode: "RecordingRules", kind: errorKind(error) });
    },
  });
  const rulesFile = config.rulesDir ? new RulesFileWriter({ dir: config.rulesDir, logger: log }) : undefined;

  // A Deployment event brings back every profile that targets it: a rollout finishing, a hand edit.
  const profilesTargeting = (obj: KubeObject): string[] =>
    profiles
      .list()
      .filter((p) => p.metadata?.namespace === obj.metadata?.namespace && p.spec?.targetRef?.name === obj.metadata?.name)
      .map(keyOf);

  manager = new Manager({
    specs: [
      {
        name: "profile",
        reconcile: profileReconciler({
          client,
          profiles,
          deployments,
          replicaSets,
          events: new EventRecorder({ client, instance: identity, logger: log }),
          notifier,
          prometheus: new PrometheusConnections(readSecret, { url: config.prometheusUrl, timeoutMs: config.prometheusTimeoutMs }),
          syntax: new SyntaxChecker(),
          metrics: sloMetrics,
          logger: log,
          readMode: config.readMode,
          recorded,
          rulesFile,
          prometheusRules: new PrometheusRuleApplier(client),
        }),
        workers: config.workers,
        sources: [
          { informer: profiles as unknown as Informer<KubeObject> },
          { informer: deployments as unknown as Informer<KubeObject>, map: profilesTargeting },
        ],
      },
    ],
    extraInformers: [replicaSets as unknown as Informer<KubeObject>],
    elector,
    metrics,
    logger: log,
  });

  let health: HealthServer | undefined;
  let stopped = false;
  return {
    identity,
    get metricsPort() {
      return health?.port;
    },
    async start() {
      health = await startHealthServer(config.metricsAddr, metrics.registry, {
        live: () => !stopped,
        ready: () => manager!.ready(),
      });
      log.info(
        { metricsPort: health.port, namespace: config.namespace ?? "(all)", leaderElect: config.leaderElect, readMode: config.readMode ?? "Direct", rulesDir: config.rulesDir },
        "serving /metrics, /healthz, /readyz",
      );
      await manager!.start();
    },
    async stop() {
      stopped = true;
      await manager!.stop();
      await notifier.drain();
      await health?.close();
    },
  };
}
