import { describe, expect, it } from "vitest";
import { gameSpec } from "../../policy/test-builders.ts";
import { governingProfile } from "./claim.ts";
import { profile } from "./test-builders.ts";

describe("governingProfile", () => {
  const spec = gameSpec();
  it("is the profile created first, whatever the order the cache lists them in", () => {
    const first = profile("zeta", spec, { created: "2026-11-01T00:00:00Z" });
    const second = profile("alpha", spec, { created: "2026-11-02T00:00:00Z" });
    expect(governingProfile([second, first], "games", "game-service")).toBe("zeta");
    expect(governingProfile([first, second], "games", "game-service")).toBe("zeta");
  });

  it("breaks a tie of creation times by name, and keeps a profile being deleted until it is gone", () => {
    const a = profile("a", spec, { deleting: true });
    const b = profile("b", spec);
    expect(governingProfile([b, a], "games", "game-service")).toBe("a");
  });

  it("counts only profiles naming that Deployment in that namespace", () => {
    const other = gameSpec();
    other.targetRef.name = "other";
    const elsewhere = { ...profile("early", spec, { created: "2026-10-01T00:00:00Z" }), metadata: { ...profile("early", spec).metadata, namespace: "shop", creationTimestamp: "2026-10-01T00:00:00Z" } };
    expect(governingProfile([profile("x", other, { created: "2026-10-01T00:00:00Z" }), elsewhere, profile("late", spec)], "games", "game-service")).toBe("late");
  });
});
