import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { InputError, UsageError } from "./flags.ts";
import { importCommand, IMPORT_USAGE, parseImportArgs } from "./import.ts";
import { io, rejection } from "./test-builders.ts";

const OPENSLO = `
apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-availability}
spec:
  service: checkout
  budgetingMethod: Occurrences
  timeWindow: [{duration: 28d, isRolling: true}]
  objectives: [{targetPercent: 99.5}]
  alertPolicies: [{alertPolicyRef: page}]
  indicator:
    metadata: {name: errors}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{job="checkout",code=~"5.."}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{job="checkout"}'}}}
`;

const SLOTH = `
version: prometheus/v1
service: checkout
slos:
  - name: availability
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
`;

describe("tollgate import: flags", () => {
  it("takes the format, repeated files, the namespace, and Sloth's window (30d unless given)", () => {
    expect(parseImportArgs(["openslo", "-f", "a.yaml", "--filename", "b.yaml", "-n", "shop"])).toEqual({ format: "openslo", files: ["a.yaml", "b.yaml"], namespace: "shop", window: "30d" });
    expect(parseImportArgs(["sloth", "-f", "-", "--window", "4w"])).toEqual({ format: "sloth", files: ["-"], namespace: undefined, window: "4w" });
    expect(parseImportArgs(["-h"])).toBe("help");
  });

  it.each([
    [[], "import needs a format, openslo or sloth, not null"],
    [["csv", "-f", "a.yaml"], 'import needs a format, openslo or sloth, not "csv"'],
    [["openslo"], "import openslo needs -f FILE"],
    [["openslo", "-f", "a.yaml", "b.yaml"], 'import openslo takes files with -f, not "b.yaml"'],
    [["openslo", "-f", "a.yaml", "--window", "4w"], "--window is for import sloth"],
    [["sloth", "-f", "a.yaml", "--window", "100d"], '--window must be a duration from 1m to 90d such as 30d or 4w, not "100d"'],
    [["openslo", "-f", "a.yaml", "-n", "Shop"], '-n must be a namespace name, not "Shop"'],
    [["openslo", "-f", "a.yaml", "--output", "json"], "--output"],
  ])("refuses %j with a usage error (exit 2) naming the flag", (argv, message) => {
    let err: unknown;
    try {
      parseImportArgs(argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(message);
  });
});

describe("tollgate import: the command", () => {
  it("prints each profile as a PerformanceProfile document, in the namespace -n gives, and the notes on stderr", async () => {
    const { fake, out } = io({ "slo.yaml": OPENSLO });
    await importCommand(["openslo", "-f", "slo.yaml", "-n", "shop"], fake);
    const docs = parseAllDocuments(out.stdout).map((d) => d.toJS() as Record<string, unknown>);
    expect(docs).toEqual([
      {
        apiVersion: "tollgate.dev/v1alpha1",
        kind: "PerformanceProfile",
        metadata: { name: "checkout", namespace: "shop" },
        spec: {
          targetRef: { name: "checkout" },
          slos: [
            {
              name: "availability",
              objective: 99.5,
              window: "28d",
              indicator: { ratio: { errors: 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{window}}]))', total: 'sum(rate(http_requests_total{job="checkout"}[{{window}}]))' } },
            },
          ],
        },
      },
    ]);
    expect(out.stderr).toEqual(["tollgate: note: slo.yaml: SLO checkout-availability: spec.alertPolicies: not imported: Tollgate writes its own burn-rate alerts from each SLO (tollgate rules)"]);
  });

  it("imports Sloth's spec with the window given, leaving the namespace to kubectl when none is given", async () => {
    const { fake, out } = io({ "-": SLOTH });
    await importCommand(["sloth", "-f", "-", "--window", "7d"], fake);
    const [doc] = parseAllDocuments(out.stdout).map((d) => d.toJS() as { metadata: unknown; spec: { slos: Array<{ window: string }> } });
    expect(doc?.metadata).toEqual({ name: "checkout" });
    expect(doc?.spec.slos[0]?.window).toBe("7d");
  });

  it("fails with an input error (exit 1) naming the document and field of what cannot be mapped, printing nothing", async () => {
    const { fake, out } = io({ "slo.yaml": OPENSLO.replace("Occurrences", "Timeslices") });
    const err = await rejection(importCommand(["openslo", "-f", "slo.yaml"], fake));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe("slo.yaml: SLO checkout-availability: spec.budgetingMethod: Timeslices cannot be expressed: Tollgate budgets by events (Occurrences)");
    expect(out.stdout).toBe("");
  });

  it("fails with an input error naming a file it cannot read", async () => {
    const err = await rejection(importCommand(["openslo", "-f", "missing.yaml"], io({}).fake));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe("cannot read missing.yaml: ENOENT: no such file");
  });

  it("prints the usage for -h, which names both formats", async () => {
    const { fake, out } = io({});
    await importCommand(["-h"], fake);
    expect(out.help).toBe(1);
    expect(IMPORT_USAGE).toContain("tollgate import openslo");
    expect(IMPORT_USAGE).toContain("tollgate import sloth");
  });
});
