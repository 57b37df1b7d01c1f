import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BAD_TILE_RECORD, EVENTS_TILE_RECORD, TILE_LABEL, TILES_SINCE_RECORD } from "./tiles.ts";
import { ERROR_RATIO_RECORD, EVENTS_RECORD, profileRuleGroup, ruleGroups, rulesFileYaml, SERIES_COUNT_RECORD, type RulesFile } from "./rules.ts";
import { AUTH_ERRORS, game, HAS_PROMTOOL, PROMTOOL_TIMEOUT_MS, profile, promtoolCheckRules, promtoolTestRules } from "./test-builders.ts";

// A 2 s floor on burn windows keeps one window per role for the 2m SLO windows these fixtures spell out.
const FINE = { minBurnWindowMs: 2_000 };

const auth = profile("auth", "auth", {
  targetRef: { name: "auth-service" },
  slos: [
    AUTH_ERRORS,
    {
      name: "latency",
      objective: 99,
      window: "1h",
      indicator: { latency: { metric: "http_server_request_duration_seconds", selector: '{job="auth",path!~"/health.*"}', threshold: "1s" } },
    },
    // No unit suffix and no unit: refused with a reason, the rest of the profile still gets rules.
    { name: "unknown-unit", objective: 99, indicator: { latency: { metric: "rpc_latency", selector: "{}", threshold: "1s", unit: "seconds" } } },
  ],
});
// A latency SLO without a unit, as stored before the CRD required one: refused with a reason, not thrown.
delete auth.spec.slos.find((s) => s.name === "unknown-unit")!.indicator.latency!.unit;

describe("recording rules", () => {
  it("record every window's error ratio and the SLO window's events, labelled by namespace, profile, slo and window", () => {
    const { group, problems } = profileRuleGroup(game, FINE);
    expect(problems).toEqual([]);
    expect(group.name).toBe("tollgate/games/game");
    expect(group.interval).toBe("30s");
    const summary = group.rules.map((r) => [r.record, r.labels.slo, r.labels.window]);
    expect(summary).toEqual([
      ...["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"].map((w) => [ERROR_RATIO_RECORD, "availability", w]),
      [EVENTS_RECORD, "availability", "30d"],
      ...["1m10s", "7m", "14m", "28m", "1h24m", "5h36m", "16h48m", "1w"].map((w) => [ERROR_RATIO_RECORD, "latency", w]),
      [EVENTS_RECORD, "latency", "1w"],
    ]);
    for (const r of group.rules) expect(Object.keys(r.labels).sort()).toEqual(["namespace", "profile", "slo", "window"]);
    expect(group.rules[0]?.labels).toEqual({ namespace: "games", profile: "game", slo: "availability", window: "5m" });
    expect(group.rules[0]?.expr).toContain("[5m]");
    expect(group.rules[8]?.expr).toBe(
      'sum(increase(istio_requests_total{destination_workload="game-service",destination_workload_namespace="games",reporter="destination"}[30d]))',
    );
  });

  it("count the series of a ratio SLO's own errors and total over its shortest window, before its error ratios", () => {
    const { group } = profileRuleGroup(auth, FINE);
    const errors = group.rules.filter((r) => r.labels.slo === "errors");
    expect(errors.map((r) => [r.record, r.labels.window, r.labels.part])).toEqual([
      [SERIES_COUNT_RECORD, "4m40s", "errors"],
      [SERIES_COUNT_RECORD, "4m40s", "total"],
      ...["4m40s", "28m", "56m", "1h52m", "5h36m", "22h24m", "2d19h12m", "4w"].map((w) => [ERROR_RATIO_RECORD, w, undefined]),
      [EVENTS_RECORD, "4w", undefined],
    ]);
    expect(errors[0]).toEqual({
      record: SERIES_COUNT_RECORD,
      expr: 'count(sum(rate(http_requests_total{job="auth",code=~"5.."}[4m40s])))',
      labels: { namespace: "auth", profile: "auth", slo: "errors", window: "4m40s", part: "errors" },
    });
    expect(errors[1]?.expr).toBe('count(sum(rate(http_requests_total{job="auth"}[4m40s])))');
    // Only ratio indicators: Tollgate writes the other queries itself, summed.
    expect(group.rules.filter((r) => r.record === SERIES_COUNT_RECORD && r.labels.slo !== "errors")).toEqual([]);
  });

  it("leave out SLOs that cannot be measured and say why", () => {
    const { groups, problems } = ruleGroups([game, auth], FINE);
    expect(groups.map((g) => g.name)).toEqual(["tollgate/games/game", "tollgate/auth/auth"]);
    expect(problems).toEqual([{ namespace: "auth", profile: "auth", slo: "unknown-unit", error: expect.stringMatching(/set latency.unit/) as unknown as string }]);
    expect(groups[1]?.rules.some((r) => r.labels.slo === "unknown-unit")).toBe(false);
  });

  it("use the given interval over the profile's", () => {
    expect(profileRuleGroup(game, { ...FINE, interval: "1s" }).group.interval).toBe("1s");
  });

  it("render as a rules file", () => {
    const { groups } = ruleGroups([game, auth], FINE);
    const text = rulesFileYaml(groups);
    expect(parse(text) as RulesFile).toEqual({ groups });
    // Every line starts with a key: no expression is folded across lines.
    for (const line of text.trimEnd().split("\n")) expect(line).toMatch(/^\s*(- )?[a-z_]+:/);
  });
});

describe.skipIf(!HAS_PROMTOOL)("promtool", { timeout: PROMTOOL_TIMEOUT_MS }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tollgate-rules-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("accepts the generated rules file", async () => {
    const file = join(dir, "rules.yaml");
    await writeFile(file, rulesFileYaml(ruleGroups([game, auth], FINE).groups));
    const stdout = await promtoolCheckRules(file);
    // game: 2 × (8 ratios + events); auth: errors 2 counts + 8 ratios + events, latency 8 ratios + events.
    expect(stdout).toMatch(/SUCCESS: 38 rules found/);
  });

  it("records how many series a ratio expression without sum(...) returns, in Prometheus's own engine", async () => {
    const ratio = (name: string, errors: string, total: string) =>
      profile("ns", name, { targetRef: { name }, slos: [{ name: "errors", objective: 99, window: "1h", indicator: { ratio: { errors, total } } }] });
    const rulesFile = join(dir, "count-rules.yaml");
    const { groups } = ruleGroups(
      [
        ratio("unsummed", 'rate(req_total{code="500"}[{{window}}])', "rate(req_total[{{window}}])"),
        ratio("summed", 'sum(rate(req_total{code="500"}[{{window}}]))', "sum(rate(req_total[{{window}}]))"),
      ],
      // A 6m floor: the shortest window, which the counts read, then holds samples at a 1m scrape interval.
      { interval: "1m", minBurnWindowMs: 6 * 60_000 },
    );
    await writeFile(rulesFile, rulesFileYaml(groups));
    const count = (p: string, part: string, value: number) => ({
      expr: `${SERIES_COUNT_RECORD}{profile="${p}",part="${part}"}`,
      eval_time: "60m",
      exp_samples: [{ labels: `${SERIES_COUNT_RECORD}{namespace="ns",part="${part}",profile="${p}",slo="errors",window="6m"}`, value }],
    });
    const test = {
      rule_files: [rulesFile],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          // Two workloads, each with a 200 and a 500 series.
          input_series: ["api", "web"].flatMap((job) => [
            { series: `req_total{job="${job}",code="200"}`, values: "0+98x60" },
            { series: `req_total{job="${job}",code="500"}`, values: "0+2x60" },
          ]),
          promql_expr_test: [count("unsummed", "errors", 2), count("unsummed", "total", 4), count("summed", "errors", 1), count("summed", "total", 1)],
        },
      ],
    };
    const testFile = join(dir, "count-test.yaml");
    await writeFile(testFile, JSON.stringify(test));
    const report = await promtoolTestRules(testFile);
    expect(report).toMatch(/SUCCESS/);
  });

  it("sums a window longer than an hour from 5-minute tiles, to the raw figure", async () => {
    const avail = profile("ns", "tiled", {
      targetRef: { name: "api" },
      slos: [{ name: "availability", objective: 99, window: "2h", indicator: { istio: { kind: "availability" } } }],
    });
    expect(ruleGroups([avail], { interval: "1m", tiles: true }).groups.map((g) => [g.name, g.interval])).toEqual([
      ["tollgate/ns/tiled/tiles", "5m"],
      ["tollgate/ns/tiled/sums", "2m30s"],
      ["tollgate/ns/tiled", "1m"],
    ]);
    // Never more often than the profile's own interval.
    expect(ruleGroups([avail], { interval: "4m", tiles: true }).groups.map((g) => g.interval)).toEqual(["5m", "4m", "4m"]);
    // promtool's tests run every group at the file's evaluation_interval, so both run every 5 minutes here.
    const { groups } = ruleGroups([avail], { interval: "5m", tiles: true });
    const rulesFile = join(dir, "tile-rules.yaml");
    await writeFile(rulesFile, rulesFileYaml(groups));
    const series = (code: string) => `istio_requests_total{destination_workload="api",destination_workload_namespace="ns",reporter="destination",response_code="${code}"}`;
    const labels = (window: string) => `{namespace="ns",profile="tiled",slo="availability",window="${window}"}`;
    const test = {
      rule_files: [rulesFile],
      evaluation_interval: "5m",
      // promtool runs groups in step but in no set order unless told; Prometheus itself runs each at its
      // own offset. The tiles first, so the sums see the tile of the same instant and the figures are exact.
      group_eval_order: groups.map((g) => g.name),
      tests: [
        {
          interval: "1m",
          input_series: [
            // 100 good requests a minute for 3 hours; 10 errors a minute from minute 61 to 90 only.
            { series: series("200"), values: "0+100x180" },
            { series: series("503"), values: "0+0x60 10+10x29 300+0x89" },
          ],
          promql_expr_test: [
            // The window (60m, 180m] holds all 300 errors of 12,300 requests, as raw rate() has it.
            { expr: `${ERROR_RATIO_RECORD}{window="2h"}`, eval_time: "180m", exp_samples: [{ labels: `${ERROR_RATIO_RECORD}${labels("2h")}`, value: 300 / 12300 }] },
            { expr: `${EVENTS_RECORD}{window="2h"}`, eval_time: "180m", exp_samples: [{ labels: `${EVENTS_RECORD}${labels("2h")}`, value: 12300 }] },
            // At 210m the window (90m, 210m] has left the errors behind.
            { expr: `${ERROR_RATIO_RECORD}{window="2h"}`, eval_time: "210m", exp_samples: [{ labels: `${ERROR_RATIO_RECORD}${labels("2h")}`, value: 0 }] },
          ],
        },
      ],
    };
    const testFile = join(dir, "tile-test.yaml");
    await writeFile(testFile, JSON.stringify(test));
    const report = await promtoolTestRules(testFile);
    expect(report).toMatch(/SUCCESS/);
  });

  it("records when a run of tiles began, keeps it across short gaps and starts again after a long one", async () => {
    const avail = profile("ns", "since", {
      targetRef: { name: "api" },
      slos: [{ name: "availability", objective: 99, window: "1d", indicator: { istio: { kind: "availability" } } }],
    });
    const { groups } = ruleGroups([avail], { interval: "5m", tiles: { coverageMs: {} } });
    const tileGroup = groups.find((g) => g.name.endsWith("/tiles"));
    expect(tileGroup?.rules.map((r) => r.record)).toEqual([BAD_TILE_RECORD, EVENTS_TILE_RECORD, TILES_SINCE_RECORD]);
    const digest = tileGroup?.rules[0]?.labels[TILE_LABEL] ?? "";
    // No coverage yet: every window is read raw, while the tiles are recorded.
    const main = groups.find((g) => !g.name.endsWith("/tiles"));
    expect(main?.rules.every((r) => !r.expr.includes(BAD_TILE_RECORD))).toBe(true);
    const rulesFile = join(dir, "since-rules.yaml");
    await writeFile(rulesFile, rulesFileYaml(groups));
    const series = `istio_requests_total{destination_workload="api",destination_workload_namespace="ns",reporter="destination",response_code="200"}`;
    const since = `${TILES_SINCE_RECORD}{namespace="ns",profile="since",slo="availability",tiles="${digest}"}`;
    const test = {
      rule_files: [rulesFile],
      evaluation_interval: "5m",
      tests: [
        {
          interval: "1m",
          input_series: [
            // Scraped minutes 0–60, nothing for 30, 91–151, nothing for 120, then 272–332.
            { series, values: "0+100x60 _x30 9100+100x60 _x120 21200+100x60" },
          ],
          promql_expr_test: [
            // The first tile that holds two samples is at 5m.
            { expr: since, eval_time: "60m", exp_samples: [{ labels: since, value: 300 }] },
            { expr: since, eval_time: "150m", exp_samples: [{ labels: since, value: 300 }] },
            // After two hours without a tile the run starts again at the first tile after the gap, 275m.
            { expr: since, eval_time: "300m", exp_samples: [{ labels: since, value: 275 * 60 }] },
          ],
        },
      ],
    };
    const testFile = join(dir, "since-test.yaml");
    await writeFile(testFile, JSON.stringify(test));
    const report = await promtoolTestRules(testFile);
    expect(report).toMatch(/SUCCESS/);
  });

  /**
   * Prometheus's own engine, on synthetic series: the latency rules read the bucket whether Prometheus 2
   * stored it as le="1" or Prometheus 3 as le="1.0"; missing 5xx series count as no errors.
   */
  it("records the expected numbers for both le spellings", async () => {
    const latency = (name: string, window: string) =>
      profile("ns", name, {
        targetRef: { name },
        slos: [{ name: "latency", objective: 99, window, indicator: { latency: { metric: "req_duration_seconds", selector: `{job="${name}"}`, threshold: "1s" } } }],
      });
    const avail = profile("ns", "avail", {
      targetRef: { name: "quiet" },
      slos: [{ name: "availability", objective: 99.5, window: "1h", indicator: { istio: { kind: "availability" } } }],
    });
    const rulesFile = join(dir, "le-rules.yaml");
    const { groups } = ruleGroups([latency("prom2", "1h"), latency("prom3", "1h"), avail], { interval: "1m" });
    await writeFile(rulesFile, rulesFileYaml(groups));
    // promtool compares exactly, and 1 − 98/100 is 0.020000000000000018 in floats.
    const ratio = 1 - 0.98;
    const labels = (profileName: string, slo: string, window: string) => `{namespace="ns",profile="${profileName}",slo="${slo}",window="${window}"}`;
    const test = {
      rule_files: [rulesFile],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            // 100 requests a minute, 98 of them within 1 s: error ratio 0.02, twice the 1 % budget.
            { series: 'req_duration_seconds_bucket{job="prom2",le="1"}', values: "0+98x60" },
            { series: 'req_duration_seconds_bucket{job="prom2",le="+Inf"}', values: "0+100x60" },
            { series: 'req_duration_seconds_count{job="prom2"}', values: "0+100x60" },
            { series: 'req_duration_seconds_bucket{job="prom3",le="1.0"}', values: "0+98x60" },
            { series: 'req_duration_seconds_bucket{job="prom3",le="+Inf"}', values: "0+100x60" },
            { series: 'req_duration_seconds_count{job="prom3"}', values: "0+100x60" },
            {
              series: 'istio_requests_total{destination_workload="quiet",destination_workload_namespace="ns",reporter="destination",response_code="200"}',
              values: "0+10x60",
            },
          ],
          promql_expr_test: [
            ...["prom2", "prom3"].flatMap((p) => [
              {
                expr: `${ERROR_RATIO_RECORD}{profile="${p}",window="1h"}`,
                eval_time: "60m",
                exp_samples: [{ labels: `${ERROR_RATIO_RECORD}${labels(p, "latency", "1h")}`, value: ratio }],
              },
              {
                expr: `${ERROR_RATIO_RECORD}{profile="${p}",window="6m"}`,
                eval_time: "60m",
                exp_samples: [{ labels: `${ERROR_RATIO_RECORD}${labels(p, "latency", "6m")}`, value: ratio }],
              },
              {
                expr: `${EVENTS_RECORD}{profile="${p}"}`,
                eval_time: "60m",
                exp_samples: [{ labels: `${EVENTS_RECORD}${labels(p, "latency", "1h")}`, value: 6000 }],
              },
            ]),
            {
              expr: `${ERROR_RATIO_RECORD}{profile="avail",window="1h"}`,
              eval_time: "60m",
              exp_samples: [{ labels: `${ERROR_RATIO_RECORD}${labels("avail", "availability", "1h")}`, value: 0 }],
            },
          ],
        },
      ],
    };
    const testFile = join(dir, "le-test.yaml");
    await writeFile(testFile, JSON.stringify(test));
    const report = await promtoolTestRules(testFile);
    expect(report).toMatch(/SUCCESS/);
  });
});
