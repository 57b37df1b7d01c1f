import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../api/profile.ts";
import { exportProfile, shorthand, type ExportInput } from "./export.ts";
import { ConversionError, type Obj } from "./fields.ts";
import { importOpenSlo } from "./import.ts";
import { openSloYaml } from "./export.ts";
import type { DataSourceDocument, ServiceDocument, SloDocument } from "./types.ts";

const RATIO = { errors: 'sum(rate(http_requests_total{job="api",code=~"5.."}[{{window}}]))', total: 'sum(rate(http_requests_total{job="api"}[{{window}}]))' };

function input(raw: Obj, name = "api"): ExportInput {
  return { where: "profile.yaml: PerformanceProfile api", name, namespace: "shop", raw, spec: profileSpecSchema.parse(raw) };
}

const slo = (indicator: Obj, extra: Obj = {}) => ({ name: "availability", objective: 99.9, indicator, ...extra });

function sloDocs(raw: Obj): SloDocument[] {
  return exportProfile(input(raw)).documents.filter((d): d is SloDocument => d.kind === "SLO");
}

describe("export openslo", () => {
  it("writes a Service named after the profile with its namespace, and an SLO per SLO: Occurrences, its rolling window, targetPercent", () => {
    const { documents, notes } = exportProfile(input({ targetRef: { name: "api" }, slos: [slo({ ratio: RATIO }, { description: "API calls succeed.", window: "7d" })] }));
    expect(documents).toEqual([
      { apiVersion: "openslo/v1", kind: "Service", metadata: { name: "api", annotations: { "tollgate.dev/namespace": "shop" } }, spec: {} },
      {
        apiVersion: "openslo/v1",
        kind: "SLO",
        metadata: { name: "api-availability" },
        spec: {
          description: "API calls succeed.",
          service: "api",
          indicator: {
            metadata: { name: "api-availability" },
            spec: {
              ratioMetric: {
                counter: true,
                bad: { metricSource: { type: "Prometheus", spec: { query: 'sum(http_requests_total{job="api",code=~"5.."})' } } },
                total: { metricSource: { type: "Prometheus", spec: { query: 'sum(http_requests_total{job="api"})' } } },
              },
            },
          },
          timeWindow: [{ duration: "7d", isRolling: true }],
          budgetingMethod: "Occurrences",
          objectives: [{ targetPercent: 99.9 }],
        },
      },
    ]);
    expect(notes).toEqual([]);
  });

  it("keeps ratio queries that are no sum of a counter's rate as written (counter: false), and says other tools will not fill in {{window}}", () => {
    const ratio = { errors: 'sum(increase(errors_total[{{window}}]))', total: "sum(increase(requests_total[{{window}}]))" };
    const { documents, notes } = exportProfile(input({ targetRef: { name: "api" }, slos: [slo({ ratio })] }));
    const doc = documents[1] as SloDocument;
    expect(doc.spec.indicator.spec.ratioMetric).toEqual({
      counter: false,
      bad: { metricSource: { type: "Prometheus", spec: { query: ratio.errors } } },
      total: { metricSource: { type: "Prometheus", spec: { query: ratio.total } } },
    });
    expect(notes).toEqual([
      "profile.yaml: PerformanceProfile api: SLO availability: its queries are not a sum of a counter's rate, so they keep Tollgate's {{window}} placeholder, which other OpenSLO tools do not fill in",
    ]);
  });

  it("writes an Istio preset as the PromQL Tollgate reads, primary included with a canary, and names the preset in an annotation", () => {
    const [availability, latency] = sloDocs({
      targetRef: { name: "api" },
      slos: [slo({ istio: { kind: "availability" } }), { name: "latency", objective: 95, indicator: { istio: { kind: "latency", threshold: "250ms" } } }],
      canary: { service: { name: "api", port: 8080 } },
    });
    const sel = 'destination_workload=~"api|api-primary",destination_workload_namespace="shop",reporter="destination"';
    expect(availability?.spec.indicator).toEqual({
      metadata: { name: "api-availability", annotations: { "tollgate.dev/indicator": '{"istio":{"kind":"availability"}}' } },
      spec: {
        ratioMetric: {
          counter: true,
          bad: { metricSource: { type: "Prometheus", spec: { query: `sum(istio_requests_total{${sel},response_code=~"5.."})` } } },
          total: { metricSource: { type: "Prometheus", spec: { query: `sum(istio_requests_total{${sel}})` } } },
        },
      },
    });
    expect(latency?.spec.indicator.metadata.annotations).toEqual({ "tollgate.dev/indicator": '{"istio":{"kind":"latency","threshold":"250ms"}}' });
    expect(latency?.spec.indicator.spec.ratioMetric).toEqual({
      counter: true,
      good: { metricSource: { type: "Prometheus", spec: { query: `sum(istio_request_duration_milliseconds_bucket{${sel},le=~"250|250\\\\.0"})` } } },
      total: { metricSource: { type: "Prometheus", spec: { query: `sum(istio_request_duration_milliseconds_count{${sel}})` } } },
    });
  });

  it("writes a latency indicator as a thresholdMetric with op lte and the value in the histogram's unit, the unit only where the profile sets it", () => {
    const [seconds, ms] = sloDocs({
      targetRef: { name: "api" },
      slos: [
        slo({ latency: { metric: "http_server_request_duration_seconds", selector: '{job="api"}', threshold: "200ms" } }),
        { name: "slow", objective: 99, indicator: { latency: { metric: "req_latency", selector: "{}", threshold: "1s", unit: "milliseconds" } } },
      ],
    });
    expect(seconds?.spec.indicator.spec).toEqual({ thresholdMetric: { metricSource: { type: "Prometheus", spec: { query: 'http_server_request_duration_seconds{job="api"}' } } } });
    expect(seconds?.spec.objectives).toEqual([{ op: "lte", value: 0.2, targetPercent: 99.9 }]);
    expect(ms?.spec.indicator.spec.thresholdMetric?.metricSource.spec).toEqual({ query: "req_latency{}", unit: "milliseconds" });
    expect(ms?.spec.objectives).toEqual([{ op: "lte", value: 1000, targetPercent: 99 }]);
  });

  it("writes the profile's Prometheus as a DataSource the SLIs name, and its other options, policy and the rest, as written, in the Service's annotation", () => {
    const raw = {
      targetRef: { name: "api-v2" },
      prometheus: { address: "https://mimir.example/prometheus", headers: { "X-Scope-OrgID": "team" } },
      slos: [slo({ ratio: RATIO })],
      policy: { warnAt: 80 },
    };
    const { documents } = exportProfile(input(raw));
    const [service, ds, doc] = documents as [ServiceDocument, DataSourceDocument, SloDocument];
    expect(ds).toEqual({ apiVersion: "openslo/v1", kind: "DataSource", metadata: { name: "api-prometheus" }, spec: { type: "Prometheus", connectionDetails: { url: "https://mimir.example/prometheus" } } });
    expect(doc.spec.indicator.spec.ratioMetric?.bad?.metricSource.metricSourceRef).toBe("api-prometheus");
    // Only what the profile wrote, not the policy's defaults.
    expect(service.metadata.annotations?.["tollgate.dev/spec"]).toBe("targetRef:\n  name: api-v2\nprometheus:\n  headers:\n    X-Scope-OrgID: team\npolicy:\n  warnAt: 80\n");
    const back = importOpenSlo([{ source: "x", text: openSloYaml(documents) }]).profiles[0];
    expect(back?.validated).toEqual(profileSpecSchema.parse(raw));
  });

  it("writes a connection as the DataSource's connection", () => {
    const { documents } = exportProfile(input({ targetRef: { name: "api" }, prometheus: { connection: "team-a" }, slos: [slo({ ratio: RATIO })] }));
    expect((documents[1] as DataSourceDocument).spec.connectionDetails).toEqual({ connection: "team-a" });
  });

  it("names an SLO by its own name where profile and SLO together are too long for an OpenSLO name", () => {
    const name = "a".repeat(50);
    const docs = exportProfile(input({ targetRef: { name }, slos: [{ name: "latency-p99-checkout", objective: 99, indicator: { ratio: RATIO } }] }, name)).documents;
    expect(docs[1]?.metadata.name).toBe("latency-p99-checkout");
  });

  it("refuses a profile whose name is no OpenSLO name, and a window of seconds, naming the field", () => {
    const thrown = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(ConversionError);
        return (err as Error).message;
      }
      throw new Error("did not throw");
    };
    expect(thrown(() => exportProfile(input({ targetRef: { name: "api" }, slos: [slo({ ratio: RATIO })] }, "api.v2")))).toBe(
      "profile.yaml: PerformanceProfile api: metadata.name: an OpenSLO name is an RFC 1123 label (lower-case letters, digits and dashes, at most 63), so this profile's name cannot name its Service",
    );
    expect(thrown(() => exportProfile(input({ targetRef: { name: "api" }, slos: [slo({ ratio: RATIO }, { window: "90s" })] })))).toBe(
      "profile.yaml: PerformanceProfile api: spec.slos[0].window: 90s is not a whole number of minutes, which OpenSLO's duration shorthand cannot give",
    );
  });
});

describe("shorthand", () => {
  it("keeps a window that is one number and a unit, and writes others in the largest unit that divides them", () => {
    expect(shorthand("7d")).toBe("7d");
    expect(shorthand("30d")).toBe("30d");
    expect(shorthand("4w")).toBe("4w");
    expect(shorthand("1h30m")).toBe("90m");
    expect(shorthand("1d12h")).toBe("36h");
    expect(shorthand("2w0d")).toBe("2w");
    expect(shorthand("90s")).toBeUndefined();
  });
});
