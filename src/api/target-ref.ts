import { z } from "zod";
import { dnsSubdomain } from "./names.ts";

export const targetRefSchema = z
  .object({
    apiVersion: z
      .literal("apps/v1")
      .default("apps/v1")
      .describe("API version of the target. Only apps/v1 is supported; defaults to apps/v1."),
    kind: z
      .literal("Deployment")
      .default("Deployment")
      .describe("Kind of the target. Only Deployment is supported; defaults to Deployment."),
    name: dnsSubdomain(
      "targetRef.name",
      "Name of the Deployment in the profile's namespace. Tollgate pauses it on a freeze, rolls it back to the last known good revision, and (with canary) mirrors it into <name>-primary.",
    ),
  })
  .describe("The workload whose SLOs the profile measures and whose rollouts it governs: a Deployment in the same namespace.");

export type TargetRef = z.output<typeof targetRefSchema>;
