import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { freezePolicyYaml } from "./freeze-policy.ts";

describe("freeze admission policy", () => {
  it("matches the committed crds/ file (run `npm run crds` after changing it)", () => {
    const committed = readFileSync(new URL("../../crds/tollgate-freeze-policy.yaml", import.meta.url), "utf8");
    expect(committed).toBe(freezePolicyYaml());
  });
});
