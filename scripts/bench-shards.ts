// `npm run bench:shards`: issue 13's sharded scale. BENCH_PROFILES (default 30,000) profiles of 2 SLOs
// every BENCH_INTERVAL (30s) in recording-rule mode, over BENCH_REPLICAS (3) operator processes with
// --shards BENCH_SHARDS (6), each the compiled dist/ under the image's V8 flags and NODE_ENV with its
// default API rate limit, as scripts/bench-scale.ts runs one.
//
//   1. The profiles (each on a Deployment without replicas) are created BENCH_BATCH (1,000) at a time.
//      Should the test cluster not hold them all (etcd's space quota, the API server's memory), creating
//      stops there, the bench says where and why, and measures the profiles that exist.
//   2. The replicas start together; the first full pass ends when every shard's Lease is held, every
//      replica is ready (its shards' first passes done) and every profile has a status.
//   3. After one interval, BENCH_CYCLES (4) steady cycles, measured per replica: the shards and profiles
//      it holds, resident memory every 5 s (median) and its high-water mark, reconcile p99 (excluding
//      Prometheus, estimated as bench:scale does, and all), Prometheus queries per cycle, API requests/s.
// Each replica is held to the memory target of the profiles it holds; a JSON line closes the run.
import type { KubeClient } from "../src/kube/client.ts";
import { Resources } from "../src/kube/resources.ts";
import type { KubeObject } from "../src/kube/types.ts";
import { shardOf } from "../src/sharding/shard-of.ts";
import { loadClusterEnv } from "../e2e/support/env.ts";
import { createOperatorNamespace } from "../e2e/support/identity.ts";
import { IMAGE_LAUNCH, startOperator, type OperatorProcess } from "../e2e/support/operator.ts";
import { exitOnSignals } from "../e2e/support/processes.ts";
import { sleep, waitFor } from "../e2e/support/wait.ts";
import { quantile } from "./bench-prometheus/stats.ts";
import { apiRequests, bucketDeltas, delta, histogramQuantile, memoryFigures, total, waitedOnPrometheus } from "./bench-scale/metrics.ts";
import { cleanUpBench, createProfiles, nameOf, prepareBench, profiles } from "./bench-scale/workload.ts";
import { runJson, runLines, type ReplicaFigures, type ShardedRun } from "./bench-shards/report.ts";
import { peakRssKiB, rssKiB } from "./soak/replicas.ts";

const count = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, not ${JSON.stringify(raw)}`);
  return n;
};

const PROFILES = count("BENCH_PROFILES", 30_000);
const REPLICAS = count("BENCH_REPLICAS", 3);
const SHARDS = count("BENCH_SHARDS", 6);
const BATCH = count("BENCH_BATCH", 1_000);
const CYCLES = count("BENCH_CYCLES", 4);
const INTERVAL = process.env.BENCH_INTERVAL ?? "30s";
const INTERVAL_S = Number(INTERVAL.replace(/s$/, ""));
const ELECTION = "tollgate-leader";

const seconds = (fromMs: number) => (Date.now() - fromMs) / 1000;
const MiB = (kib: number | undefined) => (kib === undefined ? NaN : kib / 1024);

interface Lease extends KubeObject {
  spec?: { holderIdentity?: string };
}

/** Who holds each shard now ("" for nobody). */
async function holders(kube: KubeClient, ns: string): Promise<Map<number, string>> {
  const list = await kube.list<Lease>(Resources.Lease, ns, { labelSelector: `tollgate.dev/election=${ELECTION},tollgate.dev/lease-role=shard,tollgate.dev/shards=${SHARDS}` });
  return new Map(list.items.map((l) => [Number(l.metadata?.labels?.["tollgate.dev/shard"]), l.spec?.holderIdentity ?? ""]));
}

/** Resolves with `work`, or fails as soon as any replica exits (out of memory, say) instead of at a timeout. */
async function whileAlive<T>(ops: ReadonlyMap<string, OperatorProcess>, work: Promise<T>): Promise<T> {
  const died = [...ops].map(([identity, op]) =>
    op.exited.then((code) => {
      throw new Error(`replica ${identity} exited (${code ?? "signal"}) while it was measured`);
    }),
  );
  return Promise.race([work, ...died]);
}

/**
 * Creates the profiles a batch at a time; returns how many exist, why it stopped short if it did, and
 * how many names were tried (a failed batch may be partly there), for the cleanup.
 */
async function createAll(kube: KubeClient, ns: string, tried: { names: number }): Promise<{ created: number; stoppedBecause?: string }> {
  let created = 0;
  const t0 = Date.now();
  while (created < PROFILES) {
    const to = Math.min(PROFILES, created + BATCH);
    tried.names = to;
    try {
      await createProfiles(kube, ns, created, to, INTERVAL);
    } catch (err) {
      const have = (await profiles(kube, ns).catch(() => [])).length;
      const why = err instanceof Error ? err.message : String(err);
      process.stdout.write(`creating profiles stopped at ${have} of ${PROFILES} after ${seconds(t0).toFixed(0)} s: ${why}\n`);
      return { created: have, stoppedBecause: why };
    }
    created = to;
    process.stdout.write(`  ${created} of ${PROFILES} Deployments and profiles created (${seconds(t0).toFixed(0)} s)\n`);
  }
  return { created };
}

async function measure(kube: KubeClient, ns: string, env: ReturnType<typeof loadClusterEnv>, created: number): Promise<Omit<ShardedRun, "requested" | "created" | "stoppedBecause">> {
  const ops = new Map<string, OperatorProcess>();
  const started = Date.now();
  for (let i = 0; i < REPLICAS; i++) {
    const identity = `bench-replica-${i}`;
    ops.set(
      identity,
      startOperator(
        ["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL, "--read-mode", "RecordingRules", "--rules-dir", env.PROMETHEUS_RULES_DIR, "--workers", "4", "--shards", String(SHARDS)],
        { TOLLGATE_LOG_LEVEL: "info", POD_NAME: identity },
        IMAGE_LAUNCH,
      ),
    );
  }
  try {
    await whileAlive(
      ops,
      waitFor(
        `a first full pass over ${created} profiles`,
        async () => {
          const held = await holders(kube, ns);
          if (held.size < SHARDS || [...held.values()].some((h) => !ops.has(h))) return undefined;
          for (const op of ops.values()) if ((await op.http("/readyz")).status !== 200) return undefined;
          const all = await profiles(kube, ns);
          return all.filter((p) => p.status?.observedGeneration !== undefined).length >= created ? true : undefined;
        },
        { timeoutMs: 1_800_000, intervalMs: 10_000 },
      ),
    );
    const firstPassS = seconds(started);
    process.stdout.write(`  first full pass: ${firstPassS.toFixed(1)} s; steady cycles next\n`);

    await whileAlive(ops, sleep(INTERVAL_S * 1000));
    const metrics = async () => new Map(await Promise.all([...ops].map(async ([id, op]) => [id, (await op.http("/metrics")).body] as const)));
    const before = await metrics();
    const windowStarted = Date.now();
    const rss = new Map([...ops.keys()].map((id) => [id, [] as number[]]));
    for (let i = 0; i < CYCLES * INTERVAL_S; i += 5) {
      for (const [id, op] of ops) rss.get(id)!.push(MiB(rssKiB(op.pid)));
      await whileAlive(ops, sleep(5_000));
    }
    const after = await metrics();
    const windowS = seconds(windowStarted);
    const held = await holders(kube, ns);
    // The profiles of each shard, taking the names created as the first `created` (a failed batch may
    // leave a few holes, which this miscounts by as many).
    const shardCounts = new Map<number, number>();
    for (let i = 0; i < created; i++) {
      const s = shardOf(`${ns}/${nameOf(i)}`, SHARDS);
      shardCounts.set(s, (shardCounts.get(s) ?? 0) + 1);
    }

    const replicas: ReplicaFigures[] = [...ops].map(([identity, op]) => {
      const b = before.get(identity) ?? "";
      const a = after.get(identity) ?? "";
      const profile = { controller: "profile" };
      const reconciles = delta(b, a, "tollgate_reconcile_duration_seconds_count", profile);
      const buckets = bucketDeltas(b, a, "tollgate_reconcile_duration_seconds", profile);
      const waited = waitedOnPrometheus(b, a);
      const shards = [...held].filter(([, h]) => h === identity).map(([s]) => s).sort((x, y) => x - y);
      return {
        identity,
        shards,
        profiles: shards.reduce((n, s) => n + (shardCounts.get(s) ?? 0), 0),
        reconciles,
        rssSteadyMiB: quantile(rss.get(identity) ?? [], 0.5),
        rssPeakMiB: MiB(peakRssKiB(op.pid)),
        reconcileP99Ms: histogramQuantile(buckets, 0.99, waited) * 1000,
        reconcileP99AllMs: histogramQuantile(buckets, 0.99) * 1000,
        waitedOnPrometheus: waited,
        queriesPerCycle: delta(b, a, "tollgate_prometheus_queries_total") / (windowS / INTERVAL_S),
        apiPerS: apiRequests(b, a, "controllers") / windowS,
        memory: memoryFigures(a),
      };
    });
    // Each profile is reconciled once a cycle by the one replica holding its shard: the reconciles add up.
    const inWindow = replicas.reduce((n, r) => n + r.reconciles, 0);
    const held1 = replicas.map((r) => total(after.get(r.identity) ?? "", "tollgate_shards_held"));
    process.stdout.write(`  ${inWindow} reconciles in ${windowS.toFixed(0)} s over all replicas (${(inWindow / (windowS / INTERVAL_S)).toFixed(0)} a cycle for ${created} profiles); shards held per replica: ${held1.join(", ")}\n`);
    return { shards: SHARDS, intervalS: INTERVAL_S, cycles: CYCLES, firstPassS, replicas };
  } finally {
    await Promise.all([...ops.values()].map((op) => op.stop()));
  }
}

async function main(): Promise<void> {
  const { env, kube } = await prepareBench();
  // The chart's Lease Role for shards: list, get and update on the namespace's Leases.
  const ns = await createOperatorNamespace("bench-shards", [`shards=${SHARDS}`]);
  process.stdout.write(`sharded scale bench: ${PROFILES} profiles over ${REPLICAS} replicas and ${SHARDS} shards; ${CYCLES} steady cycles of ${INTERVAL}\n`);
  let created = 0;
  const tried = { names: 0 };
  try {
    const made = await createAll(kube, ns, tried);
    created = made.created;
    if (created === 0) throw new Error(`no profile could be created: ${made.stoppedBecause ?? "unknown"}`);
    const run: ShardedRun = { requested: PROFILES, ...made, ...(await measure(kube, ns, env, created)) };
    process.stdout.write(`${runLines(run).join("\n")}\n${runJson(run)}\n`);
  } finally {
    await cleanUpBench(kube, env, ns, tried.names);
  }
}

exitOnSignals();
main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
