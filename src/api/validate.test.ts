import { describe, expect, it } from "vitest";
import { buildCrd } from "./crd.ts";
import type { ProfileSpecInput } from "./profile.ts";
import { fieldPath, validateCachedSpec, validateSpec } from "./validate.ts";

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

/** The message of a bounded Prometheus-style duration, as the CRD's CEL rule and validateSpec give it. */
const durationMessage = (field: string, min: string, max: string) =>
  `${field} must be a duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first) between ${min} and ${max}.`;

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
    message: durationMessage("slos[].window", "1m", "90d"),
  },
  {
    name: "zero SLO window",
    mutate: (s) => (slo(s).window = "0d"),
    field: "spec.slos[0].window",
    message: durationMessage("slos[].window", "1m", "90d"),
  },
  {
    name: "bad evaluationInterval",
    mutate: (s) => Object.assign(s.policy as Loose, { evaluationInterval: "1.5m" }),
    field: "spec.policy.evaluationInterval",
    message: durationMessage("policy.evaluationInterval", "1s", "1h"),
  },
  {
    name: "bad stableAfter",
    mutate: (s) => Object.assign(s.policy as Loose, { stableAfter: "ten minutes" }),
    field: "spec.policy.stableAfter",
    message: durationMessage("policy.stableAfter", "1s", "7d"),
  },
  {
    name: "bad latency threshold",
    mutate: (s) => (slo(s).indicator = { latency: { metric: "m", selector: "{}", threshold: "0.5s" } }),
    field: "spec.slos[0].indicator.latency.threshold",
    message: durationMessage("latency.threshold", "1ms", "1h"),
  },
  {
    name: "bad istio threshold",
    mutate: (s) => (slo(s, 1).indicator = { istio: { kind: "latency", threshold: "500" } }),
    field: "spec.slos[1].indicator.istio.threshold",
    message: durationMessage("istio.threshold", "1ms", "1h"),
  },
  {
    name: "bad prometheus timeout",
    mutate: (s) => ((s.prometheus as Loose).timeout = "10"),
    field: "spec.prometheus.timeout",
    message: durationMessage("prometheus.timeout", "1s", "2m"),
  },
  {
    name: "evaluationInterval of 1ms, a hot loop",
    mutate: (s) => Object.assign(s.policy as Loose, { evaluationInterval: "1ms" }),
    field: "spec.policy.evaluationInterval",
    message: durationMessage("policy.evaluationInterval", "1s", "1h"),
  },
  {
    name: "evaluationInterval of 25d, past setTimeout's limit",
    mutate: (s) => Object.assign(s.policy as Loose, { evaluationInterval: "25d" }),
    field: "spec.policy.evaluationInterval",
    message: durationMessage("policy.evaluationInterval", "1s", "1h"),
  },
  {
    name: "evaluationInterval of 100y",
    mutate: (s) => Object.assign(s.policy as Loose, { evaluationInterval: "100y" }),
    field: "spec.policy.evaluationInterval",
    message: durationMessage("policy.evaluationInterval", "1s", "1h"),
  },
  {
    name: "evaluationInterval a second over 1h",
    mutate: (s) => Object.assign(s.policy as Loose, { evaluationInterval: "1h1s" }),
    field: "spec.policy.evaluationInterval",
    message: durationMessage("policy.evaluationInterval", "1s", "1h"),
  },
  {
    name: "prometheus timeout of 24h",
    mutate: (s) => Object.assign(s.prometheus as Loose, { timeout: "24h" }),
    field: "spec.prometheus.timeout",
    message: durationMessage("prometheus.timeout", "1s", "2m"),
  },
  {
    name: "prometheus timeout under a second",
    mutate: (s) => Object.assign(s.prometheus as Loose, { timeout: "500ms" }),
    field: "spec.prometheus.timeout",
    message: durationMessage("prometheus.timeout", "1s", "2m"),
  },
  {
    name: "prometheus timeout longer than evaluationInterval",
    mutate: (s) => {
      Object.assign(s.prometheus as Loose, { timeout: "1m" });
      Object.assign(s.policy as Loose, { evaluationInterval: "30s" });
    },
    field: "spec.prometheus.timeout",
    message: "prometheus.timeout must not exceed policy.evaluationInterval: a query that outlasts the interval holds up every evaluation after it.",
  },
  {
    name: "prometheus timeout longer than the default evaluationInterval",
    mutate: (s) => Object.assign(s.prometheus as Loose, { timeout: "31s" }),
    field: "spec.prometheus.timeout",
    message: "prometheus.timeout must not exceed policy.evaluationInterval: a query that outlasts the interval holds up every evaluation after it.",
  },
  {
    name: "SLO window under a minute",
    mutate: (s) => (slo(s).window = "59s"),
    field: "spec.slos[0].window",
    message: durationMessage("slos[].window", "1m", "90d"),
  },
  {
    name: "SLO window of a year",
    mutate: (s) => (slo(s).window = "1y"),
    field: "spec.slos[0].window",
    message: durationMessage("slos[].window", "1m", "90d"),
  },
  {
    name: "SLO window a day over 90d, in weeks",
    mutate: (s) => (slo(s).window = "13w"),
    field: "spec.slos[0].window",
    message: durationMessage("slos[].window", "1m", "90d"),
  },
  {
    name: "stableAfter over a week",
    mutate: (s) => Object.assign(s.policy as Loose, { stableAfter: "1w1ms" }),
    field: "spec.policy.stableAfter",
    message: durationMessage("policy.stableAfter", "1s", "7d"),
  },
  {
    name: "zero stableAfter",
    mutate: (s) => Object.assign(s.policy as Loose, { stableAfter: "0s" }),
    field: "spec.policy.stableAfter",
    message: durationMessage("policy.stableAfter", "1s", "7d"),
  },
  {
    name: "latency threshold over an hour",
    mutate: (s) => (slo(s).indicator = { latency: { metric: "m_seconds", selector: "{}", threshold: "2h" } }),
    field: "spec.slos[0].indicator.latency.threshold",
    message: durationMessage("latency.threshold", "1ms", "1h"),
  },
  {
    name: "zero istio threshold",
    mutate: (s) => (slo(s, 1).indicator = { istio: { kind: "latency", threshold: "0ms" } }),
    field: "spec.slos[1].indicator.istio.threshold",
    message: durationMessage("istio.threshold", "1ms", "1h"),
  },
  {
    name: "circuit breaker interval under a second",
    mutate: (s) => ((s.trafficPolicy as Loose).circuitBreaker = { interval: "500ms" }),
    field: "spec.trafficPolicy.circuitBreaker.interval",
    message: durationMessage("trafficPolicy.circuitBreaker.interval", "1s", "1h"),
  },
  {
    name: "baseEjectionTime over a day",
    mutate: (s) => ((s.trafficPolicy as Loose).circuitBreaker = { baseEjectionTime: "1d1s" }),
    field: "spec.trafficPolicy.circuitBreaker.baseEjectionTime",
    message: durationMessage("trafficPolicy.circuitBreaker.baseEjectionTime", "1s", "24h"),
  },
  {
    name: "connectTimeout over a minute",
    mutate: (s) => ((s.trafficPolicy as Loose).connectionPool = { connectTimeout: "2m" }),
    field: "spec.trafficPolicy.connectionPool.connectTimeout",
    message: durationMessage("trafficPolicy.connectionPool.connectTimeout", "1ms", "1m"),
  },
  {
    name: "sloBoost coolDown of a week",
    mutate: (s) => ((s.autoscaling as Loose).sloBoost = { coolDown: "7d" }),
    field: "spec.autoscaling.sloBoost.coolDown",
    message: durationMessage("autoscaling.sloBoost.coolDown", "1s", "24h"),
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
    message: durationMessage("trafficPolicy.circuitBreaker.interval", "1s", "1h"),
  },
  {
    name: "bad circuit breaker baseEjectionTime",
    mutate: (s) => ((s.trafficPolicy as Loose).circuitBreaker = { baseEjectionTime: "30" }),
    field: "spec.trafficPolicy.circuitBreaker.baseEjectionTime",
    message: durationMessage("trafficPolicy.circuitBreaker.baseEjectionTime", "1s", "24h"),
  },
  {
    name: "bad connectTimeout",
    mutate: (s) => ((s.trafficPolicy as Loose).connectionPool = { connectTimeout: "10sec" }),
    field: "spec.trafficPolicy.connectionPool.connectTimeout",
    message: durationMessage("trafficPolicy.connectionPool.connectTimeout", "1ms", "1m"),
  },
  {
    name: "bad sloBoost coolDown",
    mutate: (s) => ((s.autoscaling as Loose).sloBoost = { coolDown: "-10m" }),
    field: "spec.autoscaling.sloBoost.coolDown",
    message: durationMessage("autoscaling.sloBoost.coolDown", "1s", "24h"),
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
    name: "canary host with a trailing dot",
    mutate: (s) => ((s.canary as Loose).service = { name: "game-service", port: 8080, hosts: ["game-service", "game.example.com."] }),
    field: "spec.canary.service.hosts[1]",
    message: "canary.service.hosts[] must be a lower-case DNS name such as game-service or game.example.com: labels of at most 63 letters, digits and dashes, a wildcard only as the whole first label (*.example.com), no trailing dot.",
  },
  {
    name: "canary host in upper case",
    mutate: (s) => ((s.canary as Loose).service = { name: "game-service", port: 8080, hosts: ["Game.example.com"] }),
    field: "spec.canary.service.hosts[0]",
    message: "canary.service.hosts[] must be a lower-case DNS name such as game-service or game.example.com: labels of at most 63 letters, digits and dashes, a wildcard only as the whole first label (*.example.com), no trailing dot.",
  },
  {
    name: "canary host with a wildcard inside",
    mutate: (s) => ((s.canary as Loose).service = { name: "game-service", port: 8080, hosts: ["game.*.example.com"] }),
    field: "spec.canary.service.hosts[0]",
    message: "canary.service.hosts[] must be a lower-case DNS name such as game-service or game.example.com: labels of at most 63 letters, digits and dashes, a wildcard only as the whole first label (*.example.com), no trailing dot.",
  },
  {
    name: "canary host with a label of 64 characters",
    mutate: (s) => ((s.canary as Loose).service = { name: "game-service", port: 8080, hosts: [`${"a".repeat(64)}.example.com`] }),
    field: "spec.canary.service.hosts[0]",
    message: "canary.service.hosts[] must be a lower-case DNS name such as game-service or game.example.com: labels of at most 63 letters, digits and dashes, a wildcard only as the whole first label (*.example.com), no trailing dot.",
  },
  {
    name: "canary host in Unicode",
    mutate: (s) => ((s.canary as Loose).service = { name: "game-service", port: 8080, hosts: ["g\u00e4me.example.com"] }),
    field: "spec.canary.service.hosts[0]",
    message: "canary.service.hosts[] must be a lower-case DNS name such as game-service or game.example.com: labels of at most 63 letters, digits and dashes, a wildcard only as the whole first label (*.example.com), no trailing dot.",
  },
  {
    name: "canary gateway as name.namespace",
    mutate: (s) => ((s.canary as Loose).service = { name: "game-service", port: 8080, gateways: ["mesh", "public-gateway.istio-system"] }),
    field: "spec.canary.service.gateways[1]",
    message: "canary.service.gateways[] must be mesh, the name of a gateway in the profile's namespace, or namespace/name; a name without a namespace has no dots (Istio reads name.namespace as a gateway in another namespace).",
  },
  {
    name: "canary gateway with two slashes",
    mutate: (s) => ((s.canary as Loose).service = { name: "game-service", port: 8080, gateways: ["istio-system/public/x"] }),
    field: "spec.canary.service.gateways[0]",
    message: "canary.service.gateways[] must be mesh, the name of a gateway in the profile's namespace, or namespace/name; a name without a namespace has no dots (Istio reads name.namespace as a gateway in another namespace).",
  },
  {
    name: "canary gateway in the profile's namespace as ./name",
    mutate: (s) => ((s.canary as Loose).service = { name: "game-service", port: 8080, gateways: ["./public"] }),
    field: "spec.canary.service.gateways[0]",
    message: "canary.service.gateways[] must be mesh, the name of a gateway in the profile's namespace, or namespace/name; a name without a namespace has no dots (Istio reads name.namespace as a gateway in another namespace).",
  },
  {
    name: "canary gateway with a wildcard",
    mutate: (s) => ((s.canary as Loose).service = { name: "game-service", port: 8080, gateways: ["istio-system/*"] }),
    field: "spec.canary.service.gateways[0]",
    message: "canary.service.gateways[] must be mesh, the name of a gateway in the profile's namespace, or namespace/name; a name without a namespace has no dots (Istio reads name.namespace as a gateway in another namespace).",
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
    name: "prometheus header value with a line break",
    mutate: (s) => ((s.prometheus as Loose).headers = { "X-Team": "a\r\nX-Scope-OrgID: tenant-b" }),
    field: "spec.prometheus.headers",
    message: "prometheus.headers values must be one line: no carriage return or line feed.",
  },
  {
    name: "prometheus connection and address together",
    mutate: (s) => Object.assign((s.prometheus ??= {}) as Loose, { connection: "mimir", address: "http://prometheus.monitoring:9090" }),
    field: "spec.prometheus.address",
    message: "prometheus.connection and prometheus.address are exclusive: a connection carries its own address.",
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
  {
    name: "a canary SLO named twice",
    mutate: (s) => (s.canary = { service: { name: "game-service", port: 8080 }, slos: ["availability", "availability"] }),
    field: "spec.canary.slos",
    message: /canary\.slos must not name an entry twice/,
  },
  {
    name: "a gateway named twice",
    mutate: (s) => (s.canary = { service: { name: "game-service", port: 8080, gateways: ["mesh", "mesh"] } }),
    field: "spec.canary.service.gateways",
    message: /gateways must not name an entry twice/,
  },
  {
    name: "a host named twice",
    mutate: (s) => (s.canary = { service: { name: "game-service", port: 8080, hosts: ["game-service", "game-service"] } }),
    field: "spec.canary.service.hosts",
    message: /hosts must not name an entry twice/,
  },
  {
    name: "a notification event named twice",
    mutate: (s) => ((s.policy as Loose).notifications = [{ name: "hook", type: "webhook", url: "https://hooks.example/t", events: ["Frozen", "Frozen"] }]),
    field: "spec.policy.notifications[0].events",
    message: /events must not name an entry twice/,
  },
  { name: "SLO name with capitals", mutate: (s) => (slo(s).name = "Availability"), field: "spec.slos[0].name", message: /lower-case/ },
  { name: "objective as a string", mutate: (s) => (slo(s).objective = "99.5"), field: "spec.slos[0].objective", message: /number/ },
  { name: "unknown istio kind", mutate: (s) => (slo(s).indicator = { istio: { kind: "errors" } }), field: "spec.slos[0].indicator.istio.kind", message: /availability|latency/ },
  { name: "targetRef kind StatefulSet", mutate: (s) => ((s.targetRef as Loose).kind = "StatefulSet"), field: "spec.targetRef.kind", message: /Deployment/ },
  { name: "missing targetRef", mutate: (s) => delete (s as Loose).targetRef, field: "spec.targetRef", message: /object/ },
  { name: "onNoData Rollback", mutate: (s) => Object.assign(s.policy as Loose, { onNoData: "Rollback" }), field: "spec.policy.onNoData", message: /Hold|Freeze/ },
  { name: "minEvents 0", mutate: (s) => Object.assign(s.policy as Loose, { minEvents: 0 }), field: "spec.policy.minEvents", message: /^spec\.policy\.minEvents: policy\.minEvents must be at least 1\.$/ },
  {
    name: "minEvents over a million",
    mutate: (s) => Object.assign(s.policy as Loose, { minEvents: 1_000_001 }),
    field: "spec.policy.minEvents",
    message: /^spec\.policy\.minEvents: policy\.minEvents must be at most 1000000\.$/,
  },
  {
    name: "canary minEvents over a million",
    mutate: (s) => Object.assign(s.canary as Loose, { minEvents: 1_000_001 }),
    field: "spec.canary.minEvents",
    message: /^spec\.canary\.minEvents: canary\.minEvents must be at most 1000000\.$/,
  },
  {
    name: "canary minEvents 0",
    mutate: (s) => Object.assign(s.canary as Loose, { minEvents: 0 }),
    field: "spec.canary.minEvents",
    message: /^spec\.canary\.minEvents: canary\.minEvents must be at least 1\.$/,
  },
  {
    name: "consecutiveErrors over 1000",
    mutate: (s) => ((s.trafficPolicy as Loose).circuitBreaker = { consecutiveErrors: 1001 }),
    field: "spec.trafficPolicy.circuitBreaker.consecutiveErrors",
    message: /<=\s*1000\b/,
  },
  ...(["maxConnections", "http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries"] as const).map((f) => ({
    name: `${f} past Istio's int32`,
    mutate: (s: Spec) => ((s.trafficPolicy as Loose).connectionPool = { [f]: 2 ** 31 }),
    field: `spec.trafficPolicy.connectionPool.${f}`,
    message: /<=\s*2147483647\b/,
  })),
  {
    name: "seventeen Prometheus headers",
    mutate: (s) => ((s.prometheus as Loose).headers = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`X-Header-${i}`, "a"]))),
    field: "spec.prometheus.headers",
    message: /^spec\.prometheus\.headers: prometheus\.headers may hold at most 16 headers\.$/,
  },
  { name: "PromQL longer than 4096 characters", mutate: (s) => (slo(s).indicator = { ratio: { errors: `e[{{window}}]${" ".repeat(4096)}`, total: "t[{{window}}]" } }), field: "spec.slos[0].indicator.ratio.errors", message: /<=\s*4096/ },
  { name: "eleven notifications", mutate: (s) => ((s.policy as Loose).notifications = Array.from({ length: 11 }, (_, i) => ({ name: `hook-${i}`, type: "webhook", events: ["Frozen"], url: "https://h.example" }))), field: "spec.policy.notifications", message: /at most 10 receivers/ },
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

  it.each([
    ["canary.interval", (s: Spec) => Object.assign(s.canary as Loose, { interval: "99999999999999999999h" })],
    ["policy.evaluationInterval", (s: Spec) => Object.assign(s.policy as Loose, { evaluationInterval: "99999999999999999999y" })],
    ["prometheus.timeout", (s: Spec) => Object.assign(s.prometheus as Loose, { timeout: "99999999999999999999y" })],
  ])("refuses a %s too long for a safe integer, without throwing", (_field, mutate) => {
    const spec = fullSpec() as Spec;
    mutate(spec);
    expect(validateSpec(spec).ok).toBe(false);
  });

  /** Each bounded field at its lower and upper bound: the bounds are inclusive, and the values e2e and the demo use pass. */
  const edges: Array<[string, (s: Spec) => void]> = [
    ["evaluationInterval 1s, timeout 1s", (s) => (Object.assign(s.policy as Loose, { evaluationInterval: "1s" }), Object.assign(s.prometheus as Loose, { timeout: "1s" }))],
    ["evaluationInterval 2s without a timeout, as e2e and the demo use", (s) => (Object.assign(s.policy as Loose, { evaluationInterval: "2s" }), delete (s.prometheus as Loose).timeout)],
    ["evaluationInterval 1h, timeout 2m", (s) => (Object.assign(s.policy as Loose, { evaluationInterval: "1h" }), Object.assign(s.prometheus as Loose, { timeout: "2m" }))],
    ["timeout 1s", (s) => Object.assign(s.prometheus as Loose, { timeout: "1s" })],
    ["timeout equal to evaluationInterval", (s) => (Object.assign(s.policy as Loose, { evaluationInterval: "1m" }), Object.assign(s.prometheus as Loose, { timeout: "60s" }))],
    ["window 1m, as the demo uses", (s) => (slo(s).window = "1m")],
    ["window 90d", (s) => (slo(s).window = "90d")],
    ["window 12w6d, which is 90d", (s) => (slo(s).window = "12w6d")],
    ["window 2160h, which is 90d", (s) => (slo(s).window = "2160h")],
    ["stableAfter 1s", (s) => Object.assign(s.policy as Loose, { stableAfter: "1s" })],
    ["stableAfter 1w", (s) => Object.assign(s.policy as Loose, { stableAfter: "1w" })],
    ["minEvents 1 and 1000000", (s) => (Object.assign(s.policy as Loose, { minEvents: 1 }), Object.assign(s.canary as Loose, { minEvents: 1_000_000 }))],
    ["latency threshold 1ms", (s) => (slo(s, 1).indicator = { latency: { metric: "m_seconds", selector: "{}", threshold: "1ms" } })],
    ["istio threshold 1h", (s) => (slo(s, 1).indicator = { istio: { kind: "latency", threshold: "1h" } })],
    ["circuit breaker interval 1s, baseEjectionTime 1d, 1000 errors", (s) => ((s.trafficPolicy as Loose).circuitBreaker = { interval: "1s", baseEjectionTime: "1d", consecutiveErrors: 1000 })],
    ["circuit breaker interval 1h, baseEjectionTime 1s", (s) => ((s.trafficPolicy as Loose).circuitBreaker = { interval: "1h", baseEjectionTime: "1s" })],
    ["connectTimeout 1ms, pool sizes at int32", (s) => ((s.trafficPolicy as Loose).connectionPool = { connectTimeout: "1ms", maxConnections: 2 ** 31 - 1, maxRetries: 2 ** 31 - 1 })],
    ["connectTimeout 1m", (s) => ((s.trafficPolicy as Loose).connectionPool = { connectTimeout: "1m" })],
    ["coolDown 1s", (s) => ((s.autoscaling as Loose).sloBoost = { coolDown: "1s" })],
    ["coolDown 1d", (s) => ((s.autoscaling as Loose).sloBoost = { coolDown: "1d" })],
    [
      "canary hosts and gateways in every form the CRD allows",
      (s) =>
        ((s.canary as Loose).service = {
          name: "game-service",
          port: 8080,
          hosts: ["game-service", "game-service.games.svc.cluster.local", "*.shop.example.com", "10.0.0.1", `${"a".repeat(63)}.example.com`],
          gateways: ["mesh", "public", "istio-system/public-gateway", "istio-system/public-gateway.v2"],
        }),
    ],
  ];
  it.each(edges)("accepts %s", (_name, mutate) => {
    const spec = fullSpec() as Spec;
    mutate(spec);
    const res = validateSpec(spec);
    expect(res.ok ? "accepted" : res.message).toBe("accepted");
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

describe("validateCachedSpec", () => {
  it("validates a cached spec object once, and shares one frozen result until the object is replaced", () => {
    const cached = fullSpec();
    const first = validateCachedSpec(cached);
    expect(first).toEqual(validateSpec(fullSpec()));
    expect(validateCachedSpec(cached)).toBe(first);
    if (!first.ok) throw new Error("the full spec is valid");
    expect(Object.isFrozen(first.spec.slos[0])).toBe(true);
    expect(() => (first.spec.slos as unknown[]).push({})).toThrow(TypeError);
    // An update replaces the cached object: the new one is validated afresh.
    const updated = fullSpec() as Spec;
    celCases[0]!.mutate(updated);
    expect(validateCachedSpec(updated)).toEqual(validateSpec(updated));
    expect(validateCachedSpec(updated).ok).toBe(false);
  });
});

describe("fieldPath", () => {
  it("spells paths the way the API server does", () => {
    expect(fieldPath(["slos", 0, "indicator", "istio"])).toBe("spec.slos[0].indicator.istio");
    expect(fieldPath([])).toBe("spec");
  });
});
