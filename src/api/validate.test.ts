import { describe, expect, it } from "vitest";
import { buildCrd } from "./crd.ts";
import type { ProfileSpecInput } from "./profile.ts";
import { fieldPath, validateSpec } from "./validate.ts";

/** A spec with every section present, so each section's rules get to run. */
function fullSpec(): ProfileSpecInput {
  return {
    targetRef: { name: "game-service" },
    prometheus: { address: "http://prometheus.monitoring:9090", headers: { "X-Scope-OrgID": "thinkrank" }, timeout: "10s" },
    slos: [
      { name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } },
      { name: "latency", objective: 95, indicator: { istio: { kind: "latency", threshold: "500ms" } } },
    ],
    policy: {
      notifications: [{ name: "team-slack", type: "slack", events: ["Warning"], secretRef: { name: "alerting", key: "slack" } }],
    },
    canary: { service: { name: "game-service", port: 8080 }, slos: ["availability"] },
    trafficPolicy: { circuitBreaker: {}, connectionPool: { connectTimeout: "10s" } },
    autoscaling: { memoryUtilization: 80, sloBoost: {} },
  };
}

type Spec = ReturnType<typeof fullSpec> & Record<string, unknown>;
// Tests break specs on purpose; the loose view lets a case write what the types forbid.
type Loose = Record<string, unknown>;

const slo = (s: Spec, i = 0): Loose => (s.slos as Loose[])[i] as Loose;

interface Case {
  name: string;
  mutate: (s: Spec) => void;
  field: string;
  message: string;
}

/** Every rule the CRD states in CEL, broken once; messages are the CEL messages, word for word. */
const celCases: Case[] = [
  {
    name: "unfreezeBelow not below warnAt",
    mutate: (s) => Object.assign(s.policy as Loose, { unfreezeBelow: 90 }),
    field: "spec.policy.unfreezeBelow",
    message: "policy.unfreezeBelow must be lower than policy.warnAt, so a lifted freeze starts below the warning level.",
  },
  {
    name: "warnAt above freezeAt",
    mutate: (s) => Object.assign(s.policy as Loose, { warnAt: 110 }),
    field: "spec.policy.warnAt",
    message: "policy.warnAt must not exceed policy.freezeAt: the warning comes before the freeze.",
  },
  {
    name: "freezeAt not below rollbackAt",
    mutate: (s) => Object.assign(s.policy as Loose, { freezeAt: 150 }),
    field: "spec.policy.freezeAt",
    message: "policy.freezeAt must be lower than policy.rollbackAt: a rollback only follows a freeze.",
  },
  {
    name: "two indicators",
    mutate: (s) => Object.assign(slo(s).indicator as Loose, { latency: { metric: "m_seconds", selector: "{}", threshold: "1s" } }),
    field: "spec.slos[0].indicator",
    message: "indicator must set exactly one of ratio, latency or istio.",
  },
  {
    name: "no indicator",
    mutate: (s) => (slo(s).indicator = {}),
    field: "spec.slos[0].indicator",
    message: "indicator must set exactly one of ratio, latency or istio.",
  },
  {
    name: "objective 100",
    mutate: (s) => (slo(s).objective = 100),
    field: "spec.slos[0].objective",
    message: "slos[].objective must be a percentage strictly between 0 and 100, such as 99.5 (100 would leave no error budget).",
  },
  {
    name: "objective 0",
    mutate: (s) => (slo(s).objective = 0),
    field: "spec.slos[0].objective",
    message: "slos[].objective must be a percentage strictly between 0 and 100, such as 99.5 (100 would leave no error budget).",
  },
  {
    name: "istio latency without threshold",
    mutate: (s) => (slo(s, 1).indicator = { istio: { kind: "latency" } }),
    field: "spec.slos[1].indicator.istio.threshold",
    message: "istio.threshold is required when istio.kind is latency.",
  },
  {
    name: "istio availability with a threshold",
    mutate: (s) => (slo(s).indicator = { istio: { kind: "availability", threshold: "1s" } }),
    field: "spec.slos[0].indicator.istio.threshold",
    message: "istio.threshold applies only to istio.kind latency; remove it for availability.",
  },
  {
    name: "ratio errors without {{window}}",
    mutate: (s) => (slo(s).indicator = { ratio: { errors: "sum(rate(errors_total[5m]))", total: "sum(rate(requests_total[{{window}}]))" } }),
    field: "spec.slos[0].indicator.ratio.errors",
    message: 'ratio.errors must contain the {{window}} placeholder in its range selectors, e.g. sum(rate(http_requests_total{code=~"5.."}[{{window}}])).',
  },
  {
    name: "ratio total without {{window}}",
    mutate: (s) => (slo(s).indicator = { ratio: { errors: "sum(rate(errors_total[{{window}}]))", total: "sum(rate(requests_total[1h]))" } }),
    field: "spec.slos[0].indicator.ratio.total",
    message: 'ratio.total must contain the {{window}} placeholder in its range selectors, e.g. sum(rate(http_requests_total{code=~"5.."}[{{window}}])).',
  },
  {
    name: "latency metric with _bucket",
    mutate: (s) =>
      (slo(s).indicator = { latency: { metric: "http_request_duration_seconds_bucket", selector: '{job="x"}', threshold: "500ms" } }),
    field: "spec.slos[0].indicator.latency.metric",
    message: "latency.metric must be the histogram's base name, without the _bucket, _count or _sum suffix.",
  },
  {
    name: "latency selector without braces",
    mutate: (s) => (slo(s).indicator = { latency: { metric: "http_request_duration_seconds", selector: 'job="x"', threshold: "500ms" } }),
    field: "spec.slos[0].indicator.latency.selector",
    message: 'latency.selector must be PromQL label matchers in braces, such as {destination_workload="game-service"}.',
  },
  {
    name: "latency metric without a unit",
    mutate: (s) => (slo(s).indicator = { latency: { metric: "http_request_duration", selector: '{job="x"}', threshold: "500ms" } }),
    field: "spec.slos[0].indicator.latency.unit",
    message: "latency.unit is required when latency.metric does not end in _seconds or _milliseconds.",
  },
  {
    name: "bad SLO window",
    mutate: (s) => (slo(s).window = "30 days"),
    field: "spec.slos[0].window",
    message: "slos[].window must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).",
  },
  {
    name: "zero SLO window",
    mutate: (s) => (slo(s).window = "0d"),
    field: "spec.slos[0].window",
    message: "slos[].window must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).",
  },
  {
    name: "bad evaluationInterval",
    mutate: (s) => Object.assign(s.policy as Loose, { evaluationInterval: "1.5m" }),
    field: "spec.policy.evaluationInterval",
    message: "policy.evaluationInterval must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).",
  },
  {
    name: "bad stableAfter",
    mutate: (s) => Object.assign(s.policy as Loose, { stableAfter: "ten minutes" }),
    field: "spec.policy.stableAfter",
    message: "policy.stableAfter must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).",
  },
  {
    name: "bad latency threshold",
    mutate: (s) => (slo(s).indicator = { latency: { metric: "m", selector: "{}", threshold: "0.5s" } }),
    field: "spec.slos[0].indicator.latency.threshold",
    message: "latency.threshold must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).",
  },
  {
    name: "bad istio threshold",
    mutate: (s) => (slo(s, 1).indicator = { istio: { kind: "latency", threshold: "500" } }),
    field: "spec.slos[1].indicator.istio.threshold",
    message: "istio.threshold must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).",
  },
  {
    name: "bad prometheus timeout",
    mutate: (s) => ((s.prometheus as Loose).timeout = "10"),
    field: "spec.prometheus.timeout",
    message: "prometheus.timeout must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).",
  },
  {
    name: "bad canary interval",
    mutate: (s) => ((s.canary as Loose).interval = "1 m"),
    field: "spec.canary.interval",
    message: "canary.interval must be a duration in h, m and s (such as 30s, 5m or 1h) between 10s and 24h.",
  },
  {
    name: "bad circuit breaker interval",
    mutate: (s) => ((s.trafficPolicy as Loose).circuitBreaker = { interval: "0s" }),
    field: "spec.trafficPolicy.circuitBreaker.interval",
    message: "trafficPolicy.circuitBreaker.interval must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).",
  },
  {
    name: "bad circuit breaker baseEjectionTime",
    mutate: (s) => ((s.trafficPolicy as Loose).circuitBreaker = { baseEjectionTime: "30" }),
    field: "spec.trafficPolicy.circuitBreaker.baseEjectionTime",
    message: "trafficPolicy.circuitBreaker.baseEjectionTime must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).",
  },
  {
    name: "bad connectTimeout",
    mutate: (s) => ((s.trafficPolicy as Loose).connectionPool = { connectTimeout: "10sec" }),
    field: "spec.trafficPolicy.connectionPool.connectTimeout",
    message: "trafficPolicy.connectionPool.connectTimeout must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).",
  },
  {
    name: "bad sloBoost coolDown",
    mutate: (s) => ((s.autoscaling as Loose).sloBoost = { coolDown: "-10m" }),
    field: "spec.autoscaling.sloBoost.coolDown",
    message: "autoscaling.sloBoost.coolDown must be a positive duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first).",
  },
  {
    name: "scale-down stabilization over 1h",
    mutate: (s) => ((s.autoscaling as Loose).behavior = { scaleDownStabilization: "2h" }),
    field: "spec.autoscaling.behavior.scaleDownStabilization",
    message: "autoscaling.behavior.scaleDownStabilization must be a duration in h, m and s (such as 30s, 5m or 1h) between 0s and 1h.",
  },
  {
    name: "scale-up stabilization in days",
    mutate: (s) => ((s.autoscaling as Loose).behavior = { scaleUpStabilization: "1d" }),
    field: "spec.autoscaling.behavior.scaleUpStabilization",
    message: "autoscaling.behavior.scaleUpStabilization must be a duration in h, m and s (such as 30s, 5m or 1h) between 0s and 1h.",
  },
  {
    name: "stepWeight above maxWeight",
    mutate: (s) => Object.assign(s.canary as Loose, { stepWeight: 60, maxWeight: 50 }),
    field: "spec.canary.stepWeight",
    message: "canary.stepWeight must not exceed canary.maxWeight.",
  },
  {
    name: "canary interval below 10s",
    mutate: (s) => Object.assign(s.canary as Loose, { interval: "5s" }),
    field: "spec.canary.interval",
    message: "canary.interval must be a duration in h, m and s (such as 30s, 5m or 1h) between 10s and 24h.",
  },
  {
    name: "maxWeight above 100",
    mutate: (s) => Object.assign(s.canary as Loose, { maxWeight: 101 }),
    field: "spec.canary.maxWeight",
    message: "canary.maxWeight must be at most 100 (percent of traffic).",
  },
  {
    name: "canary gated by an unknown SLO",
    mutate: (s) => ((s.canary as Loose).slos = ["availability", "throughput"]),
    field: "spec.canary.slos",
    message: "canary.slos must name SLOs defined in slos.",
  },
  {
    name: "canary gated by a ratio SLO",
    mutate: (s) => {
      slo(s, 0).indicator = { ratio: { errors: 'sum(rate(errors_total[{{window}}]))', total: 'sum(rate(requests_total[{{window}}]))' } };
    },
    field: "spec.canary.slos",
    message: "canary.slos must name SLOs with an istio indicator: the canary is judged on Istio's metrics of its own pods.",
  },
  {
    name: "canary without any Istio SLO",
    mutate: (s) => {
      delete (s.canary as Loose).slos;
      for (const i of [0, 1]) slo(s, i).indicator = { ratio: { errors: 'sum(rate(errors_total[{{window}}]))', total: 'sum(rate(requests_total[{{window}}]))' } };
    },
    field: "spec.canary",
    message: "canary needs at least one SLO with an istio indicator: the canary is judged on Istio's metrics of its own pods.",
  },
  {
    name: "minReplicas above maxReplicas",
    mutate: (s) => Object.assign(s.autoscaling as Loose, { minReplicas: 5, maxReplicas: 3 }),
    field: "spec.autoscaling.minReplicas",
    message: "autoscaling.minReplicas must not exceed autoscaling.maxReplicas.",
  },
  {
    name: "sloBoost above the CPU target",
    mutate: (s) => Object.assign(s.autoscaling as Loose, { cpuUtilization: 60, sloBoost: { minCpuUtilization: 65 } }),
    field: "spec.autoscaling.sloBoost.minCpuUtilization",
    message: "autoscaling.sloBoost.minCpuUtilization must not exceed autoscaling.cpuUtilization: the boost only lowers the CPU target.",
  },
  {
    name: "prometheus address not http",
    mutate: (s) => ((s.prometheus as Loose).address = "prometheus.monitoring:9090"),
    field: "spec.prometheus.address",
    message: "prometheus.address must be an http or https URL such as http://prometheus.monitoring:9090.",
  },
  {
    name: "prometheus header name with a space",
    mutate: (s) => ((s.prometheus as Loose).headers = { "X Scope": "a" }),
    field: "spec.prometheus.headers",
    message: "prometheus.headers names must be HTTP header names: letters, digits and dashes.",
  },
  {
    name: "slack without secretRef",
    mutate: (s) => ((s.policy as Loose).notifications = [{ name: "team-slack", type: "slack", events: ["Warning"] }]),
    field: "spec.policy.notifications[0].secretRef",
    message: "notifications[].secretRef is required for slack and pagerduty: it holds the Slack webhook URL or the PagerDuty routing key.",
  },
  {
    name: "pagerduty with a url",
    mutate: (s) =>
      ((s.policy as Loose).notifications = [
        { name: "pager", type: "pagerduty", events: ["Frozen"], secretRef: { name: "a", key: "b" }, url: "https://events.pagerduty.com" },
      ]),
    field: "spec.policy.notifications[0].url",
    message: "notifications[].url applies only to type webhook; slack and pagerduty read their endpoint from secretRef.",
  },
  {
    name: "webhook with both url and secretRef",
    mutate: (s) =>
      ((s.policy as Loose).notifications = [
        { name: "hook", type: "webhook", events: ["Frozen"], secretRef: { name: "a", key: "b" }, url: "https://hooks.example/x" },
      ]),
    field: "spec.policy.notifications[0]",
    message: "notifications[] of type webhook must set exactly one of url or secretRef.",
  },
  {
    name: "webhook url not http",
    mutate: (s) => ((s.policy as Loose).notifications = [{ name: "hook", type: "webhook", events: ["Frozen"], url: "mailto:sre@example.com" }]),
    field: "spec.policy.notifications[0].url",
    message: "notifications[].url must be an http or https URL such as https://hooks.example/tollgate.",
  },
  {
    name: "severity on slack",
    mutate: (s) =>
      ((s.policy as Loose).notifications = [
        { name: "team-slack", type: "slack", events: ["Warning"], secretRef: { name: "a", key: "b" }, severity: "critical" },
      ]),
    field: "spec.policy.notifications[0].severity",
    message: "notifications[].severity applies only to type pagerduty.",
  },
];

/** What the schema (not CEL) refuses: types, bounds, enums, required fields, list keys. */
const schemaCases: Array<Omit<Case, "message"> & { message: RegExp }> = [
  { name: "no slos", mutate: (s) => (s.slos = []), field: "spec.slos", message: /at least one SLO/ },
  {
    name: "eleven slos",
    mutate: (s) => (s.slos = Array.from({ length: 11 }, (_, i) => ({ ...slo(s), name: `slo-${i}` })) as never),
    field: "spec.slos",
    message: /at most 10/,
  },
  { name: "duplicate SLO names", mutate: (s) => (slo(s, 1).name = "availability"), field: "spec.slos[1].name", message: /unique/ },
  { name: "SLO name with capitals", mutate: (s) => (slo(s).name = "Availability"), field: "spec.slos[0].name", message: /lower-case/ },
  { name: "objective as a string", mutate: (s) => (slo(s).objective = "99.5"), field: "spec.slos[0].objective", message: /number/ },
  { name: "unknown istio kind", mutate: (s) => (slo(s).indicator = { istio: { kind: "errors" } }), field: "spec.slos[0].indicator.istio.kind", message: /availability|latency/ },
  { name: "targetRef kind StatefulSet", mutate: (s) => ((s.targetRef as Loose).kind = "StatefulSet"), field: "spec.targetRef.kind", message: /Deployment/ },
  { name: "missing targetRef", mutate: (s) => delete (s as Loose).targetRef, field: "spec.targetRef", message: /object/ },
  { name: "onNoData Rollback", mutate: (s) => Object.assign(s.policy as Loose, { onNoData: "Rollback" }), field: "spec.policy.onNoData", message: /Hold|Freeze/ },
  { name: "minEvents 0", mutate: (s) => Object.assign(s.policy as Loose, { minEvents: 0 }), field: "spec.policy.minEvents", message: />=\s*1/ },
  { name: "fractional stepWeight", mutate: (s) => Object.assign(s.canary as Loose, { stepWeight: 2.5 }), field: "spec.canary.stepWeight", message: /integer|int/ },
  { name: "port 0", mutate: (s) => ((s.canary as Loose).service = { name: "game-service", port: 0 }), field: "spec.canary.service.port", message: />=\s*1/ },
  { name: "cpuUtilization 120", mutate: (s) => Object.assign(s.autoscaling as Loose, { cpuUtilization: 120 }), field: "spec.autoscaling.cpuUtilization", message: /<=\s*100/ },
  {
    name: "unknown notification event",
    mutate: (s) => ((s.policy as Loose).notifications = [{ name: "x", type: "webhook", url: "https://h.example", events: ["Exploded"] }]),
    field: "spec.policy.notifications[0].events[0]",
    message: /Warning/,
  },
];

describe("validateSpec", () => {
  it("accepts the full spec the cases start from", () => {
    const res = validateSpec(fullSpec());
    expect(res).toMatchObject({ ok: true });
  });

  it.each(celCases)("refuses $name at $field with the CEL rule's message", ({ mutate, field, message }) => {
    const spec = fullSpec() as Spec;
    mutate(spec);
    const res = validateSpec(spec);
    expect(res).toEqual({ ok: false, field, message: `${field}: ${message}` });
  });

  it.each(schemaCases)("refuses $name at $field", ({ mutate, field, message }) => {
    const spec = fullSpec() as Spec;
    mutate(spec);
    const res = validateSpec(spec);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.field).toBe(field);
    expect(res.message).toMatch(message);
  });

  it("never throws, whatever it is given", () => {
    for (const junk of [undefined, null, 42, "spec", [], { slos: "x" }]) expect(validateSpec(junk).ok).toBe(false);
  });

  it("has a case for every CEL rule in the CRD, and every case's message is a CEL message", () => {
    const messages = new Set<string>();
    const walk = (node: unknown): void => {
      if (!node || typeof node !== "object") return;
      const v = (node as Record<string, unknown>)["x-kubernetes-validations"];
      if (Array.isArray(v)) for (const r of v as Array<{ message: string }>) messages.add(r.message);
      Object.values(node).forEach(walk);
    };
    walk(buildCrd().spec);
    const covered = new Set(celCases.map((c) => c.message));
    expect([...messages].filter((m) => !covered.has(m))).toEqual([]);
    expect([...covered].filter((m) => !messages.has(m))).toEqual([]);
  });
});

describe("fieldPath", () => {
  it("spells paths the way the API server does", () => {
    expect(fieldPath(["slos", 0, "indicator", "istio"])).toBe("spec.slos[0].indicator.istio");
    expect(fieldPath([])).toBe("spec");
  });
});
