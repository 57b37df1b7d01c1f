import { readdirSync, readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { API_VERSION, KIND } from "./meta.ts";
import { INDICATOR_KINDS, indicatorKind } from "./slo.ts";
import { validateSpec } from "./validate.ts";
import type { ProfileSpec } from "./profile.ts";

const dir = new URL("../../examples/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

interface Doc {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: unknown;
}

function docs(file: string): Doc[] {
  return parseAllDocuments(readFileSync(new URL(file, dir), "utf8")).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Doc;
  });
}

function profile(file: string): { name: string; spec: ProfileSpec } {
  const found = docs(file).filter((d) => d.kind === KIND);
  expect(found).toHaveLength(1);
  const doc = found[0] as Doc;
  expect(doc.apiVersion).toBe(API_VERSION);
  const res = validateSpec(doc.spec);
  if (!res.ok) throw new Error(`${file}: ${res.message}`);
  return { name: doc.metadata?.name ?? "", spec: res.spec };
}

describe("examples/", () => {
  it("has a profile for every service in the seeds", () => {
    expect(files.sort()).toEqual([
      "game-gateway.yaml",
      "game-service.yaml",
      "o2-gateway.yaml",
      "rust-security-auth-service.yaml",
      "rust-security-policy-service.yaml",
      "thinkrank-ai-service.yaml",
      "thinkrank-auth-service.yaml",
      "thinkrank-social-service.yaml",
    ]);
  });

  it.each(files)("%s: the profile is valid, targets the file's Deployment, and leaves the namespace to kubectl", (file) => {
    const { spec } = profile(file);
    const all = docs(file);
    const deployments = all.filter((d) => d.kind === "Deployment").map((d) => d.metadata?.name);
    expect(deployments).toContain(spec.targetRef.name);
    for (const d of all) expect(d.metadata?.namespace).toBeUndefined();
  });

  it("uses every indicator kind, and both Istio presets", () => {
    const indicators = files.flatMap((f) => profile(f).spec.slos.map((s) => s.indicator));
    expect(new Set(indicators.map(indicatorKind))).toEqual(new Set(INDICATOR_KINDS));
    expect(new Set(indicators.flatMap((i) => (i.istio ? [i.istio.kind] : [])))).toEqual(new Set(["availability", "latency"]));
  });

  it("keeps the seeds' SLO numbers for ThinkRank's services", () => {
    const objectives = (file: string) => Object.fromEntries(profile(file).spec.slos.map((s) => [s.name, s.objective]));
    const thresholds = (file: string) =>
      profile(file).spec.slos.flatMap((s) => [s.indicator.latency?.threshold ?? s.indicator.istio?.threshold ?? []].flat());
    expect(objectives("thinkrank-auth-service.yaml").availability).toBe(99.9);
    expect(thresholds("thinkrank-auth-service.yaml")).toContain("200ms");
    expect(objectives("game-service.yaml").availability).toBe(99.5);
    expect(thresholds("game-service.yaml")).toContain("500ms");
    expect(objectives("thinkrank-ai-service.yaml").availability).toBe(99.0);
    expect(thresholds("thinkrank-ai-service.yaml")).toContain("2s");
    expect(objectives("thinkrank-social-service.yaml").availability).toBe(99.5);
    expect(thresholds("thinkrank-social-service.yaml")).toContain("300ms");
  });

  it("gives game-service the seed's canary, circuit breaker and HPA", () => {
    const { name, spec } = profile("game-service.yaml");
    expect(name).toBe("game-service");
    expect(spec.targetRef.name).toBe("game-service");
    expect(spec.canary).toMatchObject({ stepWeight: 10, maxWeight: 50, service: { name: "game-service", port: 8080 } });
    expect(spec.trafficPolicy?.circuitBreaker).toEqual({ consecutiveErrors: 5, interval: "30s", baseEjectionTime: "30s", maxEjectionPercent: 50 });
    expect(spec.autoscaling).toMatchObject({ minReplicas: 2, maxReplicas: 10, cpuUtilization: 70, memoryUtilization: 80 });
    expect(spec.policy).toMatchObject({ warnAt: 90, freezeAt: 100, rollbackAt: 150, unfreezeBelow: 70 });
  });
});
