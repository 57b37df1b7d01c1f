// `npm run bench:reaction`: how long after a budget crosses freezeAt in Prometheus the Deployment is
// paused. Runs several profiles at once on the local cluster, each with its own Deployment and simulated
// traffic; for each, polls Prometheus with the very expression Tollgate evaluates and the Deployment's
// spec.paused, every 100 ms, and prints the gap against the target of one evaluation interval + 2 s.
import { spawnSync } from "node:child_process";
import { parseDuration } from "../src/api/duration.ts";
import { profileSpecSchema } from "../src/api/profile.ts";
import { KubeClient } from "../src/kube/client.ts";
import { loadClusterAccess } from "../src/kube/cluster-access.ts";
import { PrometheusClient } from "../src/prometheus/client.ts";
import { budgetExpr, measureReaction } from "../e2e/support/reaction.ts";
import { startSimulator } from "../e2e/simulator/client.ts";
import { loadClusterEnv, ROOT } from "../e2e/support/env.ts";
import { applyYaml, installCrds, kubectlOk } from "../e2e/support/kubectl.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "../e2e/support/identity.ts";
import { startOperator } from "../e2e/support/operator.ts";
import { exitOnSignals } from "../e2e/support/processes.ts";
import { sleep } from "../e2e/support/wait.ts";
import { deploymentYaml } from "../e2e/support/workloads.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const INTERVAL = process.env.BENCH_INTERVAL ?? "5s";
const POLL_MS = 100;

function profile(name: string) {
  return {
    apiVersion: "tollgate.dev/v1alpha1",
    kind: "PerformanceProfile",
    metadata: { name },
    spec: {
      targetRef: { name },
      slos: [{ name: "availability", objective: 99.5, window: "1m", indicator: { istio: { kind: "availability" } } }],
      policy: { evaluationInterval: INTERVAL, minEvents: 100, stableAfter: "1h" },
    },
  };
}

async function main(): Promise<void> {
  if (spawnSync("bash", [`${ROOT}/e2e/cluster/cluster.sh`, "up"], { stdio: "inherit" }).status !== 0) throw new Error("cluster up failed");
  const env = loadClusterEnv();
  await installCrds();
  const kube = new KubeClient(loadClusterAccess(env.KUBECONFIG));
  const prom = new PrometheusClient({ url: env.PROMETHEUS_URL, retries: 0, timeoutMs: 2_000 });
  const sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
  const namespaces: string[] = [];
  const operators = [];
  try {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const ns = await createOperatorNamespace("bench-reaction");
      namespaces.push(ns);
      const name = `svc-${i}`;
      await applyYaml(deploymentYaml(name, "registry.example/svc:1"), ns);
      await sim.setWorkload(ns, name, { rate: 1000, errorRatio: 0 });
      await applyYaml(JSON.stringify(profile(name)), ns);
      operators.push(startOperator(["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL], { TOLLGATE_LOG_LEVEL: "warn" }));
      runs.push({ ns, name, expr: budgetExpr(ns, name, profileSpecSchema.parse(profile(name).spec)) });
    }
    for (const r of runs) await kubectlOk(["-n", r.ns, "rollout", "status", `deployment/${r.name}`, "--timeout=60s"]);
    process.stdout.write(`${RUNS} profiles, evaluationInterval ${INTERVAL}, window 1m, 99.5 %: healthy traffic for 20 s, then 1 % errors\n`);
    await sleep(20_000);

    const results = await Promise.all(
      runs.map(async (r, i) => {
        await sleep(i * 1_700); // spread the crossings over the evaluation cycle
        await sim.setWorkload(r.ns, r.name, { errorRatio: 0.01 });
        const { crossedAt, pausedAt } = await measureReaction({ prom, kube, namespace: r.ns, deployment: r.name, expr: r.expr, budget: 0.005, pollMs: POLL_MS });
        return { name: r.name, crossedAt, pausedAt };
      }),
    );
    const target = parseDuration(INTERVAL) + 2_000;
    const gaps: number[] = [];
    for (const r of results) {
      if (r.crossedAt === undefined || r.pausedAt === undefined) {
        process.stdout.write(`${r.name}: no freeze within 120 s\n`);
        continue;
      }
      const gap = r.pausedAt - r.crossedAt;
      gaps.push(gap);
      process.stdout.write(`${r.name}: crossed 100 % in Prometheus, paused ${(gap / 1000).toFixed(2)} s later (${(gap / target).toFixed(2)} of the target)\n`);
    }
    if (gaps.length) {
      const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      const max = Math.max(...gaps);
      process.stdout.write(
        `reaction: mean ${(mean / 1000).toFixed(2)} s, max ${(max / 1000).toFixed(2)} s; target ${(target / 1000).toFixed(1)} s ` +
          `(evaluationInterval + 2 s); max/target ${(max / target).toFixed(2)}\n`,
      );
    }
  } finally {
    await Promise.all(operators.map((o) => o.stop()));
    await sim.stop();
    for (const ns of namespaces) await deleteOperatorNamespace(ns);
  }
}

exitOnSignals();
main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
