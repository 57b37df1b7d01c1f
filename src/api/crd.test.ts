import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { crdYaml, toStructural } from "./crd.ts";

describe("CRD generation", () => {
  it("matches the committed crds/ file (run `npm run crds` after changing src/api)", () => {
    const committed = readFileSync(new URL("../../crds/tollgate.dev_performanceprofiles.yaml", import.meta.url), "utf8");
    expect(committed).toBe(crdYaml());
  });

  it("makes zod's output structural", () => {
    expect(
      toStructural({
        type: "object",
        properties: { a: { type: "integer", minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER } },
        additionalProperties: false,
      }),
    ).toEqual({ type: "object", properties: { a: { type: "integer" } } });
    expect(toStructural({ type: "object", properties: { a: { type: "string" } }, additionalProperties: {} })).toEqual({
      type: "object",
      properties: { a: { type: "string" } },
      "x-kubernetes-preserve-unknown-fields": true,
    });
    expect(toStructural({ type: "object", additionalProperties: { type: "string" } })).toEqual({
      type: "object",
      additionalProperties: { type: "string" },
    });
  });

  it("never emits $ref, nor additionalProperties beside properties", () => {
    const walk = (node: unknown): void => {
      if (!node || typeof node !== "object") return;
      const o = node as Record<string, unknown>;
      expect(o).not.toHaveProperty("$ref");
      if ("properties" in o) expect(o).not.toHaveProperty("additionalProperties");
      Object.values(o).forEach(walk);
    };
    walk(JSON.parse(JSON.stringify(crdYaml())));
  });
});
