import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ruleGroups, rulesFileYaml } from "../../src/slo/rules.ts";
import { BAD_TILE_RECORD, EVENTS_TILE_RECORD } from "../../src/slo/tiles.ts";
import { PROMTOOL_BIN } from "./backfill.ts";
import { benchProfiles } from "./profiles.ts";
import { compare, planTileBackfill, sourceProfiles, summarize, tiledPairs, tileSpan, TILE_RECORDS } from "./tiles.ts";

const run = promisify(execFile);

// Four profiles over two workloads: the first two measure each workload, the other two the same again.
const profiles = benchProfiles(4, 2);
const groups = ruleGroups(profiles, { tiles: true }).groups;

describe("the tiles the bench backfills", () => {
  const plan = planTileBackfill(groups);

  it("evaluates the tile records of the first profile of each workload, and nothing else of the tiles groups", () => {
    expect(plan.sources.map((g) => g.name)).toEqual(["tollgate/team-0/svc-000-0/tiles", "tollgate/team-1/svc-001-0/tiles"]);
    for (const g of plan.sources) {
      expect(g.interval).toBe(groups.find((o) => o.name === g.name)?.interval);
      // Bad and all events of each of two SLOs; the tiles groups hold more than that.
      expect(g.rules.map((r) => r.record).sort()).toEqual([BAD_TILE_RECORD, BAD_TILE_RECORD, EVENTS_TILE_RECORD, EVENTS_TILE_RECORD]);
      expect(groups.find((o) => o.name === g.name)?.rules.length).toBeGreaterThan(g.rules.length);
    }
    expect(plan.sourceRules).toBe(8);
    expect(plan.tileMs).toBe(300_000);
  });

  it("copies them to the other profiles of the same workload, relabelling only what differs", () => {
    expect(plan.copiedRules).toBe(8);
    expect(plan.copies.map((g) => g.name)).toEqual(["tollgate/team-0/svc-000-0/tiles/copies", "tollgate/team-1/svc-001-0/tiles/copies"]);
    const [copy] = plan.copies[0]?.rules ?? [];
    expect(copy?.labels).toEqual({});
    expect(copy?.expr).toMatch(/^label_replace\(tollgate_slo:[a-z_:]+\{namespace="team-0",profile="svc-000-0",slo="availability",tiles="[0-9a-f]+"\}, "profile", "svc-000-1", "", ""\)$/);
  });

  it("keeps as sources only the profiles whose tiles no earlier profile has", () => {
    const of = (p: (typeof profiles)[number]) => ruleGroups([p], { tiles: true }).groups;
    expect(sourceProfiles(profiles, of).map((p) => p.name)).toEqual(["svc-000-0", "svc-001-0"]);
    expect(sourceProfiles(benchProfiles(3, 3), of)).toHaveLength(3);
  });

  it("refuses tiles groups of different intervals", () => {
    const [a, b] = groups.filter((g) => g.name.endsWith("/tiles"));
    expect(() => planTileBackfill([a!, { ...b!, interval: "10m" }])).toThrow(/different intervals: 5m, 10m/);
  });

  it("backfills from the tile boundary the raw series begin in to the last before they end", () => {
    const tile = 300_000;
    expect(tileSpan(1_000 * tile + 15_000, 1_200 * tile + 299_985, tile)).toEqual({ startS: 1_000 * 300, endS: 1_200 * 300 });
    expect(tileSpan(1_000 * tile, 1_200 * tile, tile)).toEqual({ startS: 1_000 * 300, endS: 1_200 * 300 });
  });
});

describe("the windows compared with and without tiles", () => {
  const pairs = tiledPairs(ruleGroups(profiles.slice(0, 1), { tiles: true }).groups, ruleGroups(profiles.slice(0, 1)).groups);

  it("pairs every rule that sums tiles with the raw rule recording the same series", () => {
    // Per SLO: the error ratio over 2h, 6h, 1d, 3d and 30d, and the events over 30d.
    expect(pairs.map((p) => `${p.labels.slo} ${p.window} ${p.record}`)).toEqual(
      ["availability", "latency"].flatMap((slo) => [
        ...["2h", "6h", "1d", "3d", "30d"].map((w) => `${slo} ${w} tollgate_slo:error_ratio:rate`),
        `${slo} 30d tollgate_slo:events:increase`,
      ]),
    );
    for (const p of pairs) {
      expect([...TILE_RECORDS].some((r) => p.tiled.includes(r))).toBe(true);
      expect([...TILE_RECORDS].some((r) => p.raw.includes(r))).toBe(false);
      expect(p.tileRead).toMatch(/^tollgate_slo:[a-z_:]+\{namespace="team-0",profile="svc-000-0",slo="(availability|latency)",tiles="[0-9a-f]+"\}$/);
    }
  });

  it("refuses a tiled rule with no raw counterpart", () => {
    expect(() => tiledPairs(ruleGroups(profiles.slice(0, 1), { tiles: true }).groups, [])).toThrow(/no rule without tiles/);
  });
});

describe("relative errors", () => {
  it("are |tiled − raw| / raw, with a raw zero and missing values set apart", () => {
    expect(compare(1.01, 1)).toEqual({ kind: "relative", percent: expect.closeTo(1, 9) as number });
    expect(compare(0, 0)).toEqual({ kind: "relative", percent: 0 });
    expect(compare(0.002, 0)).toEqual({ kind: "raw-zero", absolute: 0.002 });
    expect(compare(NaN, NaN)).toEqual({ kind: "no-data" });
    expect(compare(undefined, NaN)).toEqual({ kind: "no-data" });
    expect(compare(1, undefined)).toEqual({ kind: "one-missing" });
  });

  it("summarize into the largest, the median and the cases apart", () => {
    const s = summarize([
      { what: "a", c: compare(1.01, 1) },
      { what: "b", c: compare(1.03, 1) },
      { what: "c", c: compare(1.02, 1) },
      { what: "d", c: compare(0.5, 0) },
      { what: "e", c: compare(NaN, NaN) },
    ]);
    expect(s).toMatchObject({ n: 3, worst: "b", rawZero: 1, rawZeroMaxAbsolute: 0.5, noData: 1, oneMissing: 0 });
    expect(s.maxPercent).toBeCloseTo(3, 9);
    expect(s.medianPercent).toBeCloseTo(2, 9);
  });
});

// Debian's promtool, where it is installed: the copies Prometheus would record, as its rule engine does.
describe.skipIf(!existsSync(PROMTOOL_BIN))("promtool evaluating the copies", () => {
  let dir = "";
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), "tollgate-bench-tiles-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("records for each other profile of a workload its own tile series, with the source's values", async () => {
    const plan = planTileBackfill(groups);
    writeFileSync(join(dir, "rules.yaml"), rulesFileYaml([...plan.sources, ...plan.copies]));
    // Requests only (no histogram): the availability tiles. 300 and 600 a minute, every minute.
    const series = (workload: string, namespace: string, code: string) =>
      `istio_requests_total{destination_workload="${workload}",destination_workload_namespace="${namespace}",reporter="destination",response_code="${code}"}`;
    const own = groups.flatMap((g) => g.rules).filter((r) => r.labels.slo === "availability" && TILE_RECORDS.has(r.record));
    const expected = (record: string) =>
      own
        .filter((r) => r.record === record)
        .map((r) => ({
          labels: `${record}{${Object.entries(r.labels)
            .map(([k, v]) => `${k}="${v}"`)
            .join(",")}}`,
          // Over 5 minutes: 5 × 300 (svc-000) or 5 × 600 (svc-001) events, a tenth of them bad.
          value: (r.labels.profile?.startsWith("svc-000") ? 1_500 : 3_000) * (record === BAD_TILE_RECORD ? 0.1 : 1),
        }));
    writeFileSync(
      join(dir, "test.yaml"),
      stringify({
        rule_files: ["rules.yaml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [
              { series: series("svc-000", "team-0", "200"), values: "0+270x20" },
              { series: series("svc-000", "team-0", "500"), values: "0+30x20" },
              { series: series("svc-001", "team-1", "200"), values: "0+540x20" },
              { series: series("svc-001", "team-1", "500"), values: "0+60x20" },
            ],
            promql_expr_test: [BAD_TILE_RECORD, EVENTS_TILE_RECORD].map((record) => ({
              expr: `${record}{slo="availability"}`,
              eval_time: "15m",
              exp_samples: expected(record),
            })),
          },
        ],
      }),
    );
    expect(own).toHaveLength(8);
    const { stdout } = await run(PROMTOOL_BIN, ["test", "rules", join(dir, "test.yaml")]);
    expect(stdout).toMatch(/SUCCESS/);
  });
});
