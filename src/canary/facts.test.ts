import { describe, expect, it } from "vitest";
import type { Deployment, ReplicaSet } from "../workload/deployment.ts";
import { canarySpec, iso, at } from "./test-builders.ts";
import { checkDue, hasCanaryTrack, primaryFacts, servingState, targetFacts } from "./facts.ts";

const uid = "u-target";
function target(over: { generation?: number; observed?: number; replicas?: number; ready?: number; updated?: number; revision?: string; labelled?: boolean; paused?: boolean } = {}): Deployment {
  return {
    metadata: { name: "game-service", namespace: "games", uid, generation: over.generation ?? 2, annotations: { "deployment.kubernetes.io/revision": over.revision ?? "2" } },
    spec: {
      replicas: over.replicas ?? 3,
      paused: over.paused,
      template: { metadata: { labels: { app: "game-service", ...(over.labelled === false ? {} : { "tollgate.dev/track": "canary" }) } } },
    },
    status: {
      observedGeneration: over.observed ?? 2,
      replicas: over.replicas ?? 3,
      updatedReplicas: over.updated ?? 3,
      readyReplicas: over.ready ?? 3,
      availableReplicas: over.ready ?? 3,
    },
  };
}
function rs(hash: string, revision: string, labelled = true): ReplicaSet {
  return {
    metadata: {
      name: `game-service-${hash}`,
      namespace: "games",
      labels: { "pod-template-hash": hash },
      annotations: { "deployment.kubernetes.io/revision": revision },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "game-service", uid, controller: true }],
    },
    spec: { template: { metadata: { labels: { app: "game-service", "pod-template-hash": hash, ...(labelled ? { "tollgate.dev/track": "canary" } : {}) } } } },
  };
}

describe("targetFacts", () => {
  it("reads the live ReplicaSet's hash and the current template's ready pods", () => {
    expect(targetFacts(target({ ready: 2 }), [rs("aaa", "1"), rs("bbb", "2")])).toEqual({
      ok: true,
      facts: { templateHash: "bbb", revision: 2, desiredReplicas: 3, readyReplicas: 2, rolloutComplete: false },
    });
  });
  it("waits until the controller has observed the spec, rather than counting the pods of the template before it", () => {
    expect(targetFacts(target({ generation: 3, observed: 2 }), [rs("bbb", "2")])).toEqual({
      ok: false,
      message: "the Deployment controller has not yet observed generation 3 of game-service (it reports 2)",
    });
  });
  it("waits for a ReplicaSet of the current revision, and says when the Deployment is paused", () => {
    expect(targetFacts(target({ revision: "3", paused: true }), [rs("bbb", "2")])).toEqual({ ok: false, message: "game-service has no ReplicaSet for its current template yet (it is paused)" });
  });
  it("waits until the live ReplicaSet carries the canary track label", () => {
    const f = targetFacts(target(), [rs("bbb", "2", false)]);
    expect(f.ok).toBe(false);
    expect(!f.ok && f.message).toContain("tollgate.dev/track=canary");
  });
  it("knows a template without the label", () => {
    expect(hasCanaryTrack(target())).toBe(true);
    expect(hasCanaryTrack(target({ labelled: false }))).toBe(false);
  });
});

describe("primaryFacts", () => {
  it("takes the template hash from the source annotation", () => {
    const p: Deployment = { ...target(), metadata: { name: "game-service-primary", generation: 1, annotations: { "tollgate.dev/source-template-hash": "bbb" } }, status: { ...target().status, observedGeneration: 1 } };
    expect(primaryFacts(p)).toEqual({ templateHash: "bbb", desiredReplicas: 3, readyReplicas: 3, rolloutComplete: true });
  });
});

describe("checkDue", () => {
  const spec = canarySpec({ interval: "1m" });
  const running = { phase: "Progressing" as const, weight: 10, step: 1, failedChecks: 0, templateHash: "bbb", lastCheck: iso(0) };
  it("is due one interval after the last check, not before", () => {
    expect(checkDue(spec.canary!, running, "bbb", at(0.99))).toBe(false);
    expect(checkDue(spec.canary!, running, "bbb", at(1))).toBe(true);
  });
  it("is never due without a running canary of the target's template with traffic", () => {
    expect(checkDue(spec.canary!, { ...running, phase: "Promoting" }, "bbb", at(5))).toBe(false);
    expect(checkDue(spec.canary!, running, "ccc", at(5))).toBe(false);
    expect(checkDue(spec.canary!, { ...running, step: 0, weight: 0 }, "bbb", at(5))).toBe(false);
    expect(checkDue(spec.canary!, undefined, "bbb", at(5))).toBe(false);
  });
});

describe("servingState", () => {
  const state = { name: "game-service", revision: 5, templateHash: "new", rolloutComplete: true, paused: true, frozen: true, revisions: [{ revision: 5, templateHash: "new", replicaSet: "rs5" }] };
  const primary = (annotations: Record<string, string> | undefined): Deployment => ({
    metadata: { name: "game-service-primary", generation: 3, annotations },
    spec: { replicas: 2 },
    status: { observedGeneration: 3, replicas: 2, updatedReplicas: 1, availableReplicas: 2 },
  });

  it("judges primary's revision, keeping the target's freeze and rollback targets", () => {
    expect(servingState(state, primary({ "tollgate.dev/source-template-hash": "old", "tollgate.dev/source-revision": "4" }))).toEqual({
      ...state,
      revision: 4,
      templateHash: "old",
      rolloutComplete: false,
    });
  });
  it("is the target's own state until primary exists", () => {
    expect(servingState(state, undefined)).toBe(state);
    expect(servingState(state, primary(undefined))).toBe(state);
  });
});
