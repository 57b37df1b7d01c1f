import { z } from "zod";
import { autoscalingSchema } from "./autoscaling.ts";
import { canarySchema } from "./canary.ts";
import { defaulted, withRules } from "./cel.ts";
import { celMillis, durationMillis } from "./duration.ts";
import { policySchema } from "./policy.ts";
import { prometheusSchema } from "./prometheus.ts";
import { slosSchema } from "./slo.ts";
import { profileStatusSchema, type ProfileStatus } from "./status.ts";
import { targetRefSchema } from "./target-ref.ts";
import { trafficPolicySchema } from "./traffic-policy.ts";

export { targetRefSchema, profileStatusSchema, type ProfileStatus };

/** The whole spec: the single source of the TypeScript types, validateSpec and the CRD's schema. */
export const profileSpecSchema = withRules(
  z.object({
    targetRef: targetRefSchema,
    prometheus: prometheusSchema.optional(),
    slos: slosSchema,
    // Defaulted as a whole so the API server fills in every policy default even when the block is omitted.
    policy: defaulted(policySchema),
    canary: canarySchema.optional(),
    trafficPolicy: trafficPolicySchema.optional(),
    autoscaling: autoscalingSchema.optional(),
  }),
  [
    {
      rule: "!has(self.canary) || !has(self.canary.slos) || self.canary.slos.all(n, self.slos.exists(s, s.name == n))",
      message: "canary.slos must name SLOs defined in slos.",
      fieldPath: ".canary.slos",
      check: (s) => s.canary?.slos === undefined || s.canary.slos.every((n) => s.slos.some((slo) => slo.name === n)),
    },
    // The canary is judged on its own workload's requests, which only the Istio presets can single
    // out: a ratio or latency SLO's PromQL measures whatever the user wrote, primary included.
    {
      rule: "!has(self.canary) || !has(self.canary.slos) || self.canary.slos.all(n, self.slos.exists(s, s.name == n && has(s.indicator.istio)))",
      message: "canary.slos must name SLOs with an istio indicator: the canary is judged on Istio's metrics of its own pods.",
      fieldPath: ".canary.slos",
      check: (s) => s.canary?.slos === undefined || s.canary.slos.every((n) => s.slos.some((slo) => slo.name === n && slo.indicator.istio !== undefined)),
    },
    {
      rule: "!has(self.canary) || self.slos.exists(s, has(s.indicator.istio))",
      message: "canary needs at least one SLO with an istio indicator: the canary is judged on Istio's metrics of its own pods.",
      fieldPath: ".canary",
      check: (s) => s.canary === undefined || s.slos.some((slo) => slo.indicator.istio !== undefined),
    },
    // An evaluation waits for its queries, and the next one is scheduled only after it: a timeout
    // longer than the interval stretches every interval while Prometheus hangs.
    {
      rule: `!has(self.prometheus) || !has(self.prometheus.timeout) || [${celMillis("self.prometheus.timeout")}].all(t, [${celMillis("self.policy.evaluationInterval")}].all(e, t <= e))`,
      message: "prometheus.timeout must not exceed policy.evaluationInterval: a query that outlasts the interval holds up every evaluation after it.",
      fieldPath: ".prometheus.timeout",
      check: (s) => {
        const timeout = s.prometheus?.timeout === undefined ? undefined : durationMillis(s.prometheus.timeout);
        const interval = durationMillis(s.policy.evaluationInterval);
        // A malformed duration is its own field's error; this rule compares only two that read.
        return timeout === undefined || interval === undefined || timeout <= interval;
      },
    },
  ],
  {
    description:
      "What Tollgate measures and enforces for one Deployment: its SLOs, the error-budget policy, and optionally the canary, the Istio traffic policy and the autoscaling.",
  },
);

export type ProfileSpec = z.output<typeof profileSpecSchema>;
export type ProfileSpecInput = z.input<typeof profileSpecSchema>;
