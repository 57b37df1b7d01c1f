import { readdirSync, readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCrd } from "../src/api/crd.ts";
import { validateSpec } from "../src/api/validate.ts";
import { ROOT } from "./support/env.ts";
import { applyYaml, createNamespace, deleteNamespace, installCrds, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { waitFor } from "./support/wait.ts";

type Obj = Record<string, unknown>;

interface Profile {
  metadata: { name: string };
  spec: Obj;
}

const EXAMPLES = `${ROOT}/examples`;
const exampleFiles = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml")).sort();

function exampleProfile(file: string): Profile {
  const docs = parseAllDocuments(readFileSync(`${EXAMPLES}/${file}`, "utf8")).map((d) => d.toJS() as Obj);
  const profile = docs.find((d) => d.kind === "PerformanceProfile");
  if (!profile) throw new Error(`${file} holds no PerformanceProfile`);
  return profile as unknown as Profile;
}

/** A valid profile with every section present, so every section's rules run on the API server. */
function base(): Obj & { spec: Obj & { slos: Obj[]; policy: Obj; canary: Obj; autoscaling: Obj; prometheus: Obj; trafficPolicy: Obj } } {
  return {
    apiVersion: "tollgate.dev/v1alpha1",
    kind: "PerformanceProfile",
    metadata: { name: "broken" },
    spec: {
      targetRef: { name: "game-service" },
      prometheus: { address: "http://prometheus.monitoring:9090", timeout: "10s" },
      slos: [
        { name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } },
        { name: "latency", objective: 95, indicator: { istio: { kind: "latency", threshold: "500ms" } } },
      ],
      policy: { notifications: [{ name: "team-slack", type: "slack", events: ["Warning"], secretRef: { name: "alerting", key: "slack" } }] },
      canary: { service: { name: "game-service", port: 8080 }, slos: ["availability"] },
      trafficPolicy: { circuitBreaker: {}, connectionPool: {} },
      autoscaling: { sloBoost: {} },
    },
  };
}
type Base = ReturnType<typeof base>;
const slo = (p: Base, i = 0): Obj => p.spec.slos[i] as Obj;

interface Broken {
  name: string;
  mutate: (p: Base) => void;
  /** What kubectl must print: the CEL message, or the API server's own words for schema errors. */
  stderr: string;
}

const durationMessage = (field: string, min: string, max: string) =>
  `${field} must be a duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first) between ${min} and ${max}.`;

const brokenProfiles: Broken[] = [
  // The policy's threshold order.
  {
    name: "unfreezeBelow not below warnAt",
    mutate: (p) => Object.assign(p.spec.policy, { unfreezeBelow: 95 }),
    stderr: "spec.policy.unfreezeBelow: Invalid value: \"object\": policy.unfreezeBelow must be lower than policy.warnAt, so a lifted freeze starts below the warning level.",
  },
  {
    name: "warnAt above freezeAt",
    mutate: (p) => Object.assign(p.spec.policy, { warnAt: 120 }),
    stderr: "policy.warnAt must not exceed policy.freezeAt: the warning comes before the freeze.",
  },
  {
    name: "freezeAt not below rollbackAt",
    mutate: (p) => Object.assign(p.spec.policy, { freezeAt: 160 }),
    stderr: "policy.freezeAt must be lower than policy.rollbackAt: a rollback only follows a freeze.",
  },
  // Indicators.
  {
    name: "two indicators",
    mutate: (p) => Object.assign(slo(p).indicator as Obj, { ratio: { errors: "a[{{window}}]", total: "b[{{window}}]" } }),
    stderr: "spec.slos[0].indicator: Invalid value: \"object\": indicator must set exactly one of ratio, latency or istio.",
  },
  {
    name: "no indicator",
    mutate: (p) => (slo(p).indicator = {}),
    stderr: "indicator must set exactly one of ratio, latency or istio.",
  },
  {
    name: "unknown indicator",
    mutate: (p) => (slo(p).indicator = { histogram: { metric: "x" } }),
    stderr: 'unknown field "spec.slos[0].indicator.histogram"',
  },
  {
    name: "istio latency without a threshold",
    mutate: (p) => (slo(p, 1).indicator = { istio: { kind: "latency" } }),
    stderr: "spec.slos[1].indicator.istio.threshold: Required value: istio.threshold is required when istio.kind is latency.",
  },
  {
    name: "istio availability with a threshold",
    mutate: (p) => (slo(p).indicator = { istio: { kind: "availability", threshold: "1s" } }),
    stderr: "spec.slos[0].indicator.istio.threshold: Forbidden: istio.threshold applies only to istio.kind latency; remove it for availability.",
  },
  {
    name: "ratio errors without {{window}}",
    mutate: (p) => (slo(p).indicator = { ratio: { errors: "sum(rate(e[5m]))", total: "sum(rate(t[{{window}}]))" } }),
    stderr: "ratio.errors must contain the {{window}} placeholder",
  },
  {
    name: "ratio total without {{window}}",
    mutate: (p) => (slo(p).indicator = { ratio: { errors: "sum(rate(e[{{window}}]))", total: "sum(rate(t[1h]))" } }),
    stderr: "ratio.total must contain the {{window}} placeholder",
  },
  {
    name: "latency metric with _bucket",
    mutate: (p) => (slo(p).indicator = { latency: { metric: "rq_seconds_bucket", selector: '{job="x"}', threshold: "500ms" } }),
    stderr: "latency.metric must be the histogram's base name, without the _bucket, _count or _sum suffix.",
  },
  {
    name: "latency selector without braces",
    mutate: (p) => (slo(p).indicator = { latency: { metric: "rq_seconds", selector: 'job="x"', threshold: "500ms" } }),
    stderr: "latency.selector must be PromQL label matchers in braces",
  },
  {
    name: "latency metric without a unit",
    mutate: (p) => (slo(p).indicator = { latency: { metric: "rq_duration", selector: '{job="x"}', threshold: "500ms" } }),
    stderr: "latency.unit is required when latency.metric does not end in _seconds or _milliseconds.",
  },
  // Objectives and types.
  {
    name: "objective 100",
    mutate: (p) => (slo(p).objective = 100),
    stderr: "spec.slos[0].objective: Invalid value: \"number\": slos[].objective must be a percentage strictly between 0 and 100, such as 99.5 (100 would leave no error budget).",
  },
  {
    name: "objective 0",
    mutate: (p) => (slo(p).objective = 0),
    stderr: "slos[].objective must be a percentage strictly between 0 and 100",
  },
  {
    name: "objective as a string",
    mutate: (p) => (slo(p).objective = "99.5%"),
    stderr: 'spec.slos[0].objective: Invalid value: "string": spec.slos[0].objective in body must be of type number',
  },
  {
    name: "stepWeight as a string",
    mutate: (p) => Object.assign(p.spec.canary, { stepWeight: "10%" }),
    stderr: "spec.canary.stepWeight in body must be of type integer",
  },
  {
    name: "no SLOs",
    mutate: (p) => (p.spec.slos = []),
    stderr: "spec.slos: Invalid value: 0: spec.slos in body should have at least 1 items",
  },
  {
    name: "duplicate SLO names",
    mutate: (p) => (slo(p, 1).name = "availability"),
    stderr: "spec.slos[1]: Duplicate value",
  },
  {
    name: "a StatefulSet target",
    mutate: (p) => Object.assign(p.spec.targetRef as Obj, { kind: "StatefulSet" }),
    stderr: 'spec.targetRef.kind: Unsupported value: "StatefulSet"',
  },
  // Durations.
  { name: "SLO window in words", mutate: (p) => (slo(p).window = "30 days"), stderr: durationMessage("slos[].window", "1m", "90d") },
  { name: "zero SLO window", mutate: (p) => (slo(p).window = "0d"), stderr: durationMessage("slos[].window", "1m", "90d") },
  { name: "fractional evaluationInterval", mutate: (p) => Object.assign(p.spec.policy, { evaluationInterval: "1.5m" }), stderr: durationMessage("policy.evaluationInterval", "1s", "1h") },
  { name: "stableAfter without unit", mutate: (p) => Object.assign(p.spec.policy, { stableAfter: "600" }), stderr: durationMessage("policy.stableAfter", "1s", "7d") },
  { name: "units out of order", mutate: (p) => (slo(p, 1).indicator = { istio: { kind: "latency", threshold: "1s1m" } }), stderr: durationMessage("istio.threshold", "1ms", "1h") },
  {
    name: "latency threshold in seconds with a decimal",
    mutate: (p) => (slo(p).indicator = { latency: { metric: "rq_seconds", selector: "{}", threshold: "0.5s" } }),
    stderr: durationMessage("latency.threshold", "1ms", "1h"),
  },
  { name: "prometheus timeout without unit", mutate: (p) => Object.assign(p.spec.prometheus, { timeout: "10" }), stderr: durationMessage("prometheus.timeout", "1s", "2m") },
  // Bounds: the values the issue found accepted, and each bounded duration past either end.
  { name: "evaluationInterval of 1ms", mutate: (p) => Object.assign(p.spec.policy, { evaluationInterval: "1ms" }), stderr: durationMessage("policy.evaluationInterval", "1s", "1h") },
  { name: "evaluationInterval of 25d", mutate: (p) => Object.assign(p.spec.policy, { evaluationInterval: "25d" }), stderr: durationMessage("policy.evaluationInterval", "1s", "1h") },
  { name: "evaluationInterval of 100y", mutate: (p) => Object.assign(p.spec.policy, { evaluationInterval: "100y" }), stderr: durationMessage("policy.evaluationInterval", "1s", "1h") },
  { name: "prometheus timeout of 24h", mutate: (p) => Object.assign(p.spec.prometheus, { timeout: "24h" }), stderr: durationMessage("prometheus.timeout", "1s", "2m") },
  {
    name: "prometheus timeout longer than evaluationInterval",
    mutate: (p) => {
      Object.assign(p.spec.prometheus, { timeout: "1m" });
      Object.assign(p.spec.policy, { evaluationInterval: "30s" });
    },
    stderr:
      'spec.prometheus.timeout: Invalid value: "object": prometheus.timeout must not exceed policy.evaluationInterval: a query that outlasts the interval holds up every evaluation after it.',
  },
  { name: "SLO window under a minute", mutate: (p) => (slo(p).window = "59s"), stderr: durationMessage("slos[].window", "1m", "90d") },
  { name: "SLO window of 13 weeks", mutate: (p) => (slo(p).window = "13w"), stderr: durationMessage("slos[].window", "1m", "90d") },
  { name: "stableAfter over a week", mutate: (p) => Object.assign(p.spec.policy, { stableAfter: "8d" }), stderr: durationMessage("policy.stableAfter", "1s", "7d") },
  {
    name: "latency threshold of 2h",
    mutate: (p) => (slo(p, 1).indicator = { latency: { metric: "rq_seconds", selector: "{}", threshold: "2h" } }),
    stderr: durationMessage("latency.threshold", "1ms", "1h"),
  },
  { name: "istio threshold of 0ms", mutate: (p) => (slo(p, 1).indicator = { istio: { kind: "latency", threshold: "0ms" } }), stderr: durationMessage("istio.threshold", "1ms", "1h") },
  {
    name: "circuit breaker interval under a second",
    mutate: (p) => (p.spec.trafficPolicy.circuitBreaker = { interval: "500ms" }),
    stderr: durationMessage("trafficPolicy.circuitBreaker.interval", "1s", "1h"),
  },
  {
    name: "baseEjectionTime over a day",
    mutate: (p) => (p.spec.trafficPolicy.circuitBreaker = { baseEjectionTime: "1d1s" }),
    stderr: durationMessage("trafficPolicy.circuitBreaker.baseEjectionTime", "1s", "24h"),
  },
  {
    name: "connectTimeout of 2m",
    mutate: (p) => (p.spec.trafficPolicy.connectionPool = { connectTimeout: "2m" }),
    stderr: durationMessage("trafficPolicy.connectionPool.connectTimeout", "1ms", "1m"),
  },
  { name: "coolDown of a week", mutate: (p) => (p.spec.autoscaling.sloBoost = { coolDown: "7d" }), stderr: durationMessage("autoscaling.sloBoost.coolDown", "1s", "24h") },
  {
    name: "canary host with a trailing dot",
    mutate: (p) => Object.assign(p.spec.canary.service as Obj, { hosts: ["game.example.com."] }),
    stderr: "canary.service.hosts[] must be a lower-case DNS name",
  },
  {
    name: "canary gateway name with a dot",
    mutate: (p) => Object.assign(p.spec.canary.service as Obj, { gateways: ["public.istio-system"] }),
    stderr: "canary.service.gateways[] must be mesh, the name of a gateway in the profile's namespace, or namespace/name",
  },
  {
    name: "canary interval with a space",
    mutate: (p) => Object.assign(p.spec.canary, { interval: "1 m" }),
    stderr: "canary.interval must be a duration in h, m and s (such as 30s, 5m or 1h) between 10s and 24h.",
  },
  {
    name: "zero circuit breaker interval",
    mutate: (p) => (p.spec.trafficPolicy.circuitBreaker = { interval: "0s" }),
    stderr: durationMessage("trafficPolicy.circuitBreaker.interval", "1s", "1h"),
  },
  {
    name: "baseEjectionTime without unit",
    mutate: (p) => (p.spec.trafficPolicy.circuitBreaker = { baseEjectionTime: "30" }),
    stderr: durationMessage("trafficPolicy.circuitBreaker.baseEjectionTime", "1s", "24h"),
  },
  {
    name: "connectTimeout spelled out",
    mutate: (p) => (p.spec.trafficPolicy.connectionPool = { connectTimeout: "10sec" }),
    stderr: durationMessage("trafficPolicy.connectionPool.connectTimeout", "1ms", "1m"),
  },
  { name: "negative coolDown", mutate: (p) => (p.spec.autoscaling.sloBoost = { coolDown: "-10m" }), stderr: durationMessage("autoscaling.sloBoost.coolDown", "1s", "24h") },
  {
    name: "scale-down stabilization over an hour",
    mutate: (p) => (p.spec.autoscaling.behavior = { scaleDownStabilization: "2h" }),
    stderr: "autoscaling.behavior.scaleDownStabilization must be a duration in h, m and s (such as 30s, 5m or 1h) between 0s and 1h.",
  },
  {
    name: "scale-up stabilization in days",
    mutate: (p) => (p.spec.autoscaling.behavior = { scaleUpStabilization: "1d" }),
    stderr: "autoscaling.behavior.scaleUpStabilization must be a duration in h, m and s (such as 30s, 5m or 1h) between 0s and 1h.",
  },
  // Counts and sizes.
  {
    name: "minEvents over a million",
    mutate: (p) => Object.assign(p.spec.policy, { minEvents: 1_000_001 }),
    stderr: "spec.policy.minEvents: Invalid value: 1000001: spec.policy.minEvents in body should be less than or equal to 1000000",
  },
  {
    name: "canary minEvents 0",
    mutate: (p) => Object.assign(p.spec.canary, { minEvents: 0 }),
    stderr: "spec.canary.minEvents: Invalid value: 0: spec.canary.minEvents in body should be greater than or equal to 1",
  },
  {
    name: "consecutiveErrors over 1000",
    mutate: (p) => (p.spec.trafficPolicy.circuitBreaker = { consecutiveErrors: 1001 }),
    stderr: "spec.trafficPolicy.circuitBreaker.consecutiveErrors in body should be less than or equal to 1000",
  },
  {
    name: "maxConnections past Istio's int32",
    mutate: (p) => (p.spec.trafficPolicy.connectionPool = { maxConnections: 2 ** 31 }),
    stderr: "spec.trafficPolicy.connectionPool.maxConnections in body should be less than or equal to 2147483647",
  },
  {
    name: "eleven SLOs",
    mutate: (p) => (p.spec.slos = Array.from({ length: 11 }, (_, i) => ({ ...slo(p), name: `slo-${i}` }))),
    stderr: "spec.slos: Too many: 11: must have at most 10 items",
  },
  {
    name: "eleven notifications",
    mutate: (p) => (p.spec.policy.notifications = Array.from({ length: 11 }, (_, i) => ({ name: `hook-${i}`, type: "webhook", events: ["Frozen"], url: "https://h.example" }))),
    stderr: "spec.policy.notifications: Too many: 11: must have at most 10 items",
  },
  {
    name: "seventeen Prometheus headers",
    mutate: (p) => Object.assign(p.spec.prometheus, { headers: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`X-Header-${i}`, "a"])) }),
    stderr: "spec.prometheus.headers: Too many: 17: must have at most 16 items",
  },
  {
    name: "PromQL longer than 4096 characters",
    mutate: (p) => (slo(p, 1).indicator = { ratio: { errors: `sum(rate(e[{{window}}]))${" ".repeat(4096)}`, total: "sum(rate(t[{{window}}]))" } }),
    stderr: "spec.slos[1].indicator.ratio.errors: Too long: may not be more than 4096 bytes",
  },
  // Canary and autoscaling.
  {
    name: "stepWeight above maxWeight",
    mutate: (p) => Object.assign(p.spec.canary, { stepWeight: 60, maxWeight: 50 }),
    stderr: "spec.canary.stepWeight: Invalid value: \"object\": canary.stepWeight must not exceed canary.maxWeight.",
  },
  { name: "canary interval below 10s", mutate: (p) => Object.assign(p.spec.canary, { interval: "5s" }), stderr: "canary.interval must be a duration in h, m and s (such as 30s, 5m or 1h) between 10s and 24h." },
  { name: "maxWeight above 100", mutate: (p) => Object.assign(p.spec.canary, { maxWeight: 120 }), stderr: "canary.maxWeight must be at most 100 (percent of traffic)." },
  { name: "canary gated by an unknown SLO", mutate: (p) => Object.assign(p.spec.canary, { slos: ["throughput"] }), stderr: "canary.slos must name SLOs defined in slos." },
  {
    name: "canary gated by a latency SLO",
    mutate: (p) => {
      slo(p, 1).indicator = { latency: { metric: "http_request_duration_seconds", selector: '{job="game"}', threshold: "500ms" } };
      p.spec.canary.slos = ["latency"];
    },
    stderr: "canary.slos must name SLOs with an istio indicator: the canary is judged on Istio's metrics of its own pods.",
  },
  {
    name: "canary without any Istio SLO",
    mutate: (p) => {
      const ratio = { ratio: { errors: "sum(rate(errors_total[{{window}}]))", total: "sum(rate(requests_total[{{window}}]))" } };
      slo(p, 0).indicator = ratio;
      slo(p, 1).indicator = ratio;
      delete p.spec.canary.slos;
    },
    stderr: "canary needs at least one SLO with an istio indicator: the canary is judged on Istio's metrics of its own pods.",
  },
  {
    name: "minReplicas above maxReplicas",
    mutate: (p) => Object.assign(p.spec.autoscaling, { minReplicas: 8, maxReplicas: 4 }),
    stderr: "spec.autoscaling.minReplicas: Invalid value: \"object\": autoscaling.minReplicas must not exceed autoscaling.maxReplicas.",
  },
  {
    name: "sloBoost above the CPU target",
    mutate: (p) => Object.assign(p.spec.autoscaling, { cpuUtilization: 60, sloBoost: { minCpuUtilization: 65 } }),
    stderr: "autoscaling.sloBoost.minCpuUtilization must not exceed autoscaling.cpuUtilization: the boost only lowers the CPU target.",
  },
  // Prometheus and notifications.
  { name: "prometheus address without scheme", mutate: (p) => Object.assign(p.spec.prometheus, { address: "prometheus:9090" }), stderr: "prometheus.address must be an http or https URL" },
  { name: "header name with a space", mutate: (p) => Object.assign(p.spec.prometheus, { headers: { "X Org": "a" } }), stderr: "prometheus.headers names must be HTTP header names" },
  {
    name: "header value that starts another header",
    mutate: (p) => Object.assign(p.spec.prometheus, { headers: { "X-Team": "a\r\nX-Scope-OrgID: tenant-b" } }),
    stderr: "prometheus.headers values must be one line: no carriage return or line feed.",
  },
  {
    name: "connection and address together",
    mutate: (p) => Object.assign(p.spec.prometheus, { connection: "mimir", address: "http://prometheus.monitoring:9090" }),
    stderr: "prometheus.connection and prometheus.address are exclusive: a connection carries its own address.",
  },
  {
    name: "slack without secretRef",
    mutate: (p) => (p.spec.policy.notifications = [{ name: "team-slack", type: "slack", events: ["Warning"] }]),
    stderr:
      "spec.policy.notifications[0].secretRef: Required value: notifications[].secretRef is required for slack and pagerduty: it holds the Slack webhook URL or the PagerDuty routing key.",
  },
  {
    name: "pagerduty with a url",
    mutate: (p) =>
      (p.spec.policy.notifications = [{ name: "pager", type: "pagerduty", events: ["Frozen"], secretRef: { name: "a", key: "b" }, url: "https://x.example" }]),
    stderr: "notifications[].url applies only to type webhook",
  },
  {
    name: "webhook with url and secretRef",
    mutate: (p) =>
      (p.spec.policy.notifications = [{ name: "hook", type: "webhook", events: ["Frozen"], secretRef: { name: "a", key: "b" }, url: "https://x.example" }]),
    stderr: "notifications[] of type webhook must set exactly one of url or secretRef.",
  },
  {
    name: "webhook url not http",
    mutate: (p) => (p.spec.policy.notifications = [{ name: "hook", type: "webhook", events: ["Frozen"], url: "ftp://x.example" }]),
    stderr: "notifications[].url must be an http or https URL",
  },
  {
    name: "severity on slack",
    mutate: (p) =>
      (p.spec.policy.notifications = [{ name: "s", type: "slack", events: ["Warning"], secretRef: { name: "a", key: "b" }, severity: "critical" }]),
    stderr: "notifications[].severity applies only to type pagerduty.",
  },
];

describe("the PerformanceProfile API on the API server", () => {
  const namespaces: string[] = [];
  const fresh = async (prefix: string) => {
    const ns = await createNamespace(prefix);
    namespaces.push(ns);
    return ns;
  };

  beforeAll(async () => {
    await installCrds();
  });
  afterAll(async () => {
    await Promise.all(namespaces.map(deleteNamespace));
  });

  describe("examples/", () => {
    it.each(exampleFiles)("kubectl apply -f %s succeeds, and the server's defaults agree with validateSpec's", async (file) => {
      const ns = await fresh("e2e-api-example");
      const out = await kubectlOk(["apply", "-n", ns, "-f", `${EXAMPLES}/${file}`]);
      const { metadata, spec } = exampleProfile(file);
      expect(out).toContain(`performanceprofile.tollgate.dev/${metadata.name} created`);
      const stored = await kubectlJson<Profile>(["-n", ns, "get", "pp", metadata.name]);
      const parsed = validateSpec(spec);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(stored.spec).toEqual(JSON.parse(JSON.stringify(parsed.spec)));
    });
  });

  describe("broken profiles", () => {
    let ns: string;
    beforeAll(async () => {
      ns = await fresh("e2e-api-broken");
    });

    it("starts from a profile the API server accepts", async () => {
      const p = base();
      p.metadata = { name: "valid" };
      await applyYaml(JSON.stringify(p), ns);
    });

    it.each(brokenProfiles)("refuses $name", async ({ mutate, stderr }) => {
      const p = base();
      mutate(p);
      const res = await kubectl(["apply", "-n", ns, "-f", "-"], { input: JSON.stringify(p) });
      expect(res.code, res.stdout).not.toBe(0);
      expect(res.stderr).toContain(stderr);
      // The operator refuses the same spec, so a profile stored before a schema change is reported, not run.
      expect(validateSpec(p.spec).ok).toBe(false);
    });

    it("covers every CEL rule of the CRD", () => {
      const messages: string[] = [];
      const walk = (node: unknown): void => {
        if (!node || typeof node !== "object") return;
        const rules = (node as Obj)["x-kubernetes-validations"];
        if (Array.isArray(rules)) messages.push(...(rules as Array<{ message: string }>).map((r) => r.message));
        Object.values(node).forEach(walk);
      };
      walk(buildCrd());
      const uncovered = messages.filter((m) => !brokenProfiles.some((b) => m.includes(b.stderr) || b.stderr.includes(m)));
      expect(uncovered).toEqual([]);
    });
  });

  describe("kubectl", () => {
    it("explains spec.policy with the schema's descriptions", async () => {
      const out = await waitFor("kubectl explain to know the CRD", async () => {
        const res = await kubectl(["explain", "pp.spec.policy"]);
        return res.code === 0 && res.stdout.includes("unfreezeBelow") ? res.stdout : undefined;
      });
      const text = out.replace(/\s+/g, " ");
      expect(text).toContain("KIND: PerformanceProfile");
      expect(text).toContain("unfreezeBelow < warnAt <= freezeAt < rollbackAt");
      for (const field of ["warnAt", "freezeAt", "rollbackAt", "unfreezeBelow", "evaluationInterval", "onNoData", "minEvents", "stableAfter", "rollback", "notifications"]) {
        expect(text).toContain(field);
      }
      expect(text).toContain("Percent of the error budget consumed at which rollouts of the target are frozen");
      expect(text).toContain("Defaults to 30s.");
      expect(text).toContain("enum: Hold, Freeze");
    });

    it("shows the printer columns, filled from status", async () => {
      const ns = await fresh("e2e-api-columns");
      await kubectlOk(["apply", "-n", ns, "-f", `${EXAMPLES}/game-service.yaml`]);
      const empty = await kubectlOk(["-n", ns, "get", "pp"]);
      expect(empty.split("\n")[0]?.split(/\s+/).filter(Boolean)).toEqual(["NAME", "TARGET", "PHASE", "BUDGET", "BURN", "CANARY", "WEIGHT", "READY", "AGE"]);

      const status = {
        status: {
          observedGeneration: 1,
          phase: "Warning",
          budget: { consumedPercent: 93.4, remainingPercent: 6.6, worstSlo: "availability", worstBurnRate: 1.25 },
          canary: { phase: "Progressing", weight: 20, step: 2, failedChecks: 0 },
          conditions: [{ type: "Ready", status: "True", reason: "Reconciled", message: "ok", lastTransitionTime: "2025-01-01T00:00:00Z" }],
        },
      };
      await kubectlOk(["-n", ns, "patch", "pp", "game-service", "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
      const row = (await kubectlOk(["-n", ns, "get", "pp", "game-service", "--no-headers"])).trim().split(/\s+/);
      expect(row.slice(0, 8)).toEqual(["game-service", "game-service", "Warning", "93.4", "1.25", "Progressing", "20", "True"]);
    });

    it("refuses a status outside its schema", async () => {
      const ns = await fresh("e2e-api-status");
      await kubectlOk(["apply", "-n", ns, "-f", `${EXAMPLES}/game-service.yaml`]);
      const res = await kubectl(["-n", ns, "patch", "pp", "game-service", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Burning","budget":{"consumedPercent":null}}}']);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain('status.phase: Unsupported value: "Burning"');
    });
  });
});
