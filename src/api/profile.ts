import { z } from "zod";

const conditionSchema = z.object({
  type: z.string().describe("Kind of condition, e.g. Ready or DeploymentsFrozen."),
  status: z.enum(["True", "False", "Unknown"]).describe("Status of the condition."),
  reason: z.string().describe("Machine-readable CamelCase reason for the last transition."),
  message: z.string().describe("One sentence an SRE can act on, with the numbers in it."),
  observedGeneration: z.number().int().optional().describe("The spec generation the condition was computed from."),
  lastTransitionTime: z.string().describe("When the status last flipped."),
});

export const targetRefSchema = z
  .object({
    apiVersion: z.literal("apps/v1").default("apps/v1").describe("API version of the target; apps/v1."),
    kind: z.literal("Deployment").default("Deployment").describe("Kind of the target; Deployment."),
    name: z.string().min(1).max(253).describe("Name of the Deployment in the profile's namespace."),
  })
  .describe("The workload whose rollouts the profile governs.");

export const profileSpecSchema = z
  .object({
    targetRef: targetRefSchema,
  })
  .describe("What Tollgate measures and enforces for one workload.");

export const profileStatusSchema = z
  .object({
    observedGeneration: z.number().int().optional().describe("The spec generation the status reflects."),
    phase: z.string().optional().describe("Healthy, Warning, Frozen, RollingBack, Progressing or Degraded."),
    conditions: z
      .array(conditionSchema)
      .optional()
      .meta({
        description: "Latest observations of the profile's state.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
      }),
  })
  .describe("What Tollgate observed and decided.");

export type ProfileSpec = z.output<typeof profileSpecSchema>;
export type ProfileSpecInput = z.input<typeof profileSpecSchema>;
export type ProfileStatus = z.output<typeof profileStatusSchema>;
