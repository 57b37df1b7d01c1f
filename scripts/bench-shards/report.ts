// The sharded scale bench's figures, per replica, against issue 13's targets for the profiles each
// replica holds, and its closing JSON line. Pure: the measuring is scripts/bench-shards.ts's.

import type { MemoryFigures } from "../bench-scale/metrics.ts";
import { FIRST_PASS_TARGET_S, P99_TARGET_MS, ratio, rssTarget } from "../bench-scale/report.ts";

/** What one replica measured over the steady cycles. NaN where a figure could not be had. */
export interface ReplicaFigures {
  identity: string;
  /** The shards it held at the end, and the profiles of those shards. */
  shards: number[];
  profiles: number;
  reconciles: number;
  rssSteadyMiB: number;
  rssPeakMiB: number;
  reconcileP99Ms: number;
  reconcileP99AllMs: number;
  waitedOnPrometheus: number;
  queriesPerCycle: number;
  apiPerS: number;
  memory: MemoryFigures;
}

export interface ShardedRun {
  /** BENCH_PROFILES, and how many the cluster took: fewer when creating them failed. */
  requested: number;
  created: number;
  /** Why creating stopped short of `requested`, in the API server's words. */
  stoppedBecause?: string;
  shards: number;
  intervalS: number;
  cycles: number;
  /** From the replicas' start until every shard was held, every replica ready and every profile reconciled. */
  firstPassS: number;
  replicas: ReplicaFigures[];
}

const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : "n/a");
const against = (value: number, target: number, unit: string, note = "") => {
  if (!Number.isFinite(value)) return "not measured";
  const r = ratio(value, target);
  return `${r.text} of ${target}${unit}${note} ${r.ok ? "ok" : "OVER"}`;
};

export function runLines(run: ShardedRun): string[] {
  const lines = [
    `${run.created} profiles (2 SLOs each, every ${run.intervalS}s) over ${run.replicas.length} replicas and ${run.shards} shards` +
      (run.created < run.requested ? `: creating ${run.requested} stopped at ${run.created}, ${run.stoppedBecause ?? "for a reason not reported"}` : ""),
    `  first full pass   ${fixed(run.firstPassS, 1)} s from the replicas' start  ${against(run.firstPassS, FIRST_PASS_TARGET_S, " s")}`,
  ];
  for (const r of run.replicas) {
    const rss = rssTarget(r.profiles);
    const rssAgainst = (v: number) => (rss ? against(v, Math.round(rss.mib), " MiB", rss.interpolated ? " (interpolated)" : "") : "no target past 10,000 profiles");
    lines.push(
      `  ${r.identity}: shards ${r.shards.join(", ") || "none"}, ${r.profiles} profiles, ${r.reconciles} reconciles over ${run.cycles} cycles`,
      `    RSS steady      ${fixed(r.rssSteadyMiB, 0)} MiB (median)  ${rssAgainst(r.rssSteadyMiB)}`,
      `    RSS peak        ${fixed(r.rssPeakMiB, 0)} MiB (high-water mark, first pass included)  ${rssAgainst(r.rssPeakMiB)}`,
      `    memory          heap used ${fixed(r.memory.heapUsedMiB, 0)} MiB of ${fixed(r.memory.heapTotalMiB, 0)} MiB, external ${fixed(r.memory.externalMiB, 0)} MiB`,
      `    reconcile p99   ${fixed(r.reconcileP99Ms, 1)} ms excluding Prometheus (${r.waitedOnPrometheus} left out), ${fixed(r.reconcileP99AllMs, 1)} ms all  ${against(r.reconcileP99Ms, P99_TARGET_MS, " ms")}`,
      `    queries/cycle   ${fixed(r.queriesPerCycle, 1)};  API requests/s ${fixed(r.apiPerS, 1)}`,
    );
  }
  return lines;
}

const round = (v: number, digits: number) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);

/** One JSON line: the run, and each replica's main figures. */
export function runJson(run: ShardedRun): string {
  return JSON.stringify({
    requested: run.requested,
    profiles: run.created,
    ...(run.stoppedBecause !== undefined ? { stoppedBecause: run.stoppedBecause } : {}),
    shards: run.shards,
    firstPassS: round(run.firstPassS, 1),
    replicas: run.replicas.map((r) => ({
      identity: r.identity,
      shards: r.shards,
      profiles: r.profiles,
      rssMiB: round(r.rssPeakMiB, 1),
      rssSteadyMiB: round(r.rssSteadyMiB, 1),
      reconcileP99Ms: round(r.reconcileP99Ms, 1),
      queriesPerCycle: round(r.queriesPerCycle, 2),
    })),
  });
}
