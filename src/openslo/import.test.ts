import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConversionError, type Obj } from "./fields.ts";
import { importOpenSlo, type ImportOptions } from "./import.ts";

const prom = (query: string, metricSourceRef?: string) => ({
  metricSource: { ...(metricSourceRef === undefined ? {} : { metricSourceRef }), type: "Prometheus", spec: { query } },
});

const BAD = 'sum(http_requests_total{job="checkout",code=~"5.."})';
const TOTAL = 'http_requests_total{job="checkout"}';

/** An SLO document of service checkout; `spec` replaces fields of its spec. */
function slo(spec: Obj = {}, name = "checkout-availability"): Obj {
  return {
    apiVersion: "openslo/v1",
    kind: "SLO",
    metadata: { name },
    spec: {
      service: "checkout",
      budgetingMethod: "Occurrences",
      timeWindow: [{ duration: "28d", isRolling: true }],
      objectives: [{ targetPercent: 99.5 }],
      indicator: { metadata: { name: "checkout-errors" }, spec: { ratioMetric: { counter: true, bad: prom(BAD), total: prom(TOTAL) } } },
      ...spec,
    },
  };
}

const doc = (kind: string, name: string, spec: Obj, metadata: Obj = {}): Obj => ({ apiVersion: "openslo/v1", kind, metadata: { name, ...metadata }, spec });

function run(docs: Obj[], opts: ImportOptions = {}) {
  return importOpenSlo([{ source: "slo.yaml", text: docs.map((d) => stringify(d)).join("---\n") }], opts);
}

function refusal(docs: Obj[], opts: ImportOptions = {}): string {
  try {
    run(docs, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConversionError);
    return (err as Error).message;
  }
  throw new Error("imported without complaint");
}

describe("import openslo: what maps", () => {
  it("makes one profile per service, for the Deployment of that name, each SLO named without the service's prefix", () => {
    const { profiles, notes } = run([slo()]);
    expect(profiles).toHaveLength(1);
    expect(profiles[0]).toMatchObject({ name: "checkout", namespace: undefined });
    expect(profiles[0]?.spec).toEqual({
      targetRef: { name: "checkout" },
      slos: [
        {
          name: "availability",
          objective: 99.5,
          window: "28d",
          indicator: { ratio: { errors: 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{window}}]))', total: 'sum(rate(http_requests_total{job="checkout"}[{{window}}]))' } },
        },
      ],
    });
    expect(notes).toEqual([]);
  });

  it("reads good over total as all events less the good ones, and target as a fraction", () => {
    const { profiles } = run([
      slo({
        objectives: [{ target: 0.995 }],
        indicator: { metadata: { name: "ok" }, spec: { ratioMetric: { counter: true, good: prom('http_requests_total{job="checkout",code!~"5.."}'), total: prom(TOTAL) } } },
      }),
    ]);
    expect(profiles[0]?.validated.slos[0]).toMatchObject({
      objective: 99.5,
      indicator: {
        ratio: {
          errors: 'sum(rate(http_requests_total{job="checkout"}[{{window}}])) - (sum(rate(http_requests_total{job="checkout",code!~"5.."}[{{window}}])) or vector(0))',
          total: 'sum(rate(http_requests_total{job="checkout"}[{{window}}]))',
        },
      },
    });
  });

  it("takes queries that read {{window}} themselves as written, whatever counter says", () => {
    const errors = 'sum(increase(http_requests_total{code=~"5.."}[{{window}}]))';
    const total = "sum(increase(http_requests_total[{{window}}]))";
    const { profiles } = run([slo({ indicator: { metadata: { name: "x" }, spec: { ratioMetric: { counter: false, bad: prom(errors), total: prom(total) } } } })]);
    expect(profiles[0]?.validated.slos[0]?.indicator).toEqual({ ratio: { errors, total } });
  });

  it("resolves indicatorRef to an SLI document and a Prometheus DataSource's url to spec.prometheus.address", () => {
    const { profiles } = run([
      doc("DataSource", "mimir", { type: "Prometheus", connectionDetails: { url: "https://mimir.example/prometheus" } }),
      doc("SLI", "checkout-errors", { ratioMetric: { counter: true, bad: prom(BAD, "mimir"), total: prom(TOTAL, "mimir") } }),
      slo({ indicator: undefined, indicatorRef: "checkout-errors" }),
    ]);
    expect(profiles[0]?.spec.prometheus).toEqual({ address: "https://mimir.example/prometheus" });
    expect(profiles[0]?.validated.slos[0]?.indicator.ratio?.total).toBe('sum(rate(http_requests_total{job="checkout"}[{{window}}]))');
  });

  it("reads a DataSource's connection as the operator's connection of that name", () => {
    const { profiles } = run([
      doc("DataSource", "prom", { type: "prometheus", connectionDetails: { connection: "team-a" } }),
      slo({ indicator: { metadata: { name: "x" }, spec: { ratioMetric: { counter: true, bad: { metricSource: { metricSourceRef: "prom", spec: { query: BAD } } }, total: prom(TOTAL, "prom") } } } }),
    ]);
    expect(profiles[0]?.spec.prometheus).toEqual({ connection: "team-a" });
  });

  it("reads a metric source's promql as its query, and names that field in its errors", () => {
    const promql = (q: string) => ({ metricSource: { type: "Prometheus", spec: { promql: q } } });
    const spec = (bad: string) => slo({ indicator: { metadata: { name: "x" }, spec: { ratioMetric: { counter: true, bad: promql(bad), total: promql(TOTAL) } } } });
    expect(run([spec(BAD)]).profiles[0]?.validated.slos[0]?.indicator.ratio?.errors).toBe('sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{window}}]))');
    expect(refusal([spec("rate(x[5m])")])).toContain("spec.indicator.spec.ratioMetric.bad.metricSource.spec.promql: a counter query must be a series selector");
  });

  it("reads a thresholdMetric on a histogram with op lte as a latency indicator, the value in the metric's unit", () => {
    const threshold = (query: string, value: number, unit?: string) =>
      slo({
        objectives: [{ op: "lte", value, targetPercent: 95 }],
        indicator: { metadata: { name: "lat" }, spec: { thresholdMetric: { metricSource: { type: "Prometheus", spec: { query, ...(unit ? { unit } : {}) } } } } },
      });
    expect(run([threshold('http_server_request_duration_seconds_bucket{service="auth"}', 0.2)]).profiles[0]?.spec.slos).toEqual([
      { name: "availability", objective: 95, window: "28d", indicator: { latency: { metric: "http_server_request_duration_seconds", selector: '{service="auth"}', threshold: "200ms" } } },
    ]);
    expect(run([threshold("social_request_latency", 800, "milliseconds")]).profiles[0]?.validated.slos[0]?.indicator).toEqual({
      latency: { metric: "social_request_latency", selector: "{}", threshold: "800ms", unit: "milliseconds" },
    });
    expect(run([threshold("rpc_duration_seconds", 2)]).profiles[0]?.validated.slos[0]?.indicator.latency?.threshold).toBe("2s");
  });

  it("groups SLOs by service in the order services first appear, and takes the rest of the spec and the namespace from the Service's annotations", () => {
    const service = doc(
      "Service",
      "checkout",
      {},
      { annotations: { "tollgate.dev/namespace": "shop", "tollgate.dev/spec": "targetRef: {name: checkout-v2}\npolicy: {warnAt: 80}\n" } },
    );
    const other = slo({ service: "cart" }, "cart-availability");
    const { profiles } = run([other, service, slo(), slo({}, "checkout-errors")]);
    expect(profiles.map((p) => [p.name, p.namespace, p.validated.slos.map((s) => s.name)])).toEqual([
      ["cart", undefined, ["availability"]],
      ["checkout", "shop", ["availability", "errors"]],
    ]);
    expect(profiles[1]?.validated.targetRef.name).toBe("checkout-v2");
    expect(profiles[1]?.validated.policy.warnAt).toBe(80);
  });

  it("gives profiles the namespace of -n where the Service names none, and keeps an SLO's name that has no service prefix", () => {
    const { profiles } = run([slo({}, "availability")], { namespace: "team-a" });
    expect(profiles[0]?.namespace).toBe("team-a");
    expect(profiles[0]?.validated.slos[0]?.name).toBe("availability");
  });

  it("sets alerting documents, alertPolicies and a missing window aside, saying so", () => {
    const { profiles, notes } = run([
      slo({ timeWindow: undefined, alertPolicies: [{ alertPolicyRef: "page" }] }),
      doc("AlertPolicy", "page", { conditions: [] }),
    ]);
    expect(profiles[0]?.validated.slos[0]?.window).toBe("30d");
    expect(notes).toEqual([
      "slo.yaml: AlertPolicy page: not imported: Tollgate writes its own burn-rate alerts from each SLO (tollgate rules)",
      "slo.yaml: SLO checkout-availability: spec.timeWindow: none given, so Tollgate's default rolling window of 30d applies",
      "slo.yaml: SLO checkout-availability: spec.alertPolicies: not imported: Tollgate writes its own burn-rate alerts from each SLO (tollgate rules)",
    ]);
  });
});

describe("import openslo: what is refused, naming the document and the field", () => {
  const inline = (spec: Obj) => slo({ indicator: { metadata: { name: "x" }, spec } });

  it.each<[string, Obj[], string]>([
    ["Timeslices", [slo({ budgetingMethod: "Timeslices" })], "slo.yaml: SLO checkout-availability: spec.budgetingMethod: Timeslices cannot be expressed: Tollgate budgets by events (Occurrences)"],
    ["RatioTimeslices", [slo({ budgetingMethod: "RatioTimeslices" })], "slo.yaml: SLO checkout-availability: spec.budgetingMethod: RatioTimeslices cannot be expressed: Tollgate budgets by events (Occurrences)"],
    [
      "a calendar window",
      [slo({ timeWindow: [{ duration: "1M", isRolling: false, calendar: { startTime: "2026-01-01 00:00:00", timeZone: "UTC" } }] })],
      "slo.yaml: SLO checkout-availability: spec.timeWindow[0].calendar: a calendar-aligned window cannot be expressed: Tollgate's budget window rolls (isRolling: true)",
    ],
    [
      "a rolling month",
      [slo({ timeWindow: [{ duration: "1M", isRolling: true }] })],
      "slo.yaml: SLO checkout-availability: spec.timeWindow[0].duration: 1M cannot be expressed: a month, quarter or year has no fixed length; give the rolling window in days or weeks, such as 30d or 4w",
    ],
    [
      "a window longer than Tollgate's",
      [slo({ timeWindow: [{ duration: "120d", isRolling: true }] })],
      "slo.yaml: SLO checkout-availability: spec.timeWindow[0].duration: slos[].window must be a duration",
    ],
    [
      "two objectives",
      [slo({ objectives: [{ target: 0.99 }, { target: 0.999 }] })],
      "slo.yaml: SLO checkout-availability: spec.objectives: holds 2 objectives; Tollgate takes one per SLO: give each objective an SLO of its own",
    ],
    [
      "a composite objective",
      [slo({ indicator: undefined, objectives: [{ target: 0.99, indicatorRef: "a" }] })],
      "slo.yaml: SLO checkout-availability: spec.objectives[0].indicatorRef: a composite SLO cannot be expressed",
    ],
    [
      "an objective of 100 %",
      [slo({ objectives: [{ targetPercent: 100 }] })],
      "slo.yaml: SLO checkout-availability: spec.objectives[0].targetPercent: slos[].objective must be a percentage strictly between 0 and 100, such as 99.5 (100 would leave no error budget). (the profile's spec.slos[0].objective)",
    ],
    [
      "a raw ratio",
      [inline({ ratioMetric: { rawType: "success", raw: prom("avg(up)") } })],
      "slo.yaml: SLO checkout-availability: spec.indicator.spec.ratioMetric.raw: a precomputed ratio cannot be expressed: Tollgate weighs the budget by events",
    ],
    [
      "a source other than Prometheus",
      [inline({ ratioMetric: { counter: true, bad: { metricSource: { type: "Datadog", spec: { query: "x" } } }, total: prom(TOTAL) } })],
      "slo.yaml: SLO checkout-availability: spec.indicator.spec.ratioMetric.bad.metricSource.type: Datadog cannot be read: Tollgate reads Prometheus's query API",
    ],
    [
      "a DataSource not in the files",
      [inline({ ratioMetric: { counter: true, bad: prom(BAD, "nowhere"), total: prom(TOTAL, "nowhere") } })],
      "slo.yaml: SLO checkout-availability: spec.indicator.spec.ratioMetric.bad.metricSource.metricSourceRef: no DataSource named nowhere in the files given",
    ],
    [
      "a gauge without a window",
      [inline({ ratioMetric: { counter: false, bad: prom(BAD), total: prom(TOTAL) } })],
      "slo.yaml: SLO checkout-availability: spec.indicator.spec.ratioMetric.counter: counter: false (a gauge) cannot be counted over a window",
    ],
    [
      "a counter query that is no selector",
      [inline({ ratioMetric: { counter: true, bad: prom("rate(errors_total[5m])"), total: prom(TOTAL) } })],
      "slo.yaml: SLO checkout-availability: spec.indicator.spec.ratioMetric.bad.metricSource.spec.query: a counter query must be a series selector",
    ],
    [
      "a threshold that is not at or below",
      [slo({ objectives: [{ op: "gt", value: 0.2, targetPercent: 95 }], indicator: { metadata: { name: "x" }, spec: { thresholdMetric: prom("rpc_duration_seconds") } } })],
      "slo.yaml: SLO checkout-availability: spec.objectives[0].op: gt cannot be expressed: a histogram's buckets count observations at or below a bound, so only op: lte can be read",
    ],
    [
      "a threshold on a quantile",
      [slo({ objectives: [{ op: "lte", value: 0.2, targetPercent: 95 }], indicator: { metadata: { name: "x" }, spec: { thresholdMetric: prom("histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))") } } })],
      "slo.yaml: SLO checkout-availability: spec.indicator.spec.thresholdMetric.metricSource.spec.query: a threshold SLI must be a Prometheus histogram",
    ],
    [
      "a histogram whose unit cannot be told",
      [slo({ objectives: [{ op: "lte", value: 300, targetPercent: 95 }], indicator: { metadata: { name: "x" }, spec: { thresholdMetric: prom("request_latency") } } })],
      "slo.yaml: SLO checkout-availability: spec.indicator.spec.thresholdMetric.metricSource.spec.unit: cannot tell the unit of request_latency",
    ],
    [
      "SLOs of one service on two DataSources",
      [
        doc("DataSource", "a", { type: "Prometheus", connectionDetails: { url: "http://a:9090" } }),
        doc("DataSource", "b", { type: "Prometheus", connectionDetails: { url: "http://b:9090" } }),
        inline({ ratioMetric: { counter: true, bad: prom(BAD, "a"), total: prom(TOTAL, "b") } }),
      ],
      "slo.yaml: SLO checkout-availability: spec.indicator.spec.ratioMetric.total.metricSource.metricSourceRef: reads DataSource b, and slo.yaml: SLO checkout-availability spec.indicator.spec.ratioMetric.bad.metricSource reads DataSource a: a profile's SLOs all read one Prometheus",
    ],
    [
      "credentials in a DataSource",
      [doc("DataSource", "a", { type: "Prometheus", connectionDetails: { url: "http://a:9090", password: "x" } }), inline({ ratioMetric: { counter: true, bad: prom(BAD, "a"), total: prom(TOTAL, "a") } })],
      "slo.yaml: DataSource a: spec.connectionDetails.password: is not read",
    ],
    ["an older OpenSLO version", [{ ...slo(), apiVersion: "openslo/v1alpha" }], 'slo.yaml, document 1: apiVersion: only openslo/v1 documents are read, not "openslo/v1alpha"'],
    ["a file without SLOs", [doc("Service", "checkout", {})], "slo.yaml: no OpenSLO SLO (openslo/v1) in it"],
    ["a name twice", [slo(), slo()], "slo.yaml: SLO checkout-availability: is also in slo.yaml; names are unique per kind"],
    [
      "slos in the Service's spec annotation",
      [doc("Service", "checkout", {}, { annotations: { "tollgate.dev/spec": "slos: []" } }), slo()],
      'slo.yaml: Service checkout: metadata.annotations["tollgate.dev/spec"]: must not hold slos',
    ],
    [
      "an invalid policy in the Service's spec annotation",
      [doc("Service", "checkout", {}, { annotations: { "tollgate.dev/spec": "policy: {warnAt: 80, freezeAt: 70}" } }), slo()],
      'slo.yaml: Service checkout: metadata.annotations["tollgate.dev/spec"]: PerformanceProfile checkout: spec.policy',
    ],
    [
      "a targetRef that is no object in the Service's spec annotation",
      [doc("Service", "checkout", {}, { annotations: { "tollgate.dev/spec": "targetRef: checkout-v2" } }), slo()],
      'slo.yaml: Service checkout: metadata.annotations["tollgate.dev/spec"]: PerformanceProfile checkout: spec.targetRef',
    ],
    [
      "more SLOs for one service than a profile holds",
      Array.from({ length: 11 }, (_, i) => slo({}, `checkout-slo-${i}`)),
      "slo.yaml: SLO checkout-slo-0: spec.service: PerformanceProfile checkout: spec.slos: slos may list at most 10 SLOs.",
    ],
  ])("%s", (_, docs, message) => {
    expect(refusal(docs)).toContain(message);
  });

  it("names the SLI document, not the SLO, for a problem in a referenced SLI", () => {
    expect(refusal([doc("SLI", "errors", { ratioMetric: { counter: true, total: prom(TOTAL) } }), slo({ indicator: undefined, indicatorRef: "errors" })])).toBe(
      "slo.yaml: SLI errors: spec.ratioMetric: needs good or bad, and total",
    );
  });

  it("refuses -n against the namespace the Service names", () => {
    const service = doc("Service", "checkout", {}, { annotations: { "tollgate.dev/namespace": "shop" } });
    expect(refusal([service, slo()], { namespace: "team-a" })).toBe('slo.yaml: Service checkout: metadata.annotations["tollgate.dev/namespace"]: says namespace shop, and -n says team-a');
  });

  it("refuses an Istio preset annotation whose queries measure another namespace, rather than either side winning", () => {
    const preset = slo({
      indicator: {
        metadata: { name: "x", annotations: { "tollgate.dev/indicator": '{"istio":{"kind":"availability"}}' } },
        spec: {
          ratioMetric: {
            counter: true,
            bad: prom('sum(istio_requests_total{destination_workload="checkout",destination_workload_namespace="shop",reporter="destination",response_code=~"5.."})'),
            total: prom('sum(istio_requests_total{destination_workload="checkout",destination_workload_namespace="shop",reporter="destination"})'),
          },
        },
      },
    });
    expect(run([preset], { namespace: "shop" }).profiles[0]?.validated.slos[0]?.indicator).toEqual({ istio: { kind: "availability" } });
    expect(refusal([preset], { namespace: "team-a" })).toBe(
      'slo.yaml: SLO checkout-availability: spec.indicator.metadata.annotations["tollgate.dev/indicator"]: says {"istio":{"kind":"availability"}}, but the SLI\'s queries are not the ones Tollgate builds for it for Deployment checkout in namespace team-a: remove the annotation to import the queries as written, or import into the namespace they name (-n)',
    );
  });
});
