import type { ProfileSpec } from "../../src/api/profile.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { Resources } from "../../src/kube/resources.ts";
import type { PrometheusClient } from "../../src/prometheus/client.ts";
import { isPlanError, planSlo } from "../../src/slo/plan.ts";
import type { Deployment } from "../../src/workload/deployment.ts";
import { sleep } from "./wait.ts";

/** The error-ratio expression Tollgate evaluates for a profile's first SLO over its whole window. */
export function budgetExpr(namespace: string, name: string, spec: ProfileSpec): string {
  const plan = planSlo({ namespace, name, spec }, spec.slos[0]!);
  if (isPlanError(plan)) throw new Error(plan.error);
  return plan.errorRatios.find((e) => e.window === plan.window)!.expr;
}

/**
 * How long after a budget crossed 100 % in Prometheus (by `expr`, against `budget` = 1 − objective)
 * the Deployment was paused: both instants are polled every `pollMs`, so each is known to that
 * precision. Either is undefined when it did not happen within `timeoutMs`.
 */
export async function measureReaction(opts: {
  prom: PrometheusClient;
  kube: KubeClient;
  namespace: string;
  deployment: string;
  expr: string;
  budget: number;
  pollMs?: number;
  timeoutMs?: number;
}): Promise<{ crossedAt?: number; pausedAt?: number }> {
  const pollMs = opts.pollMs ?? 100;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let crossedAt: number | undefined;
  let pausedAt: number | undefined;
  while (pausedAt === undefined && Date.now() < deadline) {
    const now = Date.now();
    if (crossedAt === undefined) {
      const ratio = (await opts.prom.query(opts.expr).catch(() => []))[0]?.value;
      if (ratio !== undefined && ratio / opts.budget >= 1) crossedAt = now;
    }
    const d = await opts.kube.find<Deployment>(Resources.Deployment, opts.namespace, opts.deployment);
    if (d?.spec?.paused) pausedAt = Date.now();
    await sleep(Math.max(0, pollMs - (Date.now() - now)));
  }
  return { crossedAt, pausedAt };
}
