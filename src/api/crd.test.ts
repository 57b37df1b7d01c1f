import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { buildCrd, crdYaml, printerColumns, toStructural } from "./crd.ts";

type Node = { [key: string]: unknown };

interface Crd {
  spec: {
    versions: Array<{
      subresources: Node;
      additionalPrinterColumns: Array<{ name: string; type: string; jsonPath: string }>;
      schema: { openAPIV3Schema: Node };
    }>;
  };
}

const crd = buildCrd() as unknown as Crd;
const version = crd.spec.versions[0];
if (!version) throw new Error("the CRD has no version");
const root = version.schema.openAPIV3Schema;

/** The schema node at a dotted path of property names (`spec.policy`); `[]` steps into array items. */
function at(path: string): Node {
  let node: Node = root;
  for (const part of path.split(".")) {
    if (part === "[]") node = node.items as Node;
    else node = (node.properties as Record<string, Node>)[part] as Node;
    if (!node) throw new Error(`no schema at ${path}`);
  }
  return node;
}

/** Every schema node with its path, properties and items included. */
function nodes(node: Node = root, path = ""): Array<[string, Node]> {
  const out: Array<[string, Node]> = [[path, node]];
  for (const [k, v] of Object.entries((node.properties as Record<string, Node> | undefined) ?? {})) out.push(...nodes(v, path ? `${path}.${k}` : k));
  if (node.items) out.push(...nodes(node.items as Node, `${path}.[]`));
  if (node.additionalProperties && typeof node.additionalProperties === "object") out.push(...nodes(node.additionalProperties as Node, `${path}.*`));
  return out;
}

const rules = (path: string) => ((at(path)["x-kubernetes-validations"] as Array<{ rule: string }> | undefined) ?? []).map((r) => r.rule);

describe("CRD generation", () => {
  it("matches the committed crds/ file (run `npm run crds` after changing src/api)", () => {
    const committed = readFileSync(new URL("../../crds/tollgate.dev_performanceprofiles.yaml", import.meta.url), "utf8");
    expect(committed).toBe(crdYaml());
  });

  it("reads back as the same object, with no YAML 1.1 boolean traps such as a bare `on`", () => {
    expect(parse(crdYaml(), { version: "1.1" })).toEqual(buildCrd());
  });

  it("makes zod's output structural", () => {
    expect(
      toStructural({
        type: "object",
        properties: { a: { type: "integer", minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER } },
        additionalProperties: false,
      }),
    ).toEqual({ type: "object", properties: { a: { type: "integer" } } });
    expect(toStructural({ type: "object", properties: { a: { type: "string" } }, additionalProperties: {} })).toEqual({
      type: "object",
      properties: { a: { type: "string" } },
      "x-kubernetes-preserve-unknown-fields": true,
    });
    expect(toStructural({ type: "object", additionalProperties: { type: "string" } })).toEqual({
      type: "object",
      additionalProperties: { type: "string" },
    });
    expect(toStructural({ type: "string", format: "date-time", pattern: "^\\d{4}" })).toEqual({ type: "string", format: "date-time" });
    // Field names that are also schema keywords stay fields.
    expect(toStructural({ type: "object", properties: { type: { type: "string" }, description: { type: "string" } } })).toEqual({
      type: "object",
      properties: { type: { type: "string" }, description: { type: "string" } },
    });
  });

  it("never emits $ref, nor additionalProperties beside properties", () => {
    const walk = (node: unknown): void => {
      if (!node || typeof node !== "object") return;
      const o = node as Record<string, unknown>;
      expect(o).not.toHaveProperty("$ref");
      if ("properties" in o) expect(o).not.toHaveProperty("additionalProperties");
      Object.values(o).forEach(walk);
    };
    walk(JSON.parse(JSON.stringify(crdYaml())));
    walk(buildCrd());
  });

  it("is structural: every node typed, no anyOf/oneOf/allOf/not/nullable, objects declare their fields", () => {
    for (const [path, node] of nodes()) {
      if (path === "metadata") continue;
      expect(node.type, path).toBeDefined();
      for (const k of ["anyOf", "oneOf", "allOf", "not", "nullable", "$schema", "const", "propertyNames"]) expect(node, `${path} has ${k}`).not.toHaveProperty(k);
      if (node.type === "object") expect(node.properties ?? node.additionalProperties, `${path} declares no fields`).toBeDefined();
      if (node.type === "array") expect(node.items, `${path} has no items`).toBeDefined();
    }
  });

  it("describes every field, so `kubectl explain` teaches the API", () => {
    const undescribed = nodes()
      .filter(([path]) => path !== "" && path !== "metadata" && !path.endsWith(".[]") && !path.endsWith(".*"))
      .filter(([, node]) => typeof node.description !== "string" || (node.description as string).length < 10)
      .map(([path]) => path);
    expect(undescribed).toEqual([]);
  });

  it("mentions the default in the description of every defaulted field", () => {
    for (const [path, node] of nodes()) {
      if (node.default === undefined || typeof node.default === "object") continue;
      expect(node.description, path).toMatch(/[Dd]efaults? (to|are)|defaults to/);
    }
  });

  it("bounds every string and list a CEL rule reads, so the API server's cost estimate stays in budget", () => {
    const unbounded: string[] = [];
    const check = (path: string, node: Node): void => {
      if (node.type === "string" && node.enum === undefined && node.maxLength === undefined && node.format === undefined) unbounded.push(path);
      if (node.type === "array" && node.maxItems === undefined) unbounded.push(path);
      if (node.type === "object" && node.additionalProperties && node.maxProperties === undefined) unbounded.push(path);
    };
    for (const [path, node] of nodes(at("spec"), "spec")) check(path, node);
    expect(unbounded).toEqual([]);
  });

  it("carries the seed defaults", () => {
    const policy = at("spec.policy");
    expect(policy.default).toEqual({
      warnAt: 90,
      freezeAt: 100,
      rollbackAt: 150,
      unfreezeBelow: 70,
      evaluationInterval: "30s",
      onNoData: "Hold",
      minEvents: 100,
      stableAfter: "10m",
      rollback: { enabled: true },
    });
    expect(at("spec.slos.[].window").default).toBe("30d");
    expect(at("spec.canary.stepWeight").default).toBe(10);
    expect(at("spec.canary.maxWeight").default).toBe(50);
    expect(at("spec.canary.service.gateways").default).toEqual(["mesh"]);
    expect(at("spec.trafficPolicy.circuitBreaker.consecutiveErrors").default).toBe(5);
    expect(at("spec.trafficPolicy.circuitBreaker.maxEjectionPercent").default).toBe(50);
    expect(at("spec.trafficPolicy.connectionPool.http2MaxRequests").default).toBe(1000);
    expect(at("spec.autoscaling.minReplicas").default).toBe(2);
    expect(at("spec.autoscaling.maxReplicas").default).toBe(10);
    expect(at("spec.autoscaling.cpuUtilization").default).toBe(70);
    expect(at("spec.autoscaling.behavior").default).toEqual({ scaleUpStabilization: "30s", scaleDownStabilization: "300s" });
  });

  it("states each rule in CEL where it belongs", () => {
    expect(rules("spec.policy")).toEqual(["self.unfreezeBelow < self.warnAt", "self.warnAt <= self.freezeAt", "self.freezeAt < self.rollbackAt"]);
    expect(rules("spec.slos.[].indicator")).toEqual(["[has(self.ratio), has(self.latency), has(self.istio)].filter(x, x).size() == 1"]);
    expect(rules("spec.slos.[].objective")).toEqual(["self > 0.0 && self < 100.0"]);
    expect(rules("spec.slos.[].indicator.istio")).toContain("self.kind != 'latency' || has(self.threshold)");
    expect(rules("spec.slos.[].indicator.ratio.errors")).toEqual(["self.contains('{{window}}')"]);
    expect(rules("spec.slos.[].indicator.ratio.total")).toEqual(["self.contains('{{window}}')"]);
    expect(rules("spec.canary")).toEqual(["self.stepWeight <= self.maxWeight", "self.maxWeight <= 100"]);
    expect(rules("spec.autoscaling")).toContain("self.minReplicas <= self.maxReplicas");
    expect(rules("spec")).toHaveLength(4);
    expect(rules("spec")[3]).toMatch(/^!has\(self\.prometheus\) \|\| !has\(self\.prometheus\.timeout\) \|\| \[.*self\.prometheus\.timeout.*\]\.all\(t, \[.*self\.policy\.evaluationInterval.*\]\.all\(e, t <= e\)\)$/);
  });

  it("gives every duration field a pattern and a CEL rule", () => {
    const durations = nodes(at("spec"), "spec").filter(([, n]) => typeof n.pattern === "string" && (n.pattern as string).includes("[0-9]+s)"));
    expect(durations.map(([p]) => p).sort()).toEqual(
      [
        "spec.autoscaling.behavior.scaleDownStabilization",
        "spec.autoscaling.behavior.scaleUpStabilization",
        "spec.autoscaling.sloBoost.coolDown",
        "spec.canary.interval",
        "spec.policy.evaluationInterval",
        "spec.policy.stableAfter",
        "spec.prometheus.timeout",
        "spec.slos.[].indicator.istio.threshold",
        "spec.slos.[].indicator.latency.threshold",
        "spec.slos.[].window",
        "spec.trafficPolicy.circuitBreaker.baseEjectionTime",
        "spec.trafficPolicy.circuitBreaker.interval",
        "spec.trafficPolicy.connectionPool.connectTimeout",
      ].sort(),
    );
    for (const [path, node] of durations) {
      expect(node.maxLength, path).toBe(32);
      expect(node["x-kubernetes-validations"], path).toHaveLength(1);
    }
  });

  it("bounds every duration from below and above, in CEL and in the message", () => {
    const durations = nodes(at("spec"), "spec").filter(([, n]) => typeof n.pattern === "string" && (n.pattern as string).includes("[0-9]+s)"));
    const bounds = Object.fromEntries(
      durations.map(([path, node]) => {
        const [v] = node["x-kubernetes-validations"] as Array<{ rule: string; message: string }>;
        expect(v?.rule, path).toMatch(/>= .+ && .+ <= /);
        return [path, / between (\S+) and (\S+)\.$/.exec(v?.message ?? "")?.slice(1)];
      }),
    );
    expect(bounds).toEqual({
      "spec.autoscaling.behavior.scaleDownStabilization": ["0s", "1h"],
      "spec.autoscaling.behavior.scaleUpStabilization": ["0s", "1h"],
      "spec.autoscaling.sloBoost.coolDown": ["1s", "24h"],
      "spec.canary.interval": ["10s", "24h"],
      "spec.policy.evaluationInterval": ["1s", "1h"],
      "spec.policy.stableAfter": ["1s", "7d"],
      "spec.prometheus.timeout": ["1s", "2m"],
      "spec.slos.[].indicator.istio.threshold": ["1ms", "1h"],
      "spec.slos.[].indicator.latency.threshold": ["1ms", "1h"],
      "spec.slos.[].window": ["1m", "90d"],
      "spec.trafficPolicy.circuitBreaker.baseEjectionTime": ["1s", "24h"],
      "spec.trafficPolicy.circuitBreaker.interval": ["1s", "1h"],
      "spec.trafficPolicy.connectionPool.connectTimeout": ["1ms", "1m"],
    });
  });

  it("bounds every number a tenant writes from above", () => {
    const unbounded = nodes(at("spec"), "spec")
      .filter(([, n]) => (n.type === "integer" || n.type === "number") && n.maximum === undefined)
      .map(([path]) => path);
    // These are bounded by CEL: 0 < objective < 100, stepWeight <= maxWeight <= 100, minReplicas <= maxReplicas <= 1000.
    expect(unbounded).toEqual(["spec.slos.[].objective", "spec.canary.stepWeight", "spec.canary.maxWeight", "spec.autoscaling.minReplicas"]);
    expect(rules("spec.slos.[].objective")).toEqual(["self > 0.0 && self < 100.0"]);
    expect(rules("spec.canary")).toEqual(expect.arrayContaining(["self.stepWeight <= self.maxWeight", "self.maxWeight <= 100"]));
    expect(rules("spec.autoscaling")).toContain("self.minReplicas <= self.maxReplicas");
    expect(at("spec.autoscaling.maxReplicas").maximum).toBe(1000);
    expect(at("spec.policy.minEvents").maximum).toBe(1_000_000);
    expect(at("spec.canary.minEvents").maximum).toBe(1_000_000);
    expect(at("spec.trafficPolicy.circuitBreaker.consecutiveErrors").maximum).toBe(1000);
    for (const f of ["maxConnections", "http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries"]) {
      expect(at(`spec.trafficPolicy.connectionPool.${f}`).maximum, f).toBe(2_147_483_647);
    }
  });

  it("keys lists by name so the API server refuses duplicates", () => {
    for (const path of ["spec.slos", "spec.policy.notifications", "status.slos", "status.conditions"]) {
      const node = at(path);
      expect(node["x-kubernetes-list-type"], path).toBe("map");
      const keys = node["x-kubernetes-list-map-keys"] as string[];
      expect((node.items as Node).required, path).toEqual(expect.arrayContaining(keys));
    }
  });

  it("has a status subresource and the printer columns an SRE scans", () => {
    expect(version.subresources).toEqual({ status: {} });
    expect(version.additionalPrinterColumns.map((c) => [c.name, c.type, c.jsonPath])).toEqual([
      ["Target", "string", ".spec.targetRef.name"],
      ["Phase", "string", ".status.phase"],
      ["Budget", "number", ".status.budget.consumedPercent"],
      ["Burn", "number", ".status.budget.worstBurnRate"],
      ["Canary", "string", ".status.canary.phase"],
      ["Weight", "integer", ".status.canary.weight"],
      ["Ready", "string", '.status.conditions[?(@.type=="Ready")].status'],
      ["Age", "date", ".metadata.creationTimestamp"],
    ]);
    expect(version.additionalPrinterColumns).toBe(printerColumns);
    // Each column's path exists in the schema with the column's type.
    expect(at("status.budget.consumedPercent").type).toBe("number");
    expect(at("status.budget.worstBurnRate").type).toBe("number");
    expect(at("status.canary.phase").type).toBe("string");
    expect(at("status.canary.weight").type).toBe("integer");
  });

  it("requires spec, and in it targetRef and slos", () => {
    expect(root.required).toEqual(["spec"]);
    expect(at("spec").required).toEqual(["targetRef", "slos"]);
    expect(at("spec.slos").minItems).toBe(1);
    expect(at("spec.slos").maxItems).toBe(10);
  });
});
