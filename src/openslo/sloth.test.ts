import { describe, expect, it } from "vitest";
import { ConversionError } from "./fields.ts";
import { importSloth } from "./sloth.ts";

const SPEC = `
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{ .window }}]))
    alerting:
      name: MyServiceHighErrorRate
      page_alert:
        labels:
          severity: pageteam
`;

const run = (text: string, window = "30d") => importSloth([{ source: "sloth.yaml", text }], { window });

function refusal(text: string, window?: string): string {
  try {
    run(text, window);
  } catch (err) {
    expect(err).toBeInstanceOf(ConversionError);
    return (err as Error).message;
  }
  throw new Error("imported without complaint");
}

describe("import sloth", () => {
  it("makes the service a profile and each SLO's events a ratio over {{window}}, with the window given", () => {
    const { profiles, notes } = run(SPEC, "28d");
    expect(profiles).toEqual([
      {
        name: "myservice",
        namespace: undefined,
        spec: {
          targetRef: { name: "myservice" },
          slos: [
            {
              name: "requests-availability",
              description: "Common SLO based on availability for HTTP request responses.",
              objective: 99.9,
              window: "28d",
              indicator: {
                ratio: {
                  errors: 'sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{window}}]))',
                  total: 'sum(rate(http_request_duration_seconds_count{job="myservice"}[{{window}}]))',
                },
              },
            },
          ],
        },
        validated: expect.objectContaining({ targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "myservice" } }),
      },
    ]);
    expect(notes).toEqual([
      "sloth.yaml: Sloth service myservice: labels: not imported: Tollgate labels its series with namespace, profile and slo",
      "sloth.yaml: Sloth service myservice: slos[].alerting: not imported: Tollgate writes its own burn-rate alerts from each SLO (tollgate rules)",
    ]);
  });

  it("makes one profile per document, and refuses one service twice", () => {
    const two = `${SPEC}---\n${SPEC.replace('service: "myservice"', 'service: "other"')}`;
    expect(run(two).profiles.map((p) => p.name)).toEqual(["myservice", "other"]);
    expect(refusal(`${SPEC}---\n${SPEC}`)).toBe("sloth.yaml: Sloth service myservice: is also in sloth.yaml; one profile per service");
  });

  it.each<[string, string, string]>([
    ["a raw SLI", SPEC.replace(/events:[\s\S]*?alerting:/, "raw:\n        error_ratio_query: 1 - avg(up)\n    alerting:"), "sloth.yaml: Sloth service myservice: slos[0].sli.raw: a precomputed error ratio cannot be expressed"],
    ["an SLI plugin", SPEC.replace(/events:[\s\S]*?alerting:/, "plugin:\n        id: x\n    alerting:"), "sloth.yaml: Sloth service myservice: slos[0].sli.plugin: an SLI plugin runs inside Sloth"],
    ["SLO plugins", `${SPEC}slo_plugins:\n  chain:\n    - id: sloth.dev/contrib/denominator_corrected/v1\n`, "sloth.yaml: Sloth service myservice: slo_plugins: Sloth SLO plugins change the rules Sloth generates"],
    ["a query without {{.window}}", SPEC.replace("[{{ .window }}]", "[5m]"), "sloth.yaml: Sloth service myservice: slos[0].sli.events.total_query: must read its range over {{.window}}, as Sloth requires"],
    ["another spec version", SPEC.replace("prometheus/v1", "sloth.slok.dev/v1"), 'sloth.yaml, document 1: version: only Sloth\'s prometheus/v1 spec is read, not "sloth.slok.dev/v1"'],
    ["an objective of 100", SPEC.replace("objective: 99.9", "objective: 100"), "sloth.yaml: Sloth service myservice: slos[0].objective: slos[].objective must be a percentage strictly between 0 and 100"],
    ["an SLO name Tollgate cannot label with", SPEC.replace('"requests-availability"', '"Requests_Availability"'), "sloth.yaml: Sloth service myservice: slos[0].name: slos[].name must be lower-case letters"],
    ["a service that cannot name a Deployment", SPEC.replace('"myservice"', '"My Service"'), 'sloth.yaml, document 1: service: names the PerformanceProfile and its Deployment, so it must be a Kubernetes object name'],
  ])("refuses %s, naming the field", (_, text, message) => {
    expect(refusal(text)).toContain(message);
  });

  it("names --window when the window is what Tollgate refuses", () => {
    expect(refusal(SPEC, "1s")).toContain("sloth.yaml: Sloth service myservice: slos[0]: slos[].window must be a duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first) between 1m and 90d. (the profile's spec.slos[0].window, from --window)");
  });
});
