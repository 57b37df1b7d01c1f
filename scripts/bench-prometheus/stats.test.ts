import { describe, expect, it } from "vitest";
import {
  completedRounds,
  cycleLastDurationS,
  evalSeconds,
  evaluationsAt,
  groupMetrics,
  metricSamples,
  queryableSamples,
  recordedNames,
  recordedReads,
  recordedReadsQuery,
  rulesOf,
  samplesInRange,
  setSamples,
} from "./stats.ts";

const SLOTH_LIKE = `
groups:
  - name: sli
    rules:
      - record: slo:sli_error:ratio_rate5m
        expr: sum(rate(errors[5m])) / sum(rate(total[5m]))
        labels: {sloth_id: a-availability, sloth_slo: availability, sloth_window: 5m}
      - record: slo:sli_error:ratio_rate5m
        expr: sum(rate(errors_b[5m])) / sum(rate(total_b[5m]))
        labels: {sloth_id: b-availability, sloth_slo: availability, sloth_window: 5m}
      - record: slo:sli_error:ratio_rate30d
        expr: |
          sum_over_time(slo:sli_error:ratio_rate5m{sloth_id="a-availability", sloth_slo="availability"}[30d])
          / ignoring (sloth_window)
          count_over_time(slo:sli_error:ratio_rate5m{sloth_id="a-availability", sloth_slo="availability"}[30d])
        labels: {sloth_id: a-availability, sloth_window: 30d}
  - name: meta
    interval: 1m
    rules:
      - record: slo:current_burn_rate:ratio
        expr: slo:sli_error:ratio_rate5m{sloth_id="a-availability"} / on(sloth_id) group_left slo:error_budget:ratio{sloth_id="a-availability"}
      - alert: Burn
        expr: slo:sli_error:ratio_rate30d{sloth_id="a-availability"} > 0.01
`;

describe("the samples a rule set reads", () => {
  const rules = rulesOf(SLOTH_LIKE, 30);

  it("reads every rule, recording and alerting, with its group's interval or the global one", () => {
    expect(rules.map((r) => [r.group, r.intervalS, r.kind, r.name])).toEqual([
      ["sli", 30, "record", "slo:sli_error:ratio_rate5m"],
      ["sli", 30, "record", "slo:sli_error:ratio_rate5m"],
      ["sli", 30, "record", "slo:sli_error:ratio_rate30d"],
      ["meta", 60, "record", "slo:current_burn_rate:ratio"],
      ["meta", 60, "alert", "Burn"],
    ]);
    expect(rules[0]?.labels).toEqual({ sloth_id: "a-availability", sloth_slo: "availability", sloth_window: "5m" });
  });

  it("finds reads of recorded series with their matchers and ranges, not names inside label values or longer names", () => {
    const recorded = new Set(["slo:sli_error:ratio_rate5m", "slo:sli_error:ratio_rate30d"]);
    const reads = recordedReads(rules[2]?.expr ?? "", recorded);
    expect(reads).toHaveLength(2);
    expect(reads[0]).toMatchObject({ metric: "slo:sli_error:ratio_rate5m", rangeS: 30 * 86_400 });
    expect(reads[0]?.matchers.map((m) => m.name)).toEqual(["sloth_id", "sloth_slo"]);
    expect(recordedReads('x{a="slo:sli_error:ratio_rate5m"} + slo:sli_error:ratio_rate5mx', recorded)).toEqual([]);
    expect(recordedReads("slo:sli_error:ratio_rate30d > 1", recorded)).toEqual([{ metric: "slo:sli_error:ratio_rate30d", matchers: [], text: "slo:sli_error:ratio_rate30d" }]);
    expect(reads[0]?.text).toBe('slo:sli_error:ratio_rate5m{sloth_id="a-availability", sloth_slo="availability"}[30d]');
  });

  it("sums what was measured and counts reads of the set's own recordings as they will be once a whole window is recorded", () => {
    const evaluated = [
      { samples: 120, series: 1, seconds: 0.002 },
      { samples: 80, series: 1, seconds: 0.001 },
      // At the end of the backfill nothing is recorded yet: the 30d rule reads nothing, returns nothing.
      { samples: 0, series: 0, seconds: 0.0005 },
      { samples: 0, series: 0, seconds: 0.0005 },
      { samples: 0, series: 0, seconds: 0.001 },
    ];
    const s = setSamples(rules, evaluated, 30);
    // The meta group runs every minute: its rules count half per 30 s cycle.
    expect(s.measured).toBe(200);
    expect(s.seconds).toBeCloseTo(0.002 + 0.001 + 0.0005 + 0.0005 / 2 + 0.001 / 2, 9);
    // The 30d rule reads a's 5m series (not b's) twice over 30d at 30 s: 2 × 86,400. The burn rate, every
    // minute, reads it once at an instant (slo:error_budget:ratio is recorded by no rule here): half a
    // sample a cycle. The alert reads the 30d series, which its rule wrote no series of at the instant.
    expect(s.recorded).toBe(2 * 86_400 + 0.5);
    expect(s.recordedAtInstant).toBe(0);
    expect(s.total).toBe(200 + 2 * 86_400 + 0.5);
  });

  it("refuses evaluations that do not match the rules one to one", () => {
    expect(() => setSamples(rules, [], 30)).toThrow(/0 evaluations for 5 rules/);
  });

  it("reads the queries that touch only a rule's reads of recordings, duplicates kept", () => {
    const names = recordedNames(rules);
    expect(recordedReadsQuery(rules[0]!, names)).toBeUndefined();
    expect(recordedReadsQuery(rules[2]!, names)).toBe(
      'count_over_time(slo:sli_error:ratio_rate5m{sloth_id="a-availability", sloth_slo="availability"}[30d]) or ' +
        'count_over_time(slo:sli_error:ratio_rate5m{sloth_id="a-availability", sloth_slo="availability"}[30d])',
    );
    expect(recordedReadsQuery(rules[4]!, names)).toBe('(slo:sli_error:ratio_rate30d{sloth_id="a-availability"})');
  });

  it("takes totalQueryableSamples and evalTotalTime from an answer asked with stats=all, and refuses one without", () => {
    const data = { resultType: "vector", result: [], stats: { timings: { evalTotalTime: 0.0123, execQueueTime: 1 }, samples: { totalQueryableSamples: 691_200, peakSamples: 12 } } };
    expect(queryableSamples(data)).toBe(691_200);
    expect(evalSeconds(data)).toBe(0.0123);
    expect(() => queryableSamples({ resultType: "vector", result: [] })).toThrow(/stats=all/);
    expect(() => evalSeconds({ resultType: "vector", result: [] })).toThrow(/stats=all/);
  });
});

// Tollgate's tiles: a 5-minute group records the tiles, the 30 s group sums 30 days of them.
const TILED = `
groups:
  - name: p/tiles
    interval: 5m
    rules:
      - record: tile:bad
        expr: sum(increase(errors[5m])) or vector(0)
        labels: {profile: p, slo: a}
      - record: tile:events
        expr: sum(increase(total[5m]))
        labels: {profile: p, slo: a}
      - record: tile:since
        expr: min_over_time(tile:since{profile="p",slo="a"}[1h]) or timestamp(tile:events{profile="p",slo="a"})
        labels: {profile: p, slo: a}
  - name: p
    interval: 30s
    rules:
      - record: ratio
        expr: sum(rate(errors[5m])) / sum(rate(total[5m]))
        labels: {profile: p, slo: a, window: 5m}
      - record: ratio
        expr: sum_over_time(tile:bad{profile="p",slo="a"}[29d23h59m59s999ms]) / sum_over_time(tile:events{profile="p",slo="a"}[29d23h59m59s999ms])
        labels: {profile: p, slo: a, window: 30d}
`;

describe("the samples of groups with different intervals", () => {
  const rules = rulesOf(TILED, 30);

  it("counts the samples of a tile every 5 minutes in 30 days less a millisecond: 8,640", () => {
    expect(samplesInRange(30 * 86_400 - 0.001, 300)).toBe(8_640);
    expect(samplesInRange(30 * 86_400, 30)).toBe(86_400);
    expect(samplesInRange(3_600, 300)).toBe(12);
  });

  it("weighs a 5-minute group's rules a tenth per 30 s cycle, and reads of its tiles by its own interval", () => {
    const evaluated = [
      { samples: 60, series: 1, seconds: 0.01 },
      { samples: 120, series: 1, seconds: 0.02 },
      { samples: 0, series: 1, seconds: 0.001 },
      { samples: 500, series: 1, seconds: 0.003 },
      { samples: 0, series: 0, seconds: 0.004 },
    ];
    const s = setSamples(rules, evaluated, 30);
    expect(s.measured).toBeCloseTo((60 + 120) / 10 + 500, 9);
    expect(s.seconds).toBeCloseTo((0.01 + 0.02 + 0.001) / 10 + 0.003 + 0.004, 9);
    // The since rule, a tenth a cycle, reads 12 of its own samples over 1h and the events tile once; the
    // 30d ratio reads 8,640 tiles of each of two series every cycle.
    expect(s.recorded).toBeCloseTo((12 + 1) / 10 + 2 * 8_640, 9);
    expect(s.total).toBeCloseTo(s.measured + s.recorded, 9);
  });

  it("replaces what the instant read of backfilled recordings by their steady-state count, so history or not counts the same", () => {
    const fresh = setSamples(rules, [
      { samples: 60, series: 1, seconds: 0 },
      { samples: 120, series: 1, seconds: 0 },
      { samples: 0, series: 1, seconds: 0 },
      { samples: 500, series: 1, seconds: 0 },
      { samples: 0, series: 0, seconds: 0 },
    ], 30);
    // With 30 days of tiles backfilled the 30d ratio reads them (2 × 8,640) and the since rule reads the
    // events tile (1 sample) but no since of its own, which no backfill wrote.
    const backfilled = setSamples(
      rules,
      [
        { samples: 60, series: 1, seconds: 0 },
        { samples: 120, series: 1, seconds: 0 },
        { samples: 1, series: 1, seconds: 0 },
        { samples: 500, series: 1, seconds: 0 },
        { samples: 2 * 8_640, series: 1, seconds: 0 },
      ],
      30,
      [0, 0, 1, 0, 2 * 8_640],
    );
    expect(backfilled.recordedAtInstant).toBeCloseTo(1 / 10 + 2 * 8_640, 9);
    expect(backfilled.total).toBeCloseTo(fresh.total, 9);
  });
});

describe("Prometheus's own metrics", () => {
  const text = [
    "# HELP prometheus_rule_group_rules The number of rules.",
    "# TYPE prometheus_rule_group_rules gauge",
    'prometheus_rule_group_rules{rule_group="/tmp/r.yaml;tollgate/team-1/svc-001-0"} 18',
    'prometheus_rule_group_rules{rule_group="/tmp/r.yaml;tollgate/team-2/svc-002-0"} 18',
    'prometheus_rule_evaluations_total{rule_group="/tmp/r.yaml;tollgate/team-1/svc-001-0"} 54',
    'prometheus_rule_evaluations_total{rule_group="/tmp/r.yaml;tollgate/team-2/svc-002-0"} 36',
    'prometheus_rule_group_last_duration_seconds{rule_group="/tmp/r.yaml;tollgate/team-1/svc-001-0"} 0.25',
    'prometheus_rule_group_last_duration_seconds{rule_group="/tmp/r.yaml;tollgate/team-2/svc-002-0"} 0.5',
    'prometheus_rule_group_iterations_missed_total{rule_group="/tmp/r.yaml;tollgate/team-2/svc-002-0"} 1',
    'prometheus_rule_group_interval_seconds{rule_group="/tmp/r.yaml;tollgate/team-1/svc-001-0"} 30',
    'prometheus_rule_group_interval_seconds{rule_group="/tmp/r.yaml;tollgate/team-2/svc-002-0"} 30',
    'prometheus_rule_group_interval_seconds{rule_group="/tmp/r.yaml;tollgate/team-1/svc-001-0/tiles"} 300',
    'prometheus_rule_group_rules{rule_group="/tmp/r.yaml;tollgate/team-1/svc-001-0/tiles"} 6',
    'prometheus_rule_evaluations_total{rule_group="/tmp/r.yaml;tollgate/team-1/svc-001-0/tiles"} 0',
    'prometheus_rule_group_last_duration_seconds{rule_group="/tmp/r.yaml;tollgate/team-1/svc-001-0/tiles"} 2',
    "process_cpu_seconds_total 12.5",
    "process_cpu_seconds_total_other 3",
  ].join("\n");

  it("parses samples with and without labels, and only of the metric asked", () => {
    expect(metricSamples(text, "process_cpu_seconds_total")).toEqual([{ labels: {}, value: 12.5 }]);
    expect(metricSamples(text, "prometheus_rule_group_rules")[1]).toEqual({ labels: { rule_group: "/tmp/r.yaml;tollgate/team-2/svc-002-0" }, value: 18 });
    expect(metricSamples('m{a="x\\"y",b="2"} 1e3', "m")).toEqual([{ labels: { a: 'x"y', b: "2" }, value: 1000 }]);
  });

  it("gathers each group's figures and counts the rounds every group has finished", () => {
    const gm = groupMetrics(text);
    expect(gm.get("/tmp/r.yaml;tollgate/team-1/svc-001-0")).toEqual({ intervalS: 30, rules: 18, evaluations: 54, lastDurationS: 0.25, missed: 0, failures: 0 });
    expect(gm.get("/tmp/r.yaml;tollgate/team-2/svc-002-0")?.missed).toBe(1);
    // The tiles group has not run yet: no round of every group, two of the 30 s ones.
    expect(completedRounds(gm)).toBe(0);
    expect(completedRounds(gm, 30)).toBe(2);
    expect(evaluationsAt(gm, 30)).toEqual({ evaluations: 90, rules: 36 });
    expect(completedRounds(new Map())).toBe(0);
  });

  it("weighs each group's last duration by its share of a cycle", () => {
    // 0.25 + 0.5 every cycle, and the tiles group's 2 s once in ten.
    expect(cycleLastDurationS(groupMetrics(text), 30)).toBeCloseTo(0.25 + 0.5 + 0.2, 9);
  });
});
