import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../api/profile.ts";
import {
  goFloat,
  istioAvailabilityQueries,
  istioLatencyQueries,
  latencyQueries,
  latencyUnit,
  leMatcher,
  leSpellings,
  mergeSelector,
  openMetricsFloat,
  parseSelector,
  plainDecimal,
  quoteLabelValue,
  ratioQueries,
  SloConfigError,
  sloQueries,
  thresholdBound,
} from "./promql.ts";

describe("float spellings of bucket boundaries", () => {
  // Go's column is what strconv.FormatFloat(x, 'g', -1, 64) prints; OpenMetrics is Prometheus 3's normalisation.
  const table: Array<[number, string, string, string]> = [
    // x, plain, go, openmetrics
    [1, "1", "1", "1.0"],
    [0, "0", "0", "0.0"],
    [500, "500", "500", "500.0"],
    [0.25, "0.25", "0.25", "0.25"],
    [0.005, "0.005", "0.005", "0.005"],
    [0.0001, "0.0001", "0.0001", "0.0001"],
    [0.00001, "0.00001", "1e-05", "1e-05"],
    [300000, "300000", "300000", "300000.0"],
    [1000000, "1000000", "1e+06", "1e+06"],
    [1800000, "1800000", "1.8e+06", "1.8e+06"],
    [2.5, "2.5", "2.5", "2.5"],
    [1e21, "1000000000000000000000", "1e+21", "1e+21"],
  ];
  it.each(table)("%d → plain %s, go %s, openmetrics %s", (x, plain, go, om) => {
    expect(plainDecimal(x)).toBe(plain);
    expect(goFloat(x)).toBe(go);
    expect(openMetricsFloat(x)).toBe(om);
  });

  it.each([
    [500, ["500", "500.0"]],
    [1, ["1", "1.0"]],
    [0.25, ["0.25"]],
    [1000000, ["1000000", "1e+06", "1000000.0"]],
    [0.00001, ["0.00001", "1e-05"]],
  ] as Array<[number, string[]]>)("le spellings of %d", (x, forms) => {
    expect(leSpellings(x)).toEqual(forms);
  });

  it("refuses bounds that are no bucket boundary at all", () => {
    expect(() => leSpellings(Number.NaN)).toThrow(SloConfigError);
    expect(() => leSpellings(-1)).toThrow(SloConfigError);
  });
});

describe("leMatcher", () => {
  it.each([
    [500, 'le=~"500|500\\\\.0"'],
    [1, 'le=~"1|1\\\\.0"'],
    [0.25, 'le="0.25"'],
    [0.5, 'le="0.5"'],
    [1800000, 'le=~"1800000|1\\\\.8e\\\\+06|1800000\\\\.0"'],
  ] as Array<[number, string]>)("%d → %s", (x, text) => {
    const m = leMatcher(x);
    expect(`${m.name}${m.op}${m.rawValue}`).toBe(text);
  });

  // The regex Prometheus compiles (after unquoting the PromQL string) is fully anchored, like ^(?:...)$.
  const compiled = (x: number) => {
    const raw = leMatcher(x).rawValue;
    const unquoted = JSON.parse(raw) as string;
    return new RegExp(`^(?:${unquoted})$`);
  };
  it.each([
    [500, ["500", "500.0"], ["5000", "500.00", "50", "500x0"]],
    [1, ["1", "1.0"], ["10", "1x0", "0.1"]],
    [1000000, ["1000000", "1e+06", "1000000.0"], ["1e+6", "1e06"]],
  ] as Array<[number, string[], string[]]>)("the bucket at %d matches both Prometheus 2 and 3 labels and nothing else", (x, yes, no) => {
    const re = compiled(x);
    for (const s of yes) expect(re.test(s), s).toBe(true);
    for (const s of no) expect(re.test(s), s).toBe(false);
  });
});

describe("selectors", () => {
  it.each([
    ["{}", []],
    ['{a="b"}', [["a", "=", '"b"']]],
    ['{ a = "b" , c=~"x.*", d!="", e!~\'y\',}', [["a", "=", '"b"'], ["c", "=~", '"x.*"'], ["d", "!=", '""'], ["e", "!~", "'y'"]]],
    ['{path="/a,b}",q=`raw\\`}', [["path", "=", '"/a,b}"'], ["q", "=", "`raw\\`"]]],
    ['{a="say \\"hi\\""}', [["a", "=", '"say \\"hi\\""']]],
    ['{"service.name"="api"}', [['"service.name"', "=", '"api"']]],
  ] as Array<[string, Array<[string, string, string]>]>)("parses %s", (sel, want) => {
    expect(parseSelector(sel).map((m) => [m.name, m.op, m.rawValue])).toEqual(want);
  });

  it.each(['a="b"', "{a}", '{a="b" c="d"}', '{a="b}', "{1a=\"b\"}", '{a=b}', '{a=="b"}'])("refuses %s", (sel) => {
    expect(() => parseSelector(sel)).toThrow(SloConfigError);
  });

  it.each([
    ["{}", '{le="0.5"}'],
    ['{a="b"}', '{a="b",le="0.5"}'],
    ['{a="b",}', '{a="b",le="0.5"}'],
    ['{ a="b" , c=~"x|y" }', '{a="b",c=~"x|y",le="0.5"}'],
  ])("merges the le matcher into %s", (sel, want) => {
    expect(mergeSelector(sel, [leMatcher(0.5)])).toBe(want);
  });

  it("refuses a selector that already matches le", () => {
    expect(() => mergeSelector('{a="b",le="1"}', [leMatcher(0.5)])).toThrow(/must not match the le label/);
  });

  it("quotes label values", () => {
    expect(quoteLabelValue('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});

describe("latency units", () => {
  it.each([
    ["istio_request_duration_milliseconds", undefined, "milliseconds"],
    ["http_server_request_duration_seconds", undefined, "seconds"],
    ["http_latency", "seconds", "seconds"],
    ["http_server_request_duration_seconds", "milliseconds", "milliseconds"],
  ] as const)("%s with unit %s → %s", (metric, unit, want) => {
    expect(latencyUnit(metric, unit)).toBe(want);
  });

  it("says what to set when the unit cannot be known", () => {
    expect(() => latencyUnit("http_latency")).toThrow(/set latency.unit/);
  });

  it.each([
    ["500ms", "milliseconds", 500],
    ["500ms", "seconds", 0.5],
    ["1s", "seconds", 1],
    ["1s", "milliseconds", 1000],
    ["250ms", "seconds", 0.25],
    ["2m", "seconds", 120],
    ["1ms", "seconds", 0.001],
  ] as const)("threshold %s in %s is %d", (t, unit, want) => {
    expect(thresholdBound(t, unit)).toBe(want);
  });
});

describe("indicator queries", () => {
  it("ratio: the user's queries with the window filled in, missing errors counting as zero", () => {
    const q = ratioQueries('sum(rate(http_requests_total{code=~"5.."}[{{window}}]))', "sum(rate(http_requests_total[{{window}}]))");
    expect(q.errorRatio("1h")).toBe(
      '(sum(sum(rate(http_requests_total{code=~"5.."}[1h]))) or vector(0)) / sum(sum(rate(http_requests_total[1h])))',
    );
    expect(q.events("30d")).toBe("sum(sum(rate(http_requests_total[30d]))) * 2592000");
  });

  it("ratio: a total counted with increase() is already an event count", () => {
    const q = ratioQueries("sum(increase(bad[{{window}}]))", "sum(increase(all[{{window}}]))");
    expect(q.events("2m")).toBe("sum(sum(increase(all[2m])))");
  });

  it("latency in seconds: bucket at the threshold over _count, both le spellings", () => {
    const q = latencyQueries({ metric: "http_server_request_duration_seconds", selector: '{job="auth"}', threshold: "1s" });
    expect(q.errorRatio("5m")).toBe(
      '1 - (sum(rate(http_server_request_duration_seconds_bucket{job="auth",le=~"1|1\\\\.0"}[5m])) / sum(rate(http_server_request_duration_seconds_count{job="auth"}[5m])))',
    );
    expect(q.events("30d")).toBe('sum(increase(http_server_request_duration_seconds_count{job="auth"}[30d]))');
  });

  it("latency with an explicit unit overrides the name", () => {
    const q = latencyQueries({ metric: "rpc_latency", selector: "{}", threshold: "250ms", unit: "seconds" });
    expect(q.errorRatio("1h")).toBe('1 - (sum(rate(rpc_latency_bucket{le="0.25"}[1h])) / sum(rate(rpc_latency_count{}[1h])))');
  });

  it("istio availability: 5xx over all requests of the destination workload", () => {
    const q = istioAvailabilityQueries({ namespace: "games", name: "game-service" });
    const sel = 'destination_workload="game-service",destination_workload_namespace="games",reporter="destination"';
    expect(q.errorRatio("5m")).toBe(
      `(sum(rate(istio_requests_total{${sel},response_code=~"5.."}[5m])) or vector(0)) / sum(rate(istio_requests_total{${sel}}[5m]))`,
    );
    expect(q.events("30d")).toBe(`sum(increase(istio_requests_total{${sel}}[30d]))`);
  });

  it("istio latency: Istio's millisecond histogram at the threshold", () => {
    const q = istioLatencyQueries({ namespace: "games", name: "game-service" }, "500ms");
    expect(q.errorRatio("5m")).toContain('istio_request_duration_milliseconds_bucket{destination_workload="game-service",destination_workload_namespace="games",reporter="destination",le=~"500|500\\\\.0"}[5m]');
  });

  it("sloQueries dispatches on the indicator", () => {
    const spec = profileSpecSchema.parse({
      targetRef: { name: "game-service" },
      slos: [
        { name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } },
        { name: "latency", objective: 95, indicator: { istio: { kind: "latency", threshold: "500ms" } } },
        { name: "custom", objective: 99, indicator: { latency: { metric: "custom_latency", selector: "{}", threshold: "1s", unit: "seconds" } } },
      ],
    });
    delete spec.slos[2]!.indicator.latency!.unit; // as stored before the CRD required a unit
    const target = { namespace: "games", name: spec.targetRef.name };
    expect(sloQueries(spec.slos[0]!.indicator, target).errorRatio("5m")).toContain('response_code=~"5.."');
    expect(sloQueries(spec.slos[1]!.indicator, target).errorRatio("5m")).toContain("istio_request_duration_milliseconds_bucket");
    expect(() => sloQueries(spec.slos[2]!.indicator, target)).toThrow(SloConfigError);
  });
});
