import { z } from "zod";
import { withRules } from "./cel.ts";
import { duration } from "./duration.ts";
import { dnsLabel } from "./names.ts";

/** The placeholder Tollgate replaces with each burn-rate window (`5m`, `1h`, ... `30d`) in ratio queries. */
export const WINDOW_PLACEHOLDER = "{{window}}";

/** PromQL may be long, but not unbounded: the bound keeps the API server's CEL cost estimate in budget. */
const PROMQL_MAX_LENGTH = 4096;

function promqlWithWindow(field: string, description: string) {
  const message = `${field} must contain the {{window}} placeholder in its range selectors, e.g. sum(rate(http_requests_total{code=~"5.."}[{{window}}])).`;
  return withRules(
    z.string().min(1).max(PROMQL_MAX_LENGTH),
    [{ rule: "self.contains('{{window}}')", message, check: (q: string) => q.includes(WINDOW_PLACEHOLDER) }],
    { description },
  );
}

export const ratioIndicatorSchema = z
  .object({
    errors: promqlWithWindow(
      "ratio.errors",
      "PromQL for the rate of bad events over {{window}}, e.g. sum(rate(http_requests_total{job=\"auth\",code=~\"5..\"}[{{window}}])). Tollgate substitutes each burn-rate window for {{window}}; use rate() or increase(), never raw counter values.",
    ),
    total: promqlWithWindow(
      "ratio.total",
      "PromQL for the rate of all events over {{window}}, e.g. sum(rate(http_requests_total{job=\"auth\"}[{{window}}])). Must count the same events as errors, so errors/total is the error ratio.",
    ),
  })
  .describe("A ratio SLI from two PromQL queries: bad events over all events. The most general indicator.");

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

// A millisecond is the finest unit a duration has; Istio's largest default bucket is an hour, and a
// request slower than that is a batch job, not a latency objective.
const LATENCY_THRESHOLD_BOUNDS = { min: "1ms", max: "1h" };

const latencyMetric = withRules(
  z
    .string()
    .min(1)
    .max(200)
    .regex(METRIC_NAME, "latency.metric must be a Prometheus metric name: letters, digits, '_' and ':'."),
  [
    {
      rule: "!self.endsWith('_bucket') && !self.endsWith('_count') && !self.endsWith('_sum')",
      message: "latency.metric must be the histogram's base name, without the _bucket, _count or _sum suffix.",
      check: (m: string) => !/_(bucket|count|sum)$/.test(m),
    },
  ],
  {
    description:
      "Base name of a Prometheus histogram, without the _bucket suffix, e.g. istio_request_duration_milliseconds or http_server_request_duration_seconds. Good events are the <metric>_bucket series at le=threshold, all events <metric>_count.",
  },
);

const latencySelector = withRules(
  z.string().max(1024),
  [
    {
      rule: "self.startsWith('{') && self.endsWith('}')",
      message: 'latency.selector must be PromQL label matchers in braces, such as {destination_workload="game-service"}.',
      check: (s: string) => s.startsWith("{") && s.endsWith("}"),
    },
  ],
  {
    description:
      'PromQL label matchers that pick the workload\'s series, in braces, e.g. {destination_workload="game-service",reporter="destination"}. Tollgate adds the le matcher itself, matching both the Prometheus 2 (le="0.5") and Prometheus 3 (le="0.5" / le="1.0") label forms.',
  },
);

const UNIT_REQUIRED = "latency.unit is required when latency.metric does not end in _seconds or _milliseconds.";

export const latencyIndicatorSchema = withRules(
  z.object({
    metric: latencyMetric,
    selector: latencySelector,
    threshold: duration(
      "latency.threshold",
      "Requests that complete within this duration are good, e.g. 500ms. Must equal a bucket boundary of the histogram (Tollgate converts it to the metric's unit to pick the le label). 1ms to 1h.",
      LATENCY_THRESHOLD_BOUNDS,
    ),
    unit: z
      .enum(["seconds", "milliseconds"])
      .optional()
      .describe(
        "Unit of the histogram's observations. Defaults from the metric name: milliseconds when it ends in _milliseconds, seconds when it ends in _seconds; required otherwise.",
      ),
  }),
  [
    {
      rule: "has(self.unit) || self.metric.endsWith('_seconds') || self.metric.endsWith('_milliseconds')",
      message: UNIT_REQUIRED,
      fieldPath: ".unit",
      reason: "FieldValueRequired",
      check: (l) => l.unit !== undefined || l.metric.endsWith("_seconds") || l.metric.endsWith("_milliseconds"),
    },
  ],
  { description: "A latency SLI from a Prometheus histogram: the share of requests faster than threshold." },
);

const ISTIO_THRESHOLD_REQUIRED = "istio.threshold is required when istio.kind is latency.";
const ISTIO_THRESHOLD_FORBIDDEN = "istio.threshold applies only to istio.kind latency; remove it for availability.";

export const istioIndicatorSchema = withRules(
  z.object({
    kind: z
      .enum(["availability", "latency"])
      .describe(
        "availability: good requests are those istio_requests_total does not report as 5xx. latency: good requests are those istio_request_duration_milliseconds puts at or below threshold.",
      ),
    threshold: duration(
      "istio.threshold",
      "For kind latency (required there): requests that complete within this duration are good, e.g. 500ms. Must be a bucket boundary of Istio's histogram (e.g. 100ms, 250ms, 500ms, 1s, 2500ms, 5s). 1ms to 1h.",
      LATENCY_THRESHOLD_BOUNDS,
    ).optional(),
  }),
  [
    {
      rule: "self.kind != 'latency' || has(self.threshold)",
      message: ISTIO_THRESHOLD_REQUIRED,
      fieldPath: ".threshold",
      reason: "FieldValueRequired",
      check: (i) => i.kind !== "latency" || i.threshold !== undefined,
    },
    {
      rule: "self.kind != 'availability' || !has(self.threshold)",
      message: ISTIO_THRESHOLD_FORBIDDEN,
      fieldPath: ".threshold",
      reason: "FieldValueForbidden",
      check: (i) => i.kind !== "availability" || i.threshold === undefined,
    },
  ],
  {
    description:
      "A preset built from Istio's standard metrics for the targetRef workload (destination_workload and destination_workload_namespace, reporter=destination): no PromQL to write.",
  },
);

export const INDICATOR_KINDS = ["ratio", "latency", "istio"] as const;
export type IndicatorKind = (typeof INDICATOR_KINDS)[number];

export const indicatorSchema = withRules(
  z.object({
    ratio: ratioIndicatorSchema.optional(),
    latency: latencyIndicatorSchema.optional(),
    istio: istioIndicatorSchema.optional(),
  }),
  [
    {
      rule: "[has(self.ratio), has(self.latency), has(self.istio)].filter(x, x).size() == 1",
      message: "indicator must set exactly one of ratio, latency or istio.",
      check: (i) => INDICATOR_KINDS.filter((k) => i[k] !== undefined).length === 1,
    },
  ],
  {
    description:
      "How good and bad events are counted. Set exactly one of ratio (two PromQL queries), latency (a histogram and a threshold) or istio (a preset from Istio's metrics).",
  },
);

export type Indicator = z.output<typeof indicatorSchema>;

/** The one indicator kind set; validated specs always have exactly one. */
export function indicatorKind(indicator: Indicator): IndicatorKind {
  const kind = INDICATOR_KINDS.find((k) => indicator[k] !== undefined);
  if (!kind) throw new Error("indicator sets none of ratio, latency, istio");
  return kind;
}

const objective = withRules(
  z.number(),
  [
    {
      rule: "self > 0.0 && self < 100.0",
      message: "slos[].objective must be a percentage strictly between 0 and 100, such as 99.5 (100 would leave no error budget).",
      check: (o: number) => o > 0 && o < 100,
    },
  ],
  {
    description:
      "Target percentage of good events over window, strictly between 0 and 100, e.g. 99.5. The error budget is 100 - objective percent of events: 0.5 % for 99.5.",
  },
);

export const sloSchema = z
  .object({
    name: dnsLabel(
      "slos[].name",
      "Name of the SLO, unique within the profile, e.g. availability or latency-p95. Lower-case letters, digits and dashes; it labels Tollgate's metrics and recording rules (slo=<name>).",
    ),
    description: z
      .string()
      .max(512)
      .optional()
      .describe("What the SLO promises, for humans, e.g. '99.5 % of game requests succeed'. Shown in notifications."),
    objective,
    window: duration(
      "slos[].window",
      "Rolling window of the error budget, e.g. 30d or 4w. Budget consumed is the burn rate over this window. 1m to 90d: a shorter window holds too few scrapes for rate() to read, and a longer one is a range query Prometheus must answer every evaluation over more data than its retention usually keeps. Defaults to 30d.",
      { min: "1m", max: "90d" },
    ).default("30d"),
    indicator: indicatorSchema,
  })
  .describe("One service level objective: an indicator, an objective and a window.");

export const slosSchema = z
  .array(sloSchema)
  .min(1, "slos must list at least one SLO.")
  .max(10, "slos may list at most 10 SLOs.")
  .superRefine((slos, ctx) => {
    const seen = new Set<string>();
    slos.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: "custom", message: `slos names must be unique; ${s.name} appears more than once.`, path: [i, "name"] });
      seen.add(s.name);
    });
  })
  .meta({
    description:
      "The service level objectives of the workload, 1 to 10, each with a unique name. Budget consumption of the profile is that of its worst SLO.",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["name"],
  });

export type Slo = z.output<typeof sloSchema>;
