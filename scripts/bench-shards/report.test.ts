import { describe, expect, it } from "vitest";
import { runJson, runLines, type ReplicaFigures, type ShardedRun } from "./report.ts";

const replica = (identity: string, profiles: number, rss: number): ReplicaFigures => ({
  identity,
  shards: [0, 3],
  profiles,
  reconciles: 4 * profiles,
  rssSteadyMiB: rss,
  rssPeakMiB: rss + 20,
  reconcileP99Ms: 12.34,
  reconcileP99AllMs: 80,
  waitedOnPrometheus: 30,
  queriesPerCycle: 2,
  apiPerS: 1.5,
  memory: { rssMiB: rss, heapUsedMiB: 100, heapTotalMiB: 140, externalMiB: 10 },
});

const run = (over: Partial<ShardedRun> = {}): ShardedRun => ({
  requested: 30_000,
  created: 30_000,
  shards: 6,
  intervalS: 30,
  cycles: 4,
  firstPassS: 48.2,
  replicas: [replica("bench-replica-0", 10_000, 230), replica("bench-replica-1", 10_000, 270)],
  ...over,
});

describe("runLines", () => {
  it("holds each replica to the targets of the profiles it holds", () => {
    const text = runLines(run()).join("\n");
    expect(text).toContain("30000 profiles (2 SLOs each, every 30s) over 2 replicas and 6 shards\n");
    expect(text).toContain("first full pass   48.2 s from the replicas' start  0.80x of 60 s ok");
    expect(text).toContain("bench-replica-0: shards 0, 3, 10000 profiles, 40000 reconciles over 4 cycles");
    expect(text).toMatch(/RSS steady +230 MiB \(median\) +0\.90x of 256 MiB ok/);
    expect(text).toMatch(/RSS steady +270 MiB \(median\) +1\.05x of 256 MiB OVER/);
    expect(text).toContain("reconcile p99   12.3 ms excluding Prometheus (30 left out), 80.0 ms all  0.25x of 50 ms ok");
  });

  it("says where creating the profiles stopped, and why", () => {
    const text = runLines(run({ created: 21_500, stoppedBecause: "etcdserver: mvcc: database space exceeded" })).join("\n");
    expect(text).toContain("21500 profiles (2 SLOs each, every 30s) over 2 replicas and 6 shards: creating 30000 stopped at 21500, etcdserver: mvcc: database space exceeded");
  });

  it("has no RSS target past 10,000 profiles on one replica", () => {
    expect(runLines(run({ replicas: [replica("r", 15_000, 400)] })).join("\n")).toContain("no target past 10,000 profiles");
  });
});

describe("runJson", () => {
  it("is one line with the run and each replica", () => {
    const parsed = JSON.parse(runJson(run({ created: 100, stoppedBecause: "x" }))) as Record<string, unknown>;
    expect(parsed).toMatchObject({ requested: 30_000, profiles: 100, stoppedBecause: "x", shards: 6, firstPassS: 48.2 });
    expect((parsed.replicas as unknown[])[0]).toEqual({ identity: "bench-replica-0", shards: [0, 3], profiles: 10_000, rssMiB: 250, rssSteadyMiB: 230, reconcileP99Ms: 12.3, queriesPerCycle: 2 });
  });
});
