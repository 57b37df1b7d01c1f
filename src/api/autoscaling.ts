import { z } from "zod";
import { defaulted, withRules } from "./cel.ts";
import { boundedDuration, duration } from "./duration.ts";

/** The seeds' HorizontalPodAutoscaler: 2-10 replicas at 70 % CPU, scale up after 30s, down after 300s. */
export const AUTOSCALING_DEFAULTS = {
  minReplicas: 2,
  maxReplicas: 10,
  cpuUtilization: 70,
  behavior: { scaleUpStabilization: "30s", scaleDownStabilization: "300s" },
  sloBoost: { minCpuUtilization: 50, step: 10, coolDown: "10m" },
} as const;

const utilization = z.int().min(1).max(100);

const behaviorSchema = z
  .object({
    scaleUpStabilization: boundedDuration(
      "autoscaling.behavior.scaleUpStabilization",
      "Stabilization window for scaling up (behavior.scaleUp.stabilizationWindowSeconds): the HPA scales up to the lowest recommendation of this window. h, m and s units, 0s to 1h. Defaults to 30s.",
      { min: "0s", max: "1h" },
    ).default(AUTOSCALING_DEFAULTS.behavior.scaleUpStabilization),
    scaleDownStabilization: boundedDuration(
      "autoscaling.behavior.scaleDownStabilization",
      "Stabilization window for scaling down (behavior.scaleDown.stabilizationWindowSeconds): the HPA scales down to the highest recommendation of this window, so a dip does not shed capacity. h, m and s units, 0s to 1h. Defaults to 300s.",
      { min: "0s", max: "1h" },
    ).default(AUTOSCALING_DEFAULTS.behavior.scaleDownStabilization),
  })
  .describe("How fast the HPA reacts: fast scale-up, gentle scale-down.");

const sloBoostSchema = z
  .object({
    minCpuUtilization: utilization
      .default(AUTOSCALING_DEFAULTS.sloBoost.minCpuUtilization)
      .describe("Lowest CPU target the boost may set, percent of requests. 1 to 100, at most cpuUtilization; defaults to 50."),
    step: z
      .int()
      .min(1)
      .max(100)
      .default(AUTOSCALING_DEFAULTS.sloBoost.step)
      .describe("Percentage points the CPU target drops per evaluation while a latency SLO burns faster than 1. Defaults to 10."),
    coolDown: duration(
      "autoscaling.sloBoost.coolDown",
      "How long latency SLOs must burn slower than 1 before the CPU target goes back to cpuUtilization. 1s to 24h: a boost held longer than a day is a capacity change, better made in cpuUtilization. Defaults to 10m.",
      { min: "1s", max: "24h" },
    ).default(AUTOSCALING_DEFAULTS.sloBoost.coolDown),
  })
  .describe(
    "Scale out earlier while a latency SLO burns: the HPA's CPU target is lowered towards minCpuUtilization, then restored after coolDown. The current target is in status.autoscaling.cpuTarget.",
  );

export const autoscalingSchema = withRules(
  z.object({
    minReplicas: z
      .int()
      .min(1)
      .default(AUTOSCALING_DEFAULTS.minReplicas)
      .describe("Fewest replicas the HPA keeps. Defaults to 2, so one pod can fail without an outage."),
    maxReplicas: z
      .int()
      .min(1)
      .max(1000)
      .default(AUTOSCALING_DEFAULTS.maxReplicas)
      .describe("Most replicas the HPA may run; at least minReplicas. Defaults to 10."),
    cpuUtilization: utilization
      .default(AUTOSCALING_DEFAULTS.cpuUtilization)
      .describe("Target average CPU use, percent of the pods' CPU requests. 1 to 100; defaults to 70."),
    memoryUtilization: utilization
      .optional()
      .describe("Target average memory use, percent of the pods' memory requests, e.g. 80. 1 to 100; no memory metric when unset."),
    behavior: defaulted(behaviorSchema),
    sloBoost: sloBoostSchema.optional(),
  }),
  [
    {
      rule: "self.minReplicas <= self.maxReplicas",
      message: "autoscaling.minReplicas must not exceed autoscaling.maxReplicas.",
      fieldPath: ".minReplicas",
      check: (a) => a.minReplicas <= a.maxReplicas,
    },
    {
      rule: "!has(self.sloBoost) || self.sloBoost.minCpuUtilization <= self.cpuUtilization",
      message: "autoscaling.sloBoost.minCpuUtilization must not exceed autoscaling.cpuUtilization: the boost only lowers the CPU target.",
      fieldPath: ".sloBoost.minCpuUtilization",
      check: (a) => a.sloBoost === undefined || a.sloBoost.minCpuUtilization <= a.cpuUtilization,
    },
  ],
  {
    description:
      "The HorizontalPodAutoscaler (autoscaling/v2) Tollgate keeps for the target. During a canary rollback Tollgate first makes sure primary has the replicas to take all traffic.",
  },
);

export type Autoscaling = z.output<typeof autoscalingSchema>;
