import { describe, expect, it } from "vitest";
import { DEFAULT_SIZES, parseSizes, ratio, rssTarget, sizeLines, slope, slopeLines, summaryJson, type SizeFigures } from "./report.ts";

const figures = (profiles: number, over: Partial<SizeFigures> = {}): SizeFigures => ({
  profiles,
  rssSteadyMiB: 70 + profiles * 0.015,
  rssPeakMiB: 90 + profiles * 0.017,
  reconcileP99Ms: 4 + profiles / 1000,
  reconcileP99AllMs: 20 + profiles / 1000,
  waitedOnPrometheus: Math.round(profiles * 0.04),
  reconciles: profiles * 4,
  failedReconciles: 0,
  cycles: 4,
  cpuCores: 0.05 + profiles / 4000,
  firstPassS: 2 + profiles / 500,
  added: profiles,
  adoptionS: profiles / 10,
  queriesPerCycle: profiles === 0 ? 0 : 2,
  quietWrites: 0,
  quietStatusWrites: 0,
  apiPerS: { adoption: profiles === 0 ? 0 : 19.8, firstPass: 3, steady: 0.2 },
  memory: { rssMiB: 70 + profiles * 0.015, heapUsedMiB: 20 + profiles * 0.008, heapTotalMiB: 30 + profiles * 0.01, externalMiB: 3 },
  ...over,
});

describe("parseSizes", () => {
  it("defaults to 0, 2,000, 5,000 and 10,000", () => {
    expect(parseSizes(undefined)).toEqual([0, 2_000, 5_000, 10_000]);
    expect(parseSizes(" ")).toEqual([...DEFAULT_SIZES]);
  });

  it("takes a list in any order, each size once, ascending", () => {
    expect(parseSizes("0,200")).toEqual([0, 200]);
    expect(parseSizes("5000, 0 ,2000,5000")).toEqual([0, 2_000, 5_000]);
  });

  it.each(["0,,200", "-1", "2k", "1.5"])("refuses %j", (raw) => {
    expect(() => parseSizes(raw)).toThrow(/BENCH_SIZES/);
  });
});

describe("rssTarget", () => {
  it("is the issue's own at 0, 2,000 and 10,000", () => {
    expect(rssTarget(0)).toEqual({ mib: 80, interpolated: false });
    expect(rssTarget(2_000)).toEqual({ mib: 150, interpolated: false });
    expect(rssTarget(10_000)).toEqual({ mib: 256, interpolated: false });
  });

  it("is a straight line between them elsewhere, and none past 10,000", () => {
    expect(rssTarget(5_000)).toEqual({ mib: 150 + (106 * 3) / 8, interpolated: true });
    expect(rssTarget(200)).toEqual({ mib: 87, interpolated: true });
    expect(rssTarget(20_000)).toBeUndefined();
  });
});

describe("slope and ratio", () => {
  it("gives the change per 1,000 profiles", () => {
    expect(slope({ profiles: 2_000, value: 150 }, { profiles: 10_000, value: 230 })).toBe(10);
    expect(slope({ profiles: 0, value: 3 }, { profiles: 0, value: 4 })).toBeNaN();
  });

  it("gives a figure over its target, and whether it meets it", () => {
    expect(ratio(120, 150)).toEqual({ text: "0.80x", ok: true });
    expect(ratio(300, 256)).toEqual({ text: "1.17x", ok: false });
    expect(ratio(0, 0)).toEqual({ text: "met", ok: true });
    expect(ratio(3, 0)).toEqual({ text: "3 over", ok: false });
    expect(ratio(Number.NaN, 50)).toEqual({ text: "n/a", ok: false });
  });
});

describe("the report", () => {
  const opts = { intervalS: 30, cycles: 4, qps: 20 };

  it("says how many reconciles of the window failed and were retried, when any did", () => {
    const lines = sizeLines(figures(2_000, { reconciles: 8_800, failedReconciles: 120 }), opts).join("\n");
    expect(lines).toMatch(/throughput +2200 reconciles per 30s cycle, 110 % of the profiles due \(120 failed\); CPU 0\.55 cores/);
  });

  it("prints every figure of a size with its ratio to its target", () => {
    const lines = sizeLines(figures(2_000, { rssPeakMiB: 160 }), { ...opts, baselineQueries: 2 }).join("\n");
    expect(lines).toMatch(/RSS steady +100 MiB .* 0\.67x of 150 MiB ok/);
    expect(lines).toMatch(/RSS peak +160 MiB \(high-water mark, first pass included\) +1\.07x of 150 MiB OVER/);
    expect(lines).toMatch(/heap used 36 MiB of 50 MiB, external 3 MiB \(array buffers within\), rest of RSS 47 MiB/);
    expect(lines).toMatch(/reconcile p99 +6\.0 ms excluding Prometheus \(80 of 8000 reconciles left out: they waited on Prometheus\), 22\.0 ms all +0\.12x of 50 ms ok/);
    expect(lines).toMatch(/first full pass +6\.0 s after a restart +0\.10x of 60 s ok/);
    expect(lines).toMatch(/throughput +2000 reconciles per 30s cycle, 100 % of the profiles due; CPU 0\.55 cores/);
    expect(lines).toMatch(/adding profiles +2000 new ones had their first status in 200\.0 s \(19\.8 API requests\/s\) +0\.99x of 20\/s \(its --kube-api-qps\) ok/);
    expect(lines).toMatch(/queries\/cycle +2\.0 +1\.00x of 2\.0 at the smallest size ok/);
    expect(lines).toMatch(/quiet cycle +0 API writes, 0 status writes +met of 0 ok/);
    expect(lines).toMatch(/API requests\/s +3\.0 in the first pass, 0\.2 steady +0\.15x of 20\/s \(--kube-api-qps\) ok/);
  });

  it("judges adoption against the adopting operator's own rate limit, when the bench raised it", () => {
    const lines = sizeLines(figures(2_000, { apiPerS: { adoption: 68.8, firstPass: 4.8, steady: 0 } }), { ...opts, adoptQps: 100 }).join("\n");
    expect(lines).toMatch(/\(68\.8 API requests\/s\) +0\.69x of 100\/s \(its --kube-api-qps\) ok/);
    expect(lines).toMatch(/API requests\/s +4\.8 in the first pass, 0\.0 steady +0\.24x of 20\/s \(--kube-api-qps\) ok/);
  });

  it("marks what misses its target, and an interpolated target as such", () => {
    const lines = sizeLines(figures(5_000, { rssSteadyMiB: 300, quietWrites: 4, reconcileP99Ms: 80 }), opts).join("\n");
    expect(lines).toMatch(/RSS steady +300 MiB .* 1\.58x of 190 MiB \(interpolated\) OVER/);
    expect(lines).toMatch(/quiet cycle +4 API writes.* 4 over of 0 OVER/);
    expect(lines).toMatch(/reconcile p99 +80\.0 ms .* 1\.60x of 50 ms OVER/);
  });

  it("leaves out the adding line at a size that added nothing, and says n/a for what was not measured", () => {
    const lines = sizeLines(figures(0, { added: 0, reconcileP99Ms: Number.NaN }), opts).join("\n");
    expect(lines).not.toMatch(/adding profiles/);
    expect(lines).toMatch(/throughput +0 reconciles per 30s cycle, none due; CPU 0\.05 cores/);
    expect(lines).toMatch(/reconcile p99 +n\/a ms .* not measured$/m);
    expect(lines).toMatch(/0 profiles .*\n +RSS steady +70 MiB .* 0\.88x of 80 MiB ok/);
  });

  it("prints the slopes between consecutive sizes per 1,000 profiles", () => {
    const lines = slopeLines([figures(0), figures(2_000), figures(10_000)]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ +0 -> 2000: RSS steady 15\.0 MiB, peak 17\.0 MiB, heap used 8\.0 MiB, CPU 0\.250 cores, reconcile p99 1\.00 ms, first pass 2\.00 s per 1,000 profiles$/);
    expect(lines[1]).toMatch(/^ +2000 -> 10000:/);
  });

  it("ends with one JSON line of the largest size, and the idle RSS from size 0", () => {
    const json = JSON.parse(summaryJson([figures(0), figures(2_000), figures(10_000)])) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(["profiles", "rssMiB", "idleRssMiB", "reconcileP99Ms", "firstPassS", "queriesPerCycle", "quietWrites"]);
    expect(json).toEqual({ profiles: 10_000, rssMiB: 260, idleRssMiB: 70, reconcileP99Ms: 14, firstPassS: 22, queriesPerCycle: 2, quietWrites: 0 });
    expect(JSON.parse(summaryJson([figures(200, { reconcileP99Ms: Number.NaN })]))).toMatchObject({ idleRssMiB: null, reconcileP99Ms: null });
    expect(() => summaryJson([])).toThrow();
  });
});
