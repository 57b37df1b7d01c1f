import { describe, expect, it } from "vitest";
import type { Deployment } from "../workload/deployment.ts";
import { primaryDeployment, trackTemplate } from "./primary.ts";

const target: Deployment = {
  metadata: { name: "game-service", namespace: "games", uid: "u1", labels: { app: "game-service", "tollgate.dev/frozen": "true" }, annotations: { "tollgate.dev/frozen-by": "game" } },
  spec: { replicas: 3, selector: { matchLabels: { app: "game-service" } }, template: { metadata: { labels: { app: "game-service" } } } },
};
const rsTemplate = { metadata: { labels: { app: "game-service", "pod-template-hash": "bbb", "tollgate.dev/track": "canary" } }, spec: { containers: [{ name: "app", image: "game:2" }] } };

describe("primaryDeployment", () => {
  const p = primaryDeployment(target, rsTemplate, { replicas: 3, templateHash: "bbb", revision: 2, profileName: "game" });

  it("runs the passed template on the primary track, selecting only primary pods", () => {
    expect(p.metadata.name).toBe("game-service-primary");
    expect(p.spec?.selector).toEqual({ matchLabels: { app: "game-service", "tollgate.dev/track": "primary" } });
    expect(p.spec?.template?.metadata?.labels).toEqual({ app: "game-service", "tollgate.dev/track": "primary" });
    expect(p.spec?.template?.spec).toEqual({ containers: [{ name: "app", image: "game:2" }] });
    expect(p.spec?.replicas).toBe(3);
  });
  it("records its source and is owned by the target, never frozen", () => {
    expect(p.metadata.annotations).toEqual({ "tollgate.dev/source-template-hash": "bbb", "tollgate.dev/source-revision": "2" });
    expect(p.metadata.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "Deployment", name: "game-service", uid: "u1", blockOwnerDeletion: false }]);
    expect(p.metadata.labels).toEqual({ app: "game-service", "app.kubernetes.io/managed-by": "tollgate", "tollgate.dev/profile": "game" });
  });
  it("leaves the ReplicaSet's template untouched", () => {
    trackTemplate(rsTemplate, "primary");
    expect(rsTemplate.metadata.labels["pod-template-hash"]).toBe("bbb");
  });
});
