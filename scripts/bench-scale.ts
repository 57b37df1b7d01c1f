// `npm run bench:scale`: how the operator grows with the profiles it governs (issue 13). One replica,
// profiles of 2 SLOs every BENCH_INTERVAL (default 30s) in recording-rule mode, measured at each of
// BENCH_SIZES profiles (default 0,2000,5000,10000; e.g. BENCH_SIZES=0,200 for a quick run; the older
// BENCH_PROFILES=N measures N alone). The operator is the compiled dist/ (built here with
// `npm run build`) under the image's V8 flags and NODE_ENV, as the image runs it, with its default API
// rate limit and workers (TOLLGATE_KUBE_API_QPS, TOLLGATE_KUBE_API_BURST and TOLLGATE_WORKERS in the
// environment reach it);
// BENCH_NODE_ARGS adds V8 flags, for a CPU or heap profile of what is measured. BENCH_ADOPT_QPS raises the
// rate limit of the operator that adopts new profiles only (adoption is setup, not a measured figure:
// 10,000 new profiles take ~50 min at 20 requests/s); the measured operator keeps the rate above.
// BENCH_VARIANTS (scripts/bench-scale/variants.ts) measures several launches at each size, on the same
// profiles, e.g. "image;--optimize-for-size;MALLOC_ARENA_MAX=2", and compares them; the first is the
// one the slopes and the JSON line describe. BENCH_HEAP_SNAPSHOTS=DIR writes a heap snapshot of the
// operator (the first variant's) into DIR at each size once its figures are taken (read it with
// scripts/heap-breakdown.ts).
//
// Profiles accumulate in one namespace from size to size. At each size:
//   1. the profiles added since the last size are created, and an operator writes their first status
//      and rules file (adoption: every new profile's finalizer and status go through the rate limit);
//   2. that operator stops and a fresh one starts: its first full pass (until it leads and /readyz says
//      every controller finished its first pass, and every profile was reconciled) is the restart
//      the issue's 60 s is about, with its API request rate (no storm after a restart);
//   3. after two intervals, BENCH_CYCLES (default 4) steady cycles: resident memory every 5 s (median),
//      reconcile p99, Prometheus queries per cycle, API requests per second, and Node's own memory
//      figures from /metrics; the process's high-water mark is its peak RSS;
//   4. one quiet cycle: the controllers' API writes in it (every kind, from the rate limit's count) and
//      the profiles whose status moved.
// Each figure is printed against its target (RSS 80 MiB idle, 150 MiB at 2,000, 256 MiB at 10,000,
// interpolated between; reconcile p99 50 ms excluding Prometheus; first pass 60 s; queries per cycle
// constant; 0 quiet writes; requests/s within --kube-api-qps), then the slopes between sizes per 1,000
// profiles, and last one JSON line of the largest size (rssMiB: its peak).
//
// "Excluding Prometheus": the operator counts the passes that waited on Prometheus (a recorded read in
// flight) in tollgate_reconcile_prometheus_wait_seconds; that many of the slowest reconciles are left
// out of the p99 (scripts/bench-scale/metrics.ts, waitedOnPrometheus). The p99 of all reconciles, an
// upper bound, is printed beside it.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { KubeClient } from "../src/kube/client.ts";
import { DEFAULT_KUBE_API_RATE } from "../src/operator.ts";
import { ROOT, type ClusterEnv } from "../e2e/support/env.ts";
import { createOperatorNamespace } from "../e2e/support/identity.ts";
import { IMAGE_LAUNCH, startOperator, type OperatorProcess } from "../e2e/support/operator.ts";
import { exitOnSignals } from "../e2e/support/processes.ts";
import { sleep, waitFor } from "../e2e/support/wait.ts";
import { quantile } from "./bench-prometheus/stats.ts";
import { peakRssKiB, rssKiB } from "./soak/replicas.ts";
import { apiRequests, bucketDeltas, delta, histogramQuantile, memoryFigures, total, waitedOnPrometheus } from "./bench-scale/metrics.ts";
import { parseSizes, sizeLines, slopeLines, summaryJson, type SizeFigures } from "./bench-scale/report.ts";
import { parseVariants, variantLines, type Variant } from "./bench-scale/variants.ts";
import { cleanUpBench, createProfiles, prepareBench, profiles } from "./bench-scale/workload.ts";

const SIZES = parseSizes(process.env.BENCH_SIZES ?? process.env.BENCH_PROFILES);
const INTERVAL = process.env.BENCH_INTERVAL ?? "30s";
const INTERVAL_S = Number(INTERVAL.replace(/s$/, ""));
const CYCLES = Number(process.env.BENCH_CYCLES ?? 4);
/** More V8 flags for the operator, after the image's (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", which NODE_OPTIONS refuses). */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
const VARIANTS = parseVariants(process.env.BENCH_VARIANTS);
const SNAPSHOTS = process.env.BENCH_HEAP_SNAPSHOTS;
/**
 * BENCH_RULES=scratch: the operator writes its rules files into a directory Prometheus does not load.
 * The bench's Deployments run no pods, so their rules record nothing either way, and the operator does
 * the same work (renders, has Prometheus parse, writes, asks for reloads, reads two queries a cycle);
 * what goes is Prometheus evaluating and reloading them, which past a few thousand profiles takes this
 * machine's two cores by itself (a reload with 1,657 files did not answer within 10 minutes).
 */
const RULES = process.env.BENCH_RULES ?? "prometheus";
/** The controllers' rate limit the operator runs with: its default unless the environment sets one. */
const QPS = Number(process.env.TOLLGATE_KUBE_API_QPS ?? DEFAULT_KUBE_API_RATE.qps);
/** Adoption fails when neither statuses nor rules files grew for this long. */
const ADOPTION_STALL_MS = 5 * 60_000;
/** The adopting operator's rate limit (BENCH_ADOPT_QPS), the measured one's by default. */
const ADOPT_QPS = Number(process.env.BENCH_ADOPT_QPS ?? QPS);

const seconds = (fromMs: number) => (Date.now() - fromMs) / 1000;

/** Signals the operator to write a heap snapshot into `dir`, and resolves with its path once written. */
async function heapSnapshot(pid: number, dir: string): Promise<string> {
  const mine = () => readdirSync(dir).filter((f) => f.endsWith(".heapsnapshot") && f.includes(`.${pid}.`));
  const before = new Set(mine());
  process.kill(pid, "SIGUSR2");
  const file = await waitFor("the heap snapshot", () => mine().find((f) => !before.has(f)), { timeoutMs: 300_000, intervalMs: 1_000 });
  // Node streams the snapshot into the file as it serializes it: written once its size holds for 4 s.
  const sizes: number[] = [];
  await waitFor("the heap snapshot written", () => {
    sizes.push(statSync(join(dir, file)).size);
    const [a, b, c] = sizes.slice(-3);
    return c !== undefined && c > 0 && a === b && b === c ? true : undefined;
  }, { timeoutMs: 300_000, intervalMs: 2_000 });
  process.stdout.write(`  heap snapshot: ${join(dir, file)}\n`);
  return join(dir, file);
}

/** The rules files of the namespace's profiles in Prometheus's rules directory. */
function rulesFiles(dir: string, ns: string): number {
  return readdirSync(dir).filter((f) => f.startsWith(`tollgate_${ns}_`) && f.endsWith(".yaml")).length;
}
const MiB = (kib: number | undefined) => (kib === undefined ? NaN : kib / 1024);

/** Resolves with `work`, or fails as soon as the operator exits (out of memory, say) instead of at a timeout. */
async function whileAlive<T>(op: OperatorProcess, work: Promise<T>): Promise<T> {
  const died = op.exited.then((code) => {
    throw new Error(`the operator exited (${code ?? "signal"}) while it was measured`);
  });
  return Promise.race([work, died]);
}

class Bench {
  private readonly kube: KubeClient;
  private readonly env: ClusterEnv;
  private readonly ns: string;
  /** Where the operator writes rules files: Prometheus's rules directory, or a scratch one (BENCH_RULES). */
  readonly rulesDir: string;

  constructor(kube: KubeClient, env: ClusterEnv, ns: string, rulesDir: string) {
    this.kube = kube;
    this.env = env;
    this.ns = ns;
    this.rulesDir = rulesDir;
  }

  private start(qps: number, variant: Variant): OperatorProcess {
    return startOperator(
      ["--namespace", this.ns, "--prometheus-url", this.env.PROMETHEUS_URL, "--read-mode", "RecordingRules", "--rules-dir", this.rulesDir, "--kube-api-qps", String(qps)],
      { TOLLGATE_LOG_LEVEL: "info", ...variant.env },
      {
        ...IMAGE_LAUNCH,
        ...(variant.entry ? { entry: resolve(ROOT, variant.entry) } : {}),
        nodeArgs: [
          ...(IMAGE_LAUNCH.nodeArgs ?? []),
          ...variant.nodeArgs,
          ...NODE_ARGS,
          ...(SNAPSHOTS ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${SNAPSHOTS}`] : []),
        ],
      },
    );
  }

  private async metrics(op: OperatorProcess): Promise<string> {
    return (await op.http("/metrics")).body;
  }

  /** An operator writes the first status of every profile; resolves with the seconds and API requests per second it took. */
  private async adopt(size: number): Promise<{ s: number; apiPerS: number }> {
    const op = this.start(ADOPT_QPS, VARIANTS[0]!);
    const started = Date.now();
    try {
      // Adopted: a status, and the rules file Prometheus records the profile from, for every profile.
      // Rules come a cycle after the status (once the recorded read says how far tiles reach); a
      // restart measured before they are all written would measure their first writes as steady work.
      // However long it takes while it goes on: on this machine the API server and Prometheus (reloading
      // thousands of rules files) set the pace, not the operator's rate limit. Stuck is an error.
      let progress = { done: -1, atMs: Date.now() };
      await whileAlive(
        op,
        waitFor(`every one of ${size} profiles with a status and a rules file`, async () => {
          const all = await profiles(this.kube, this.ns);
          const done = all.filter((p) => p.status?.observedGeneration !== undefined).length + rulesFiles(this.rulesDir, this.ns);
          if (done > progress.done) progress = { done, atMs: Date.now() };
          else if (Date.now() - progress.atMs > ADOPTION_STALL_MS) throw new Error(`no profile adopted and no rules file written for ${ADOPTION_STALL_MS / 60_000} min`);
          return done >= 2 * size ? true : undefined;
        }, { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 10_000 }),
      );
      const s = seconds(started);
      return { s, apiPerS: apiRequests("", await this.metrics(op), "controllers") / s };
    } finally {
      await op.stop();
    }
  }

  async measure(size: number, added: number, variant: Variant): Promise<SizeFigures> {
    const adoption = added > 0 ? await this.adopt(size) : { s: NaN, apiPerS: NaN };
    if (added > 0) process.stdout.write(`  ${added} new profiles have their first status after ${adoption.s.toFixed(0)} s; restarting the operator\n`);

    const op = this.start(QPS, variant);
    const started = Date.now();
    try {
      // The first full pass after a restart, as the operator itself reports it: leading, and every
      // controller's first pass done (/readyz), with every profile reconciled at least once.
      await whileAlive(
        op,
        waitFor(`a first full pass over ${size} profiles`, async () => {
          const ready = await op.http("/readyz");
          if (ready.status !== 200 || !ready.body.includes("leading")) return undefined;
          return total(await this.metrics(op), "tollgate_reconcile_duration_seconds_count", { controller: "profile" }) >= size ? true : undefined;
        }, { timeoutMs: 600_000 + (size * 2 * 1000) / QPS, intervalMs: 250 }),
      );
      const firstPassS = seconds(started);
      const firstPassApiPerS = apiRequests("", await this.metrics(op), "controllers") / firstPassS;
      process.stdout.write(`  first full pass after a restart: ${firstPassS.toFixed(1)} s; steady cycles next\n`);

      // Each profile's second pass after a restart checks its rules file against its rules (the first
      // leaves them alone until the recorded read says how far tiles reach), one interval after the first
      // round, spread over the interval: part of the restart, not of a steady cycle.
      await whileAlive(op, sleep(2 * INTERVAL_S * 1000));
      const before = await this.metrics(op);
      const windowStarted = Date.now();
      const rss: number[] = [];
      for (let i = 0; i < CYCLES * INTERVAL_S; i += 5) {
        rss.push(MiB(rssKiB(op.pid)));
        await whileAlive(op, sleep(5_000));
      }
      const after = await this.metrics(op);
      const windowS = seconds(windowStarted);

      const profile = { controller: "profile" };
      const reconciles = delta(before, after, "tollgate_reconcile_duration_seconds_count", profile);
      const failedReconciles = delta(before, after, "tollgate_reconcile_duration_seconds_count", { ...profile, outcome: "error" });
      const buckets = bucketDeltas(before, after, "tollgate_reconcile_duration_seconds", profile);
      const waited = waitedOnPrometheus(before, after);

      // Quiet: one more cycle in which nothing changed.
      const statusBefore = new Map((await profiles(this.kube, this.ns)).map((p) => [p.metadata?.name, p.metadata?.resourceVersion]));
      const quietBefore = await this.metrics(op);
      await whileAlive(op, sleep(INTERVAL_S * 1000));
      const quietAfter = await this.metrics(op);
      const statusAfter = await profiles(this.kube, this.ns);

      const figures: SizeFigures = {
        profiles: size,
        rssSteadyMiB: quantile(rss, 0.5),
        rssPeakMiB: MiB(peakRssKiB(op.pid)),
        reconcileP99Ms: histogramQuantile(buckets, 0.99, waited) * 1000,
        reconcileP99AllMs: histogramQuantile(buckets, 0.99) * 1000,
        waitedOnPrometheus: waited,
        reconciles,
        failedReconciles,
        cycles: windowS / INTERVAL_S,
        cpuCores: delta(before, after, "tollgate_process_cpu_seconds_total") / windowS,
        firstPassS,
        added,
        adoptionS: adoption.s,
        queriesPerCycle: delta(before, after, "tollgate_prometheus_queries_total") / (windowS / INTERVAL_S),
        quietWrites: apiRequests(quietBefore, quietAfter, "controllers", "writes"),
        quietStatusWrites: statusAfter.filter((p) => statusBefore.get(p.metadata?.name) !== p.metadata?.resourceVersion).length,
        apiPerS: { adoption: adoption.apiPerS, firstPass: firstPassApiPerS, steady: apiRequests(before, after, "controllers") / windowS },
        memory: memoryFigures(after),
      };
      // Last: writing a snapshot stops the operator for seconds and costs memory of its own.
      if (SNAPSHOTS && variant === VARIANTS[0]) await whileAlive(op, heapSnapshot(op.pid, SNAPSHOTS));
      return figures;
    } finally {
      await op.stop();
    }
  }
}

async function main(): Promise<void> {
  if (SNAPSHOTS) mkdirSync(SNAPSHOTS, { recursive: true });
  const { env, kube } = await prepareBench();
  const ns = await createOperatorNamespace("bench-scale");
  if (RULES !== "prometheus" && RULES !== "scratch") throw new Error(`BENCH_RULES must be prometheus or scratch, not ${JSON.stringify(RULES)}`);
  const scratch = RULES === "scratch" ? mkdtempSync(join(tmpdir(), "tollgate-bench-rules-")) : undefined;
  const bench = new Bench(kube, env, ns, scratch ?? env.PROMETHEUS_RULES_DIR);
  const results: SizeFigures[] = [];
  let created = 0;
  process.stdout.write(`scale bench: sizes ${SIZES.join(", ")}; ${CYCLES} steady cycles of ${INTERVAL}; API rate ${QPS}/s per client${ADOPT_QPS !== QPS ? ` (${ADOPT_QPS}/s adopting new profiles)` : ""}; rules files ${scratch ? `in ${scratch}, which Prometheus does not load` : "loaded by Prometheus"}\n`);
  try {
    for (const size of SIZES) {
      const t0 = Date.now();
      if (size > created) {
        await createProfiles(kube, ns, created, size, INTERVAL);
        process.stdout.write(`${size - created} Deployments and profiles (2 SLOs each) created in ${seconds(t0).toFixed(0)} s\n`);
      }
      const added = size - created;
      created = size;
      const compared: Array<{ variant: Variant; figures: SizeFigures }> = [];
      for (const [i, variant] of VARIANTS.entries()) {
        if (VARIANTS.length > 1) process.stdout.write(`variant ${variant.label}\n`);
        const figures = await bench.measure(size, i === 0 ? added : 0, variant);
        compared.push({ variant, figures });
        const baseline = results.find((r) => r.profiles > 0);
        process.stdout.write(`${sizeLines(figures, { intervalS: INTERVAL_S, cycles: CYCLES, qps: QPS, adoptQps: ADOPT_QPS, baselineQueries: baseline?.queriesPerCycle }).join("\n")}\n`);
      }
      results.push(compared[0]!.figures);
      if (VARIANTS.length > 1) process.stdout.write(`${variantLines(compared).join("\n")}\n`);
    }
    if (results.length > 1) process.stdout.write(`slopes between sizes:\n${slopeLines(results).join("\n")}\n`);
    process.stdout.write(`${summaryJson(results)}\n`);
  } finally {
    await cleanUpBench(kube, env, ns, created);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

exitOnSignals();
main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
