import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { PerformanceProfile } from "./api/types.ts";
import { KubeClient, type Fence } from "./kube/client.ts";
import { loadClusterAccess, type ClusterAccess } from "./kube/cluster-access.ts";
import type { RateLimit } from "./kube/token-bucket.ts";
import type { Deployment, ReplicaSet } from "./workload/deployment.ts";
import { changedBeyondStatus } from "./runtime/predicates.ts";
import { cachedDeployment, cachedProfile, cachedReplicaSet, withoutManagedFields, type CacheTransform } from "./kube/cached.ts";
import { Resources, type ResourceType } from "./kube/resources.ts";
import { secretReader } from "./kube/secrets.ts";
import { keyOf, type KubeObject, type OwnerReference } from "./kube/types.ts";
import { SloMetrics } from "./metrics/slo-metrics.ts";
import { Notifier } from "./notify/notifier.ts";
import { PrometheusConnections } from "./prometheus/connections.ts";
import { RecordedReadCache } from "./prometheus/recorded-cache.ts";
import { RulesFileWriter } from "./prometheus/rules-file.ts";
import type { ReadMode } from "./prometheus/slo-reader.ts";
import { DEFAULT_TILE } from "./slo/tiles.ts";
import { PrometheusRuleApplier } from "./kube/rules.ts";
import { profileReconciler } from "./controllers/profile/reconcile.ts";
import { errorKind } from "./controllers/profile/observe.ts";
import { deploymentToProfiles, ownerToProfiles, TargetIndex } from "./controllers/profile/mappings.ts";
import { StatusRecorder } from "./controllers/profile/record.ts";
import { DeliveredMemory } from "./controllers/profile/act.ts";
import { DeploymentActuator } from "./kube/actuators/deployment.ts";
import { FinalizerActuator } from "./kube/actuators/finalizer.ts";
import { HpaActuator } from "./kube/actuators/hpa.ts";
import { IstioActuator } from "./kube/actuators/istio.ts";
import { RulesActuator } from "./kube/actuators/rules.ts";
import { rulesRejectedCheck } from "./controllers/profile/rules-rejected.ts";
import { SyntaxChecker } from "./prometheus/syntax-check.ts";
import { EventRecorder } from "./runtime/events.ts";
import { startHealthServer, type HealthServer } from "./runtime/health.ts";
import { byNamespace, byOwnerUid, type IndexKeys } from "./runtime/cache-index.ts";
import { Informer } from "./runtime/informer.ts";
import { DEFAULT_LEADER_ELECTION, LeaderElector, type LeaderElectionConfig } from "./runtime/leader-election.ts";
import { leaderLeases, leadershipFence, Manager, type ShardLeases } from "./runtime/manager.ts";
import { ShardElector } from "./runtime/shard-election.ts";
import { backoffDelay } from "./runtime/queue.ts";
import { MANAGED_BY_TOLLGATE, primaryName, type DestinationRule, type HorizontalPodAutoscaler, type VirtualService } from "./traffic/index.ts";
import { ApiError } from "./kube/errors.ts";
import { DriftApplier } from "./kube/owned.ts";
import { RuntimeMetrics } from "./runtime/metrics.ts";
import { canaryScopeCheck } from "./traffic/scope.ts";
import type { NamedConnection } from "./prometheus/connections.ts";
import { DEFAULT_NOTIFICATION_URLS, receiverProblem } from "./notify/endpoints.ts";
import { endpointAllowed, parseEndpointPattern, type EndpointPattern } from "./tenancy/endpoints.ts";
import type { ManagedIndex, TenantCheck } from "./controllers/profile/observe.ts";

/** Reconciles at a time unless told otherwise: a pass mostly waits on Prometheus, so more workers than cores pay. */
export const DEFAULT_WORKERS = 16;

/** Each client's Kubernetes API rate limit unless told otherwise: controller-runtime's defaults. */
export const DEFAULT_KUBE_API_RATE: RateLimit = { qps: 20, burst: 30 };

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
  /**
   * --kube-api-qps, --kube-api-burst: the rate limit of each of the operator's API clients (the
   * controllers' and informers', and leader election's own). Default DEFAULT_KUBE_API_RATE.
   */
  kubeApiRate?: RateLimit;
  /** Read mode of profiles that do not set spec.prometheus.mode. Default Direct. */
  readMode?: ReadMode;
  /** Write recording rules as files here (preferred over PrometheusRule objects when set). */
  rulesDir?: string;
  /**
   * The tile recording rules sum windows longer than twelve tiles from (src/slo/tiles.ts); null: no
   * tiles, every window read raw. Default DEFAULT_TILE.
   */
  tile?: string | null;
  /** Where PagerDuty events go; the public Events API v2 unless overridden (proxies, tests). */
  pagerDutyUrl?: string;
  /** --prometheus-connections: named connections profiles may use. */
  prometheusConnections?: NamedConnection[];
  /** --prometheus-allowed-address: addresses profiles may name themselves. None by default. */
  prometheusAllowedAddresses?: EndpointPattern[];
  /** --prometheus-profile-header: header names profiles may set. None by default. */
  prometheusProfileHeaders?: string[];
  /** --notification-allowed-url: where Slack and webhook receivers may point. Slack's hooks by default. */
  notificationAllowedUrls?: EndpointPattern[];
  /** --allowed-gateway: gateways in other namespaces profiles may bind, as namespace/name. None by default. */
  allowedGateways?: readonly string[];
  /** --allowed-host: hostnames (exact or *.domain) profiles may name besides their own Service. None by default. */
  allowedHosts?: readonly string[];
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaderElection?: LeaderElectionConfig;
  /**
   * --shards: profiles spread over this many shards, each a Lease that replicas compete for (README,
   * Sharding). 1, the default: the one leader Lease, as without sharding. More needs leaderElect.
   */
  shards?: number;
  /** The Pod this replica runs in (POD_NAME, POD_UID): with shards, its member Lease goes with the Pod. */
  pod?: OwnerReference;
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
  const access = loadClusterAccess(config.kubeconfig);
  const metrics = new RuntimeMetrics();
  const sloMetrics = new SloMetrics(metrics.registry);

  let manager: Manager | undefined;
  const { client, electionClient } = kubeClients(access, {
    rateLimit: config.kubeApiRate ?? DEFAULT_KUBE_API_RATE,
    fence: config.leaderElect ? leadershipFence(() => manager) : undefined,
    metrics,
  });
  const leases = config.leaderElect ? shardLeases(config, electionClient, identity, log) : undefined;

  const informer = <T extends KubeObject, I extends string = never>(type: ResourceType, transform: CacheTransform<T>, indexes?: Record<I, IndexKeys<KubeObject>>) =>
    new Informer<T, I>(client, type, {
      namespace: config.namespace,
      resyncMs: config.resyncMs,
      logger: log,
      onError: () => metrics.informerErrors.inc({ resource: type.plural }),
      transform,
      indexes,
    });
  const profiles = informer<PerformanceProfile>(Resources.PerformanceProfile, cachedProfile);
  const deployments = informer<Deployment>(Resources.Deployment, cachedDeployment);
  const replicaSets = informer<ReplicaSet, "owner">(Resources.ReplicaSet, cachedReplicaSet, { owner: byOwnerUid });
  const readSecret = secretReader(client);
  const notificationUrls = config.notificationAllowedUrls ?? DEFAULT_NOTIFICATION_URLS.map(parseEndpointPattern);
  const receiverCheck: TenantCheck = (p, spec) => receiverProblem(p.namespace, spec.policy.notifications ?? [], readSecret, notificationUrls);
  const notifier = new Notifier({
    readSecret,
    logger: log,
    pagerDutyUrl: config.pagerDutyUrl,
    allowed: (url) => endpointAllowed(url, notificationUrls),
    onResult: (r) => sloMetrics.notifications.inc({ type: r.type, event: r.event, outcome: r.ok ? "sent" : "failed" }),
  });

  // One batch of recorded reads per Prometheus connection, measured and counted per batch.
  const tile = config.tile === null ? undefined : (config.tile ?? DEFAULT_TILE);
  const recorded = new RecordedReadCache({
    readOptions: tile !== undefined ? { tile } : {},
    onQuery: () => sloMetrics.queries.inc({ mode: "RecordingRules" }),
    onRefresh: (seconds, readings) => {
      sloMetrics.queryDuration.observe({ mode: "RecordingRules" }, seconds);
      const error = readings.find((r) => r.measurements.error)?.measurements.error;
      if (error) sloMetrics.queryErrors.inc({ mode: "RecordingRules", kind: errorKind(error) });
    },
  });
  const rulesFile = config.rulesDir ? new RulesFileWriter({ dir: config.rulesDir, logger: log }) : undefined;

  const targets = new TargetIndex(profiles);
  const owned = <T extends KubeObject>(type: ResourceType) =>
    new Informer<T, ManagedIndex>(client, type, {
      namespace: config.namespace,
      labelSelector: MANAGED_BY_TOLLGATE,
      resyncMs: config.resyncMs,
      logger: log,
      onError: () => metrics.informerErrors.inc({ resource: type.plural }),
      transform: withoutManagedFields,
      indexes: { namespace: byNamespace, owner: byOwnerUid },
    });
  const hpas = owned<HorizontalPodAutoscaler>(Resources.HorizontalPodAutoscaler);
  const events = new EventRecorder({ client, instance: identity, logger: log });

  const build = (istio: boolean): Manager => {
    const virtualServices = istio ? owned<VirtualService>(Resources.VirtualService) : undefined;
    const destinationRules = istio ? owned<DestinationRule>(Resources.DestinationRule) : undefined;
    const ownedSources = [hpas, virtualServices, destinationRules]
      .filter((i) => i !== undefined)
      // Their status (the HPA's every sync, Istio's validation messages) is nothing a profile reads.
      .map((i) => ({ informer: i as unknown as Informer<KubeObject>, map: ownerToProfiles, changed: changedBeyondStatus }));
    const applier = new DriftApplier(client);
    const prometheusRules = new PrometheusRuleApplier(client);
    const reconcile = profileReconciler({
      profiles,
      targets,
      deployments,
      replicaSets,
      virtualServices,
      destinationRules,
      hpas,
      prometheus: new PrometheusConnections(readSecret, {
        url: config.prometheusUrl,
        timeoutMs: config.prometheusTimeoutMs,
        connections: config.prometheusConnections,
        allowedAddresses: config.prometheusAllowedAddresses,
        profileHeaders: config.prometheusProfileHeaders,
      }),
      tenantChecks: [receiverCheck, canaryScopeCheck({ allowedGateways: config.allowedGateways ?? [], allowedHosts: config.allowedHosts ?? [] }), ...(rulesFile ? [rulesRejectedCheck(rulesFile, config.readMode)] : [])],
      syntax: new SyntaxChecker(),
      metrics: sloMetrics,
      logger: log,
      readMode: config.readMode,
      recorded,
      rulesDir: rulesFile !== undefined,
      tile,
      prometheusRules,
      recorder: new StatusRecorder(client, cachedProfile),
      actuators: {
        finalizer: new FinalizerActuator(client),
        deployment: new DeploymentActuator(client),
        istio: new IstioActuator(applier),
        hpa: new HpaActuator(applier),
        rules: new RulesActuator({ rulesFile, prometheusRules }),
      },
      events,
      notifier,
      delivered: new DeliveredMemory(),
    });
    return new Manager({
      specs: [
        {
          name: "profile",
          reconcile,
          forget: reconcile.forget,
          workers: config.workers,
          sources: [
            // Not its own status writes: see changedBeyondStatus.
            { informer: profiles as unknown as Informer<KubeObject>, changed: changedBeyondStatus },
            { informer: deployments as unknown as Informer<KubeObject>, map: deploymentToProfiles(targets) },
            ...ownedSources,
          ],
        },
      ],
      extraInformers: [replicaSets as unknown as Informer<KubeObject>],
      leases,
      metrics,
      logger: log,
    });
  };

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
        ready: () => manager?.ready() ?? { ok: false, reason: "starting" },
      });
      log.info(
        { metricsPort: health.port, namespace: config.namespace ?? "(all)", leaderElect: config.leaderElect, shards: config.shards ?? 1, readMode: config.readMode ?? "Direct", rulesDir: config.rulesDir },
        "serving /metrics, /healthz, /readyz",
      );
      const istio = await istioServed(client, log, () => stopped);
      if (!istio) log.warn("Istio's networking CRDs (networking.istio.io/v1) are not served: canaries and traffic policies cannot run");
      manager = build(istio);
      await manager.start();
    },
    async stop() {
      stopped = true;
      await manager?.stop();
      await notifier.drain();
      await health?.close();
    },
  };
}

/**
 * Leader election: the one leader Lease, or with --shards N > 1 a Lease per shard. Both use the
 * election's own client, and the same timings.
 */
function shardLeases(config: OperatorConfig, client: KubeClient, identity: string, log: Logger): ShardLeases {
  const timings = config.leaderElection ?? DEFAULT_LEADER_ELECTION;
  const shards = config.shards ?? 1;
  if (shards > 1) {
    return new ShardElector({
      client,
      namespace: config.leaderElectionNamespace,
      id: config.leaderElectionId,
      shards,
      identity,
      config: timings,
      ...(config.pod ? { owner: config.pod } : {}),
      logger: log,
    });
  }
  return leaderLeases(
    new LeaderElector({ client, namespace: config.leaderElectionNamespace, name: config.leaderElectionId, identity, config: timings, logger: log }),
  );
}

/**
 * The operator's two API clients. Controllers and informers share one, fenced on leadership (it aborts
 * their writes in flight when the term ends); the elector has its own, unfenced. Each has its own rate
 * limit, so however many requests the controllers queue (every profile's first pass after a restart),
 * the Lease's renewals never wait behind them.
 */
export function kubeClients(access: ClusterAccess, opts: { rateLimit: RateLimit; fence: Fence | undefined; metrics: RuntimeMetrics; now?: () => number }): { client: KubeClient; electionClient: KubeClient } {
  return {
    client: new KubeClient(access, { fence: opts.fence, rateLimit: opts.rateLimit, onRateLimitWait: opts.metrics.kubeApiRateLimitHook("controllers"), now: opts.now }),
    electionClient: new KubeClient(access, { rateLimit: opts.rateLimit, onRateLimitWait: opts.metrics.kubeApiRateLimitHook("leader-election"), now: opts.now }),
  };
}

/**
 * Whether the cluster serves Istio's networking API; asked once at start (installing Istio needs a
 * restart). An API server that cannot answer yet (restarting, a network blip while the Pod starts) is
 * asked again with backoff rather than ending the process: only a 404 means no Istio.
 */
export async function istioServed(client: KubeClient, log: Logger, stopped: () => boolean): Promise<boolean> {
  for (let failures = 0; ; failures++) {
    try {
      await client.request("GET", `/apis/${Resources.VirtualService.apiVersion}`);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return false;
      if (stopped()) throw err;
      const delayMs = backoffDelay(ISTIO_DISCOVERY_BACKOFF, failures);
      log.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: delayMs }, "cannot ask the API server whether Istio is served; asking again");
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

const ISTIO_DISCOVERY_BACKOFF = { baseMs: 500, maxMs: 10_000 };
