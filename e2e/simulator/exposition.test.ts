import { describe, expect, it } from "vitest";
import { CONTENT_TYPE, escapeLabelValue, renderExposition } from "./exposition.ts";
import { DURATION_BUCKETS_MS, istioLabels } from "./istio.ts";

const labels = istioLabels({
  namespace: "default",
  workload: "game-service",
  service: "game-service",
  version: "v1",
  responseCode: "200",
});

// A sample line: name, optional {labels} with escaped values, one space, a value.
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$/;

function samples(text: string, name: string): Array<{ line: string; value: number }> {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((line) => ({ line, value: Number(line.slice(line.lastIndexOf(" ") + 1)) }));
}

describe("renderExposition", () => {
  const text = renderExposition([{ labels, observations: [{ ms: 50, count: 95 }, { ms: 800, count: 5 }] }]);

  it("declares the content type Prometheus expects", () => {
    expect(CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  it("writes HELP and TYPE before each family and only well-formed sample lines", () => {
    const lines = text.split("\n");
    expect(text.endsWith("\n")).toBe(true);
    expect(lines.slice(0, 2)).toEqual(["# HELP istio_requests_total Total requests.", "# TYPE istio_requests_total counter"]);
    const histogramType = lines.indexOf("# TYPE istio_request_duration_milliseconds histogram");
    expect(lines[histogramType - 1]).toBe("# HELP istio_request_duration_milliseconds Request duration.");
    for (const line of lines.filter((l) => l !== "" && !l.startsWith("#"))) expect(line).toMatch(SAMPLE);
  });

  it("writes Istio's labels for the counter, with the total of all observations", () => {
    expect(samples(text, "istio_requests_total")).toEqual([
      {
        line:
          'istio_requests_total{reporter="destination",source_workload="istio-ingressgateway",source_workload_namespace="istio-system",' +
          'destination_workload="game-service",destination_workload_namespace="default",' +
          'destination_service="game-service.default.svc.cluster.local",destination_service_name="game-service",' +
          'destination_service_namespace="default",destination_version="v1",destination_canonical_service="game-service",' +
          'request_protocol="http",response_code="200",response_flags="-",connection_security_policy="mutual_tls"} 100',
        value: 100,
      },
    ]);
  });

  it("writes cumulative buckets at Istio's bounds, +Inf equal to _count, and _sum in ms", () => {
    const buckets = samples(text, "istio_request_duration_milliseconds_bucket");
    const les = buckets.map((b) => /le="([^"]+)"/.exec(b.line)?.[1]);
    expect(les).toEqual([...DURATION_BUCKETS_MS.map(String), "+Inf"]);
    expect(les).toContain("1800000");
    const byLe = Object.fromEntries(buckets.map((b, i) => [les[i], b.value]));
    expect(byLe["25"]).toBe(0);
    expect(byLe["50"]).toBe(95); // le is inclusive
    expect(byLe["500"]).toBe(95);
    expect(byLe["1000"]).toBe(100);
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]?.value).toBeGreaterThanOrEqual(buckets[i - 1]?.value ?? 0);
    }
    const [count] = samples(text, "istio_request_duration_milliseconds_count");
    const [sum] = samples(text, "istio_request_duration_milliseconds_sum");
    expect(byLe["+Inf"]).toBe(count?.value);
    expect(count?.value).toBe(100);
    expect(sum?.value).toBe(95 * 50 + 5 * 800);
    // The le label comes last, after the series' own labels.
    expect(buckets[0]?.line).toMatch(/,connection_security_policy="mutual_tls",le="1"\} 0$/);
  });

  it("writes one counter and one histogram per series", () => {
    const other = istioLabels({ namespace: "default", workload: "game-service", service: "game-service", version: "v1", responseCode: "500" });
    const two = renderExposition([
      { labels, observations: [{ ms: 50, count: 3 }] },
      { labels: other, observations: [{ ms: 50, count: 1 }] },
    ]);
    expect(samples(two, "istio_requests_total").map((s) => s.value)).toEqual([3, 1]);
    expect(samples(two, "istio_request_duration_milliseconds_bucket")).toHaveLength(2 * (DURATION_BUCKETS_MS.length + 1));
    expect(two.match(/^# TYPE /gm)).toHaveLength(2);
  });

  it("writes the family headers even with no series", () => {
    expect(renderExposition([])).toBe(
      "# HELP istio_requests_total Total requests.\n# TYPE istio_requests_total counter\n" +
        "# HELP istio_request_duration_milliseconds Request duration.\n# TYPE istio_request_duration_milliseconds histogram\n",
    );
  });

  it("escapes backslashes, quotes and newlines in label values", () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const weird = renderExposition([{ labels: [["destination_version", 'say "hi"\\\n']], observations: [{ ms: 1, count: 1 }] }]);
    expect(weird).toContain('istio_requests_total{destination_version="say \\"hi\\"\\\\\\n"} 1\n');
    for (const line of weird.split("\n").filter((l) => l !== "" && !l.startsWith("#"))) expect(line).toMatch(SAMPLE);
  });

  it("writes fractional sums as plain numbers", () => {
    const t = renderExposition([{ labels, observations: [{ ms: 0.5, count: 3 }] }]);
    expect(samples(t, "istio_request_duration_milliseconds_sum")[0]?.value).toBe(1.5);
    expect(t).toMatch(/_sum\{[^}]*\} 1\.5\n/);
  });
});
