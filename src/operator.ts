import type { Logger } from "pino";
import type { PerformanceProfile } from "./api/types.ts";
import { profileReconciler } from "./controllers/profile.ts";
import { KubeClient, loadKubeConfig } from "./kube/client.ts";
import { Resources } from "./kube/resources.ts";
import { Controller } from "./runtime/controller.ts";
import { Informer } from "./runtime/informer.ts";

export interface OperatorConfig {
  kubeconfig?: string;
  /** Watch one namespace; all when undefined. */
  namespace?: string;
  workers: number;
  resyncMs: number;
}

export interface Operator {
  /** Resolves once the caches have synced and the controllers run. */
  start(): Promise<void>;
  /** Stops taking work and waits for in-flight reconciles. */
  stop(): Promise<void>;
}

export function createOperator(config: OperatorConfig, logger: Logger): Operator {
  const client = new KubeClient(loadKubeConfig(config.kubeconfig));
  const profiles = new Informer<PerformanceProfile>(client, Resources.PerformanceProfile, {
    namespace: config.namespace,
    resyncMs: config.resyncMs,
    logger,
  });
  const profileController = new Controller("profile", profileReconciler({ client, profiles, logger }), {
    workers: config.workers,
    logger,
  });
  profileController.watch(profiles);

  return {
    async start() {
      profiles.start();
      await profiles.synced;
      profileController.start();
      logger.info({ namespace: config.namespace ?? "(all)", profiles: profiles.size }, "caches synced; reconciling");
    },
    async stop() {
      await profileController.stop();
      profiles.stop();
    },
  };
}
