// The scale benches' workload: numbered Deployments without replicas and a profile of 2 SLOs on each,
// created in batches through the admin client, and read back a page at a time.

import { spawnSync } from "node:child_process";
import type { PerformanceProfile } from "../../src/api/types.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { loadClusterAccess } from "../../src/kube/cluster-access.ts";
import { Resources } from "../../src/kube/resources.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import { loadClusterEnv, ROOT, type ClusterEnv } from "../../e2e/support/env.ts";
import { deleteOperatorNamespace } from "../../e2e/support/identity.ts";
import { installCrds } from "../../e2e/support/kubectl.ts";

export async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

export const nameOf = (i: number) => `svc-${String(i).padStart(5, "0")}`;

/** Every profile of the namespace, a page at a time (10,000 profiles with status are tens of MB). */
export async function profiles(kube: KubeClient, ns: string): Promise<PerformanceProfile[]> {
  const out: PerformanceProfile[] = [];
  let next: string | undefined;
  do {
    const page = await kube.list<PerformanceProfile>(Resources.PerformanceProfile, ns, { limit: 500, continue: next });
    out.push(...page.items);
    next = page.metadata.continue || undefined;
  } while (next);
  return out;
}

/** Profiles `from` to `to` − 1, each on a Deployment of its own, evaluated every `interval`. */
export async function createProfiles(kube: KubeClient, ns: string, from: number, to: number, interval: string): Promise<void> {
  const names = Array.from({ length: to - from }, (_, i) => nameOf(from + i));
  // Deployments without replicas: the operator's caches hold them, kwok runs no pods for them.
  await inBatches(names, 50, (name) =>
    kube.apply(Resources.Deployment, {
      metadata: { name, namespace: ns, labels: { app: name } },
      spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "registry.example/app:1" }] } } },
    } as KubeObject, { fieldManager: "bench" }),
  );
  await inBatches(names, 50, (name) =>
    kube.apply(Resources.PerformanceProfile, {
      metadata: { name, namespace: ns },
      spec: {
        targetRef: { name },
        slos: [
          { name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } },
          { name: "latency", objective: 95, indicator: { istio: { kind: "latency", threshold: "500ms" } } },
        ],
        policy: { evaluationInterval: interval },
      },
    } as KubeObject, { fieldManager: "bench" }),
  );
}

/** The profiles without their finalizers, then gone: no operator runs to hand them back. */
export async function removeProfiles(kube: KubeClient, ns: string, count: number): Promise<void> {
  const names = Array.from({ length: count }, (_, i) => nameOf(i));
  await inBatches(names, 50, async (name) => {
    await kube.patch(Resources.PerformanceProfile, ns, name, { metadata: { finalizers: null } }).catch(() => undefined);
    await kube.delete(Resources.PerformanceProfile, ns, name).catch(() => undefined);
  });
}

/**
 * The test cluster up with Tollgate's CRDs, and dist/ compiled from this checkout, as the image runs
 * the operator; the cluster's environment and an admin client.
 */
export async function prepareBench(): Promise<{ env: ClusterEnv; kube: KubeClient }> {
  if (spawnSync("bash", [`${ROOT}/e2e/cluster/cluster.sh`, "up"], { stdio: "inherit" }).status !== 0) throw new Error("cluster up failed");
  if (spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" }).status !== 0) throw new Error("npm run build failed");
  const env = loadClusterEnv();
  await installCrds();
  return { env, kube: new KubeClient(loadClusterAccess(env.KUBECONFIG)) };
}

/** What a bench leaves behind: its `count` profiles, the operator's namespace, and the rules files Prometheus loaded for it. */
export async function cleanUpBench(kube: KubeClient, env: ClusterEnv, ns: string, count: number): Promise<void> {
  await removeProfiles(kube, ns, count);
  await deleteOperatorNamespace(ns);
  spawnSync("bash", ["-c", `rm -f ${env.PROMETHEUS_RULES_DIR}/tollgate_${ns}_*.yaml ${env.PROMETHEUS_RULES_DIR}/.tollgate_${ns}_* && curl -s -X POST ${env.PROMETHEUS_URL}/-/reload`]);
}
