import { describe, expect, it } from "vitest";
import { scaledDeployment, serviceHost } from "./names.ts";

const targetRef = { apiVersion: "apps/v1" as const, kind: "Deployment" as const, name: "game" };

describe("names", () => {
  it("names the Istio objects after the canary's Service, else after the target", () => {
    expect(serviceHost({ targetRef, canary: undefined })).toBe("game");
    expect(serviceHost({ targetRef, canary: { service: { name: "game-service" } } as never })).toBe("game-service");
  });

  it("scales the primary in canary mode, the target in guard mode", () => {
    expect(scaledDeployment({ targetRef, canary: undefined })).toBe("game");
    expect(scaledDeployment({ targetRef, canary: {} as never })).toBe("game-primary");
  });
});
