// `npm run bench:scale`: one operator replica and BENCH_PROFILES profiles (default 2000) × 2 SLOs, every
// BENCH_INTERVAL (default 30s), in recording-rule mode. Prints the operator's resident memory, reconcile
// latency, Prometheus queries per cycle and status writes per quiet cycle, against DESIGN.md's targets
// (RSS ≤ 150 MiB, reconcile p99 ≤ 50 ms, O(1) queries per cycle, zero writes when nothing changed).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { KubeClient, loadKubeConfig } from "../src/kube/client.ts";
import { Resources } from "../src/kube/resources.ts";
import type { KubeObject } from "../src/kube/types.ts";
import { loadClusterEnv, ROOT } from "../e2e/support/env.ts";
import { installCrds } from "../e2e/support/kubectl.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "../e2e/support/identity.ts";
import { startOperator } from "../e2e/support/operator.ts";
import { exitOnSignals } from "../e2e/support/processes.ts";
import { sleep, waitFor } from "../e2e/support/wait.ts";

const PROFILES = Number(process.env.BENCH_PROFILES ?? 2000);
const INTERVAL = process.env.BENCH_INTERVAL ?? "30s";
const INTERVAL_S = Number(INTERVAL.replace(/s$/, ""));
const CYCLES = Number(process.env.BENCH_CYCLES ?? 4);

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Parses one metric's samples out of a Prometheus text exposition. */
function samples(text: string, name: string): Array<{ labels: string; value: number }> {
  return text
    .split("\n")
    .filter((l) => l.startsWith(name))
    .map((l) => {
      const i = l.lastIndexOf(" ");
      return { labels: l.slice(name.length, i), value: Number(l.slice(i + 1)) };
    });
}

/** The quantile of a histogram's buckets between two scrapes, by linear interpolation inside the bucket. */
function quantile(before: string, after: string, name: string, q: number): number {
  const read = (t: string) => {
    const m = new Map<number, number>();
    for (const s of samples(t, `${name}_bucket`)) {
      const le = /le="([^"]+)"/.exec(s.labels)?.[1];
      if (!le) continue;
      const bound = le === "+Inf" ? Infinity : Number(le);
      m.set(bound, (m.get(bound) ?? 0) + s.value);
    }
    return m;
  };
  const b = read(before);
  const a = read(after);
  const bounds = [...a.keys()].sort((x, y) => x - y);
  const counts = bounds.map((k) => (a.get(k) ?? 0) - (b.get(k) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const upper = bounds[i]!;
      if (!Number.isFinite(upper)) return prevBound;
      return prevBound + ((upper - prevBound) * (rank - prevCount)) / Math.max(1, counts[i]! - prevCount);
    }
    prevBound = bounds[i]!;
    prevCount = counts[i]!;
  }
  return prevBound;
}

const sum = (text: string, name: string, match = "") =>
  samples(text, name)
    .filter((s) => s.labels.includes(match))
    .reduce((acc, s) => acc + s.value, 0);

async function main(): Promise<void> {
  if (spawnSync("bash", [`${ROOT}/e2e/cluster/cluster.sh`, "up"], { stdio: "inherit" }).status !== 0) throw new Error("cluster up failed");
  const env = loadClusterEnv();
  await installCrds();
  const kube = new KubeClient(loadKubeConfig(env.KUBECONFIG));
  const ns = await createOperatorNamespace("bench-scale");
  const t0 = Date.now();
  const names = Array.from({ length: PROFILES }, (_, i) => `svc-${String(i).padStart(4, "0")}`);
  try {
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
          policy: { evaluationInterval: INTERVAL },
        },
      } as KubeObject, { fieldManager: "bench" }),
    );
    process.stdout.write(`${PROFILES} Deployments and profiles (2 SLOs each) created in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);

    const op = startOperator(
      ["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL, "--read-mode", "RecordingRules", "--rules-dir", env.PROMETHEUS_RULES_DIR, "--workers", "4"],
      { TOLLGATE_LOG_LEVEL: "info" },
    );
    try {
      const started = Date.now();
      await waitFor("every profile reconciled once", async () => {
        const m = (await op.http("/metrics")).body;
        return sum(m, "tollgate_reconcile_duration_seconds_count", 'controller="profile"') >= PROFILES ? true : undefined;
      }, { timeoutMs: 600_000, intervalMs: 2_000 });
      process.stdout.write(`first pass over ${PROFILES} profiles: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      // Let the first writes (status, rules) settle, then measure steady cycles.
      await sleep(2 * INTERVAL_S * 1000);
      const before = (await op.http("/metrics")).body;
      const rss: number[] = [];
      for (let i = 0; i < CYCLES * INTERVAL_S; i += 5) {
        rss.push(rssMiB(op.pid));
        await sleep(5_000);
      }
      const after = (await op.http("/metrics")).body;
      const cycles = CYCLES;
      const reconciles = sum(after, "tollgate_reconcile_duration_seconds_count", 'controller="profile"') - sum(before, "tollgate_reconcile_duration_seconds_count", 'controller="profile"');
      const queries = sum(after, "tollgate_prometheus_queries_total", 'mode="RecordingRules"') - sum(before, "tollgate_prometheus_queries_total", 'mode="RecordingRules"');
      const direct = sum(after, "tollgate_prometheus_queries_total", 'mode="Direct"') - sum(before, "tollgate_prometheus_queries_total", 'mode="Direct"');
      const p50 = quantile(before, after, "tollgate_reconcile_duration_seconds", 0.5) * 1000;
      const p99 = quantile(before, after, "tollgate_reconcile_duration_seconds", 0.99) * 1000;
      process.stdout.write(
        [
          `steady state over ${cycles} cycles of ${INTERVAL}:`,
          `  reconciles      ${reconciles} (${(reconciles / cycles).toFixed(0)} per cycle, ${PROFILES} profiles)`,
          `  reconcile p50   ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (target p99 ≤ 50 ms; includes waiting for the cycle's batched read)`,
          `  queries/cycle   ${(queries / cycles).toFixed(1)} recorded, ${(direct / cycles).toFixed(1)} direct (target O(1))`,
          `  RSS             max ${Math.max(...rss).toFixed(0)} MiB, last ${rss.at(-1)!.toFixed(0)} MiB (target ≤ 150 MiB)`,
        ].join("\n") + "\n",
      );
      // Quiet: status writes in one steady cycle, counted as the profiles' resourceVersions that moved.
      const list = async () => new Map((await kube.list(Resources.PerformanceProfile, ns)).items.map((p) => [p.metadata?.name, p.metadata?.resourceVersion]));
      const v0 = await list();
      await sleep(INTERVAL_S * 1000);
      const v1 = await list();
      const moved = [...v1].filter(([k, v]) => v0.get(k) !== v).length;
      process.stdout.write(`  status writes   ${moved} in one quiet cycle of ${INTERVAL} (target 0)\n`);
    } finally {
      await op.stop();
    }
  } finally {
    await deleteOperatorNamespace(ns);
    spawnSync("bash", ["-c", `rm -f ${env.PROMETHEUS_RULES_DIR}/tollgate_${ns}_*.yaml && curl -s -X POST ${env.PROMETHEUS_URL}/-/reload`]);
  }
}

exitOnSignals();
main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
