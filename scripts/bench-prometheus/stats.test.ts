import { describe, expect, it } from "vitest";
import { completedRounds, evalSeconds, groupMetrics, metricSamples, queryableSamples, recordedReads, rulesOf, setSamples } from "./stats.ts";

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
    expect(recordedReads("slo:sli_error:ratio_rate30d > 1", recorded)).toEqual([{ metric: "slo:sli_error:ratio_rate30d", matchers: [] }]);
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
    const s = setSamples(rules, evaluated);
    expect(s.measured).toBe(200);
    expect(s.seconds).toBeCloseTo(0.005, 9);
    // The 30d rule reads a's 5m series (not b's) twice over 30d at 30 s: 2 × 86,400. The burn rate reads
    // it once at an instant (slo:error_budget:ratio is recorded by no rule here). The alert reads the
    // 30d series, which its rule wrote no series of at the instant.
    expect(s.recorded).toBe(2 * 86_400 + 1);
    expect(s.total).toBe(200 + 2 * 86_400 + 1);
  });

  it("refuses evaluations that do not match the rules one to one", () => {
    expect(() => setSamples(rules, [])).toThrow(/0 evaluations for 5 rules/);
  });

  it("takes totalQueryableSamples and evalTotalTime from an answer asked with stats=all, and refuses one without", () => {
    const data = { resultType: "vector", result: [], stats: { timings: { evalTotalTime: 0.0123, execQueueTime: 1 }, samples: { totalQueryableSamples: 691_200, peakSamples: 12 } } };
    expect(queryableSamples(data)).toBe(691_200);
    expect(evalSeconds(data)).toBe(0.0123);
    expect(() => queryableSamples({ resultType: "vector", result: [] })).toThrow(/stats=all/);
    expect(() => evalSeconds({ resultType: "vector", result: [] })).toThrow(/stats=all/);
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
    expect(gm.get("/tmp/r.yaml;tollgate/team-1/svc-001-0")).toEqual({ rules: 18, evaluations: 54, lastDurationS: 0.25, missed: 0, failures: 0 });
    expect(gm.get("/tmp/r.yaml;tollgate/team-2/svc-002-0")?.missed).toBe(1);
    expect(completedRounds(gm)).toBe(2);
    expect(completedRounds(new Map())).toBe(0);
  });
});
