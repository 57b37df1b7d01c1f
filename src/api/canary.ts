import { z } from "zod";
import { distinct, withRules } from "./cel.ts";
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

// A DNS label: 1 to 63 lower-case letters, digits and dashes, starting and ending with a letter or digit.
const LABEL = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";
/** A lower-case DNS name; `*` only as the whole first label; no trailing dot. No backslashes: CEL reads the same text. */
export const CANARY_HOST_PATTERN = `^([*][.])?${LABEL}([.]${LABEL})*$`;
/**
 * `name` (a label: Istio reads a bare name with dots, `name.namespace`, as another namespace's
 * gateway) or `namespace/name` (a Kubernetes object name, dots allowed); `mesh` is a name.
 */
export const CANARY_GATEWAY_PATTERN = `^(${LABEL}|${LABEL}/${LABEL}([.]${LABEL})*)$`;
const hostRe = new RegExp(CANARY_HOST_PATTERN);
const gatewayRe = new RegExp(CANARY_GATEWAY_PATTERN);

const hostMessage =
  "canary.service.hosts[] must be a lower-case DNS name such as game-service or game.example.com: labels of at most 63 letters, digits and dashes, a wildcard only as the whole first label (*.example.com), no trailing dot.";
const gatewayMessage =
  "canary.service.gateways[] must be mesh, the name of a gateway in the profile's namespace, or namespace/name; a name without a namespace has no dots (Istio reads name.namespace as a gateway in another namespace).";

// What the CRD can refuse without the profile's namespace or the operator's flags; which hosts and
// gateways a profile may name is the operator's check (src/traffic/scope.ts).
const host = withRules(
  z.string().min(1).max(253).regex(hostRe, hostMessage),
  [{ rule: `self.matches('${CANARY_HOST_PATTERN}')`, message: hostMessage, check: (s: string) => hostRe.test(s) }],
  { description: "A host of the VirtualService." },
);

const gateway = withRules(
  z.string().min(1).max(253).regex(gatewayRe, gatewayMessage),
  [{ rule: `self.matches('${CANARY_GATEWAY_PATTERN}')`, message: gatewayMessage, check: (s: string) => gatewayRe.test(s) }],
  { description: "A gateway of the VirtualService: mesh, name, or namespace/name." },
);

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
      .refine(...distinct("canary.service.hosts"))
      .optional()
      .meta({
        description:
          "Hosts of the VirtualService, e.g. [game-service] or [game.example.com] for gateway traffic: lower-case DNS names, a wildcard only as the whole first label. Defaults to the service name. By default the operator lets a profile name only its own Service: <name>, <name>.<namespace>, <name>.<namespace>.svc and <name>.<namespace>.svc.cluster.local; any other host must match one of the operator's --allowed-host patterns, or the profile is refused (Ready=False, HostNotAllowed) and nothing is written for it.",
        "x-kubernetes-list-type": "set",
      }),
    gateways: z
      .array(gateway)
      .min(1)
      .max(16)
      .refine(...distinct("canary.service.gateways"))
      .default([...CANARY_DEFAULTS.gateways])
      .meta({
        description:
          "Istio gateways the VirtualService binds to: mesh (sidecar-to-sidecar traffic inside the mesh), the name of a gateway in the profile's namespace, or namespace/name. By default the operator lets a profile bind mesh and gateways in its own namespace; a gateway in another namespace must be one of the operator's --allowed-gateway, or the profile is refused (Ready=False, GatewayNotAllowed) and nothing is written for it. Defaults to [mesh].",
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
      .refine(...distinct("canary.slos"))
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
