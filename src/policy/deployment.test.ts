import { describe, expect, it } from "vitest";
import type { DeploymentState } from "../workload/deployment.ts";
import { revisionWithTemplate, type DeploymentFacts } from "./deployment.ts";

describe("DeploymentFacts", () => {
  it("is what workload's DeploymentState already is, so the controller passes that through", () => {
    const state: DeploymentState = {
      name: "game-service",
      revision: 3,
      templateHash: "v3",
      rolloutComplete: true,
      paused: false,
      frozen: false,
      revisions: [
        { revision: 3, templateHash: "v3", replicaSet: "game-service-v3" },
        { revision: 1, templateHash: "v1", replicaSet: "game-service-v1" },
      ],
    };
    const facts: DeploymentFacts = state;
    expect(revisionWithTemplate(facts, "v1")).toMatchObject({ revision: 1, templateHash: "v1" });
    expect(revisionWithTemplate(facts, "v2")).toBeUndefined();
  });
});
