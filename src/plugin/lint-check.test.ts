import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { validateSpec } from "../api/validate.ts";
import { lintText, lintYaml } from "./lint-check.ts";

const profile = (name: string, spec: string) => `apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: ${name}}
spec:
${spec}
`;

const GOOD = `  targetRef: {name: game-service}
  slos:
    - {name: availability, objective: 99.5, window: 30d, indicator: {istio: {kind: availability}}}`;

describe("lintYaml", () => {
  it.each(readdirSync("examples").filter((f) => f.endsWith(".yaml")))("passes examples/%s, as the API server admits it", (file) => {
    const results = lintYaml(readFileSync(`examples/${file}`, "utf8"), `examples/${file}`, "default");
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it("reports each profile of a file on its own, with the operator's message and field", () => {
    const bad = GOOD.replace("objective: 99.5", "objective: 100");
    const text = [profile("good", GOOD), profile("bad", bad), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: skipped}\n"].join("---\n");
    const results = lintYaml(text, "p.yaml", "shop");
    expect(results.map((r) => [r.name, r.ok])).toEqual([
      ["good", true],
      ["bad", false],
    ]);
    const expected = validateSpec({ targetRef: { name: "game-service" }, slos: [{ name: "availability", objective: 100, window: "30d", indicator: { istio: { kind: "availability" } } }] });
    if (expected.ok) throw new Error("objective 100 must be refused");
    expect(results[1]).toMatchObject({ where: "p.yaml: PerformanceProfile bad", namespace: "shop", field: "spec.slos[0].objective", message: expected.message });
  });

  it("refuses an unknown field as the API server's strict decoding does, where zod would drop it", () => {
    const typo = GOOD.replace("window: 30d", "window: 30d, windw: 7d");
    const [r] = lintYaml(profile("typo", typo), "p.yaml", "default");
    expect(r).toMatchObject({ ok: false, field: "spec.slos[0].windw" });
    expect(r?.message).toMatch(/^spec\.slos\[0\]\.windw: unknown field/);
  });

  it("reports an SLO the API server accepts but the operator cannot measure, naming its indicator", () => {
    const clash = `  targetRef: {name: api}
  slos:
    - {name: slow, objective: 99, window: 1h, indicator: {latency: {metric: http_request_duration_seconds, selector: '{le="1"}', threshold: 500ms}}}`;
    const [r] = lintYaml(profile("clash", clash), "p.yaml", "default");
    expect(r).toMatchObject({ ok: false, field: "spec.slos[0].indicator" });
    expect(r?.message).toContain("Ready=False");
  });

  it("names a profile's wrong apiVersion and a missing name by document", () => {
    const results = lintYaml("apiVersion: tollgate.dev/v1\nkind: PerformanceProfile\nmetadata: {name: old}\nspec: {}\n---\napiVersion: tollgate.dev/v1alpha1\nkind: PerformanceProfile\nspec: {}\n", "p.yaml", "default");
    expect(results[0]).toMatchObject({ ok: false, field: "apiVersion" });
    expect(results[1]).toMatchObject({ ok: false, where: "p.yaml, document 2", field: "metadata.name" });
  });
});

describe("lintText", () => {
  it("prints ok or the message per profile", () => {
    expect(lintText(lintYaml(profile("good", GOOD), "p.yaml", "default"))).toBe("p.yaml: PerformanceProfile good: ok\n");
  });
});
