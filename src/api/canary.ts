import { z } from "zod";
import { withRules } from "./cel.ts";
import { boundedDuration } from "./duration.ts";
import { dnsLabel } from "./names.ts";
import { minEvents } from "./policy.ts";

export const CANARY_DEFAULTS = {
  stepWeight: 10,
  maxWeight: 50,
  interval: "1m",
  maxBurnRate: 2,
  failureLimit: 3,
  gateways: ["mesh"],
} as const;

const host = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "canary.service.hosts must be DNS names, optionally starting with *.");

const gateway = z
  .string()
  .min(1)
  .max(253)
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "canary.service.gateways must be gateway names, [namespace/]name, or mesh.");

const serviceSchema = z
  .object({
    name: dnsLabel(
      "canary.service.name",
      "Name of the Kubernetes Service in front of the Deployment, e.g. game-service. Tollgate's VirtualService and DestinationRule take this name and route its traffic between the primary and canary subsets.",
    ),
    port: z
      .int()
      .min(1)
      .max(65535)
      .describe("Service port the VirtualService routes, e.g. 8080."),
    hosts: z
      .array(host)
      .max(16)
      .optional()
      .meta({
        description:
          "Hosts of the VirtualService, e.g. [game-service] or [game.example.com] for gateway traffic. Defaults to the service name.",
        "x-kubernetes-list-type": "set",
      }),
    gateways: z
      .array(gateway)
      .min(1)
      .max(16)
      .default([...CANARY_DEFAULTS.gateways])
      .meta({
        description:
          "Istio gateways the VirtualService binds to, as [namespace/]name; 'mesh' means sidecar-to-sidecar traffic inside the mesh. Defaults to [mesh].",
        "x-kubernetes-list-type": "set",
      }),
  })
  .describe("The Service whose traffic the canary shifts, and how Istio reaches it.");

export const canarySchema = withRules(
  z.object({
    service: serviceSchema,
    stepWeight: z
      .int()
      .min(1)
      .default(CANARY_DEFAULTS.stepWeight)
      .describe("Percent of traffic moved to the canary at each step that passes, e.g. 10. Defaults to 10."),
    maxWeight: z
      .int()
      .min(1)
      .default(CANARY_DEFAULTS.maxWeight)
      .describe(
        "Canary traffic percent at which the canary is promoted (its template copied to primary and traffic returned to primary), at most 100. Defaults to 50.",
      ),
    interval: boundedDuration(
      "canary.interval",
      "Time between canary steps; each step checks the canary's burn rate over this interval, e.g. 1m. h, m and s units, 10s to 24h; make it at least four Prometheus scrape intervals, or a check reads too few samples. Defaults to 1m.",
      { min: "10s", max: "24h" },
    ).default(CANARY_DEFAULTS.interval),
    maxBurnRate: z
      .number()
      .gt(0)
      .max(1000)
      .default(CANARY_DEFAULTS.maxBurnRate)
      .describe(
        "A step fails when the canary's burn rate (its error ratio divided by the error budget 1 - objective) exceeds this, e.g. 2 = burning budget twice as fast as the window allows. Defaults to 2.",
      ),
    failureLimit: z
      .int()
      .min(1)
      .max(100)
      .default(CANARY_DEFAULTS.failureLimit)
      .describe(
        "Failed checks after which the canary is rolled back: all traffic to primary (after primary has the replicas for it) and the canary scaled down. Steps without data neither pass nor fail. Defaults to 3.",
      ),
    minEvents: minEvents(
      "canary.minEvents",
      "Fewest canary events a check needs to reach a verdict; fewer means the step waits. 1 to 1000000. Defaults to policy.minEvents.",
    ).optional(),
    slos: z
      .array(dnsLabel("canary.slos[]", "Name of an SLO in slos."))
      .min(1)
      .max(10)
      .optional()
      .meta({
        description: "Names of the SLOs (from slos) whose burn rate gates the canary, e.g. [availability]. Defaults to all SLOs.",
        "x-kubernetes-list-type": "set",
      }),
  }),
  [
    {
      rule: "self.stepWeight <= self.maxWeight",
      message: "canary.stepWeight must not exceed canary.maxWeight.",
      fieldPath: ".stepWeight",
      check: (c) => c.stepWeight <= c.maxWeight,
    },
    {
      rule: "self.maxWeight <= 100",
      message: "canary.maxWeight must be at most 100 (percent of traffic).",
      fieldPath: ".maxWeight",
      check: (c) => c.maxWeight <= 100,
    },
  ],
  {
    description:
      "Progressive delivery through Istio: each new revision of the target runs as a canary beside <name>-primary; traffic moves by stepWeight every interval while the canary's burn rate stays under maxBurnRate, and the canary is promoted at maxWeight. No canary starts while rollouts are frozen.",
  },
);

export type Canary = z.output<typeof canarySchema>;
