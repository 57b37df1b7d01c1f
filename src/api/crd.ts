import { z } from "zod";
import { stringify } from "yaml";
import { GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION } from "./meta.ts";
import { profileSpecSchema, profileStatusSchema } from "./profile.ts";

type JsonSchema = { [key: string]: unknown };

// Keys a reader of the YAML wants first; the rest keep zod's order.
const KEY_ORDER = ["type", "description", "default"];

function ordered(o: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const k of KEY_ORDER) if (k in o) out[k] = o[k];
  for (const [k, v] of Object.entries(o)) if (!(k in out)) out[k] = v;
  return out;
}

/**
 * Turns zod's OpenAPI 3.0 output into a structural schema the API server accepts: no `$ref`, no
 * `additionalProperties: false` beside `properties`, open objects marked preserve-unknown-fields,
 * and none of zod's safe-integer bounds (noise in `kubectl explain`). Keys inside `default` values
 * and `properties` are data and keep their order; schema nodes get type and description first.
 */
export function toStructural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toStructural);
  if (!node || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node as JsonSchema)) {
    if (key === "$schema" || key === "$ref" || key === "id") continue;
    if (key === "default" || key === "enum" || key === "x-kubernetes-validations") out[key] = value;
    else if (key === "properties" && value && typeof value === "object")
      out[key] = Object.fromEntries(Object.entries(value as JsonSchema).map(([k, v]) => [k, toStructural(v)]));
    else out[key] = toStructural(value);
  }
  // zod spells out RFC 3339 as a long regex; the API server checks format date-time itself.
  if (out.format === "date-time") delete out.pattern;
  if (out.type === "integer") {
    if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
    if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  }
  const ap = out.additionalProperties;
  if (out.properties !== undefined && ap !== undefined) {
    delete out.additionalProperties;
    if (ap !== false) out["x-kubernetes-preserve-unknown-fields"] = true;
  } else if (ap && typeof ap === "object" && Object.keys(ap).length === 0) {
    delete out.additionalProperties;
    out["x-kubernetes-preserve-unknown-fields"] = true;
  }
  return "type" in out || "description" in out ? ordered(out) : out;
}

function openApi(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", unrepresentable: "throw", reused: "inline" });
  return toStructural(json) as JsonSchema;
}

export const printerColumns = [
  { name: "Target", type: "string", jsonPath: ".spec.targetRef.name" },
  { name: "Phase", type: "string", jsonPath: ".status.phase" },
  { name: "Budget", type: "number", jsonPath: ".status.budget.consumedPercent", description: "Error budget consumed by the worst SLO, percent." },
  { name: "Burn", type: "number", jsonPath: ".status.budget.worstBurnRate", description: "Highest short-window burn rate." },
  { name: "Canary", type: "string", jsonPath: ".status.canary.phase", description: "Phase of the current or last canary." },
  { name: "Weight", type: "integer", jsonPath: ".status.canary.weight", description: "Percent of traffic on the canary." },
  { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

/** The PerformanceProfile CustomResourceDefinition, generated from the zod schema. */
export function buildCrd(): JsonSchema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: SHORT_NAMES, categories: ["tollgate"] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description:
                "PerformanceProfile declares the SLOs of one workload and the error-budget policy, canary, traffic policy and autoscaling Tollgate enforces for it.",
              properties: {
                apiVersion: { type: "string", description: "APIVersion of this object." },
                kind: { type: "string", description: "Kind of this object." },
                metadata: { type: "object" },
                spec: openApi(profileSpecSchema),
                status: openApi(profileStatusSchema),
              },
              required: ["spec"],
            },
          },
        },
      ],
    },
  };
}

// YAML 1.1 output quotes strings such as `on` and `yes` that Go's YAML 1.1 readers would take for booleans.
export function crdYaml(): string {
  return "# Generated by `tollgate crds` from src/api; do not edit.\n" + stringify(buildCrd(), { lineWidth: 0, version: "1.1" });
}
