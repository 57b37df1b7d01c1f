import { describe, expect, it } from "vitest";
import { exportedMetricNames, RECORDED_SERIES, tollgateNamesIn } from "./exported.ts";

describe("exportedMetricNames", () => {
  it("names the series /metrics carries: a histogram's by their suffixes, the default metrics with Tollgate's prefix", () => {
    const names = exportedMetricNames();
    for (const name of ["tollgate_leader", "tollgate_slo_burn_rate", "tollgate_canary_weight", "tollgate_actions_total", "tollgate_process_resident_memory_bytes"]) {
      expect(names, name).toContain(name);
    }
    expect(names).toContain("tollgate_reconcile_duration_seconds_bucket");
    expect(names).toContain("tollgate_reconcile_duration_seconds_count");
    // A histogram has no series of its bare name.
    expect(names).not.toContain("tollgate_reconcile_duration_seconds");
  });
});

describe("tollgateNamesIn", () => {
  it("finds exported and recorded names, and nothing in label values or other prefixes", () => {
    expect(
      tollgateNamesIn('sum(rate(tollgate_actions_total{job="tollgate_x"}[5m])) / tollgate_slo:error_ratio:rate{window="5m"} + my_tollgate_thing'),
    ).toEqual(["tollgate_actions_total", "tollgate_slo:error_ratio:rate"]);
    expect(RECORDED_SERIES).toContain("tollgate_slo:error_ratio:rate");
  });
});
