import { describe, expect, it } from "vitest";
import type { PerformanceProfile } from "../api/types.ts";
import type { Deployment, ReplicaSet } from "../workload/deployment.ts";
import { validateCachedSpec, validateSpec } from "../api/validate.ts";
import { cachedDeployment, cachedProfile, cachedReplicaSet, LAST_APPLIED_ANNOTATION, withoutManagedFields } from "./cached.ts";
import { promotePrimary } from "./canary.ts";
import type { KubeClient } from "./client.ts";
import { rollBackDeployment, withPodTemplate } from "./deployments.ts";

// Objects as the API server returns them: managedFields from a server-side apply and from the
// controller's status writes, kubectl's last-applied record, defaulted pod specs.

const managedFields = [
  { manager: "kubectl-client-side-apply", operation: "Update", apiVersion: "apps/v1", time: "2026-11-01T00:00:00Z", fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:replicas": {} } } },
  { manager: "kube-controller-manager", operation: "Update", apiVersion: "apps/v1", subresource: "status", fieldsV1: { "f:status": { "f:replicas": {} } } },
];

const podSpec = {
  containers: [{ name: "app", image: "registry.example/app:1", imagePullPolicy: "IfNotPresent", resources: {}, terminationMessagePath: "/dev/termination-log" }],
  dnsPolicy: "ClusterFirst",
  restartPolicy: "Always",
};

function deployment(annotations: Record<string, string>): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "game-service", namespace: "games", uid: "uid-d", resourceVersion: "42", generation: 3, labels: { app: "game-service" }, annotations, managedFields },
    spec: {
      replicas: 2,
      paused: false,
      selector: { matchLabels: { app: "game-service" } },
      template: { metadata: { labels: { app: "game-service", "tollgate.dev/track": "canary" }, annotations: { "prometheus.io/scrape": "true" } }, spec: podSpec },
      ...{ strategy: { type: "RollingUpdate" }, revisionHistoryLimit: 10 },
    },
    status: {
      observedGeneration: 3,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      conditions: [{ type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: 'ReplicaSet "game-service-abc" has successfully progressed.' }],
    } as Deployment["status"],
  };
}

function replicaSet(): ReplicaSet {
  return {
    metadata: {
      name: "game-service-abc",
      namespace: "games",
      uid: "uid-rs",
      resourceVersion: "40",
      labels: { app: "game-service", "pod-template-hash": "abc" },
      annotations: { "deployment.kubernetes.io/revision": "2" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "game-service", uid: "uid-d", controller: true }],
      managedFields,
    },
    spec: { replicas: 2, template: { metadata: { labels: { app: "game-service", "pod-template-hash": "abc" } }, spec: podSpec } },
    status: { replicas: 2, readyReplicas: 2 },
  };
}

describe("cachedProfile", () => {
  it("drops managedFields and kubectl's copy of the spec, keeping spec, status, finalizers and every other annotation", () => {
    const p: PerformanceProfile = {
      apiVersion: "tollgate.dev/v1alpha1",
      kind: "PerformanceProfile",
      metadata: {
        name: "game",
        namespace: "games",
        uid: "uid-p",
        resourceVersion: "7",
        generation: 2,
        finalizers: ["tollgate.dev/cleanup"],
        annotations: { [LAST_APPLIED_ANNOTATION]: '{"apiVersion":"tollgate.dev/v1alpha1"}', "tollgate.dev/override-freeze": "by=sre" },
        managedFields,
      },
      spec: { targetRef: { name: "game-service" }, slos: [] },
      status: { phase: "Healthy", observedGeneration: 2 },
    };
    const before = structuredClone(p);
    const cached = cachedProfile(p);
    expect(cached).toEqual({
      ...p,
      metadata: { name: "game", namespace: "games", uid: "uid-p", resourceVersion: "7", generation: 2, finalizers: ["tollgate.dev/cleanup"], annotations: { "tollgate.dev/override-freeze": "by=sre" } },
    });
    expect(p).toEqual(before); // the object the watch delivered is not changed
  });

  it("keeps a valid spec in its parsed, frozen form, the one every pass reads, and an invalid one as written", () => {
    const written = { targetRef: { name: "game-service" }, slos: [{ name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" as const } } }] };
    const cached = cachedProfile({ metadata: { name: "game", namespace: "games" }, spec: written });
    const parsed = validateSpec(written);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(cached.spec).toEqual(parsed.spec);
    expect(cached.spec).not.toBe(written);
    expect(Object.isFrozen(cached.spec?.targetRef)).toBe(true);
    // A pass validating the cached spec gets that same object back, parsed once.
    expect(validateCachedSpec(cached.spec)).toEqual({ ok: true, spec: cached.spec });
    expect((validateCachedSpec(cached.spec) as { spec: unknown }).spec).toBe(cached.spec);

    const invalid = { targetRef: { name: "game-service" }, slos: [] };
    expect(cachedProfile({ metadata: { name: "game", namespace: "games" }, spec: invalid }).spec).toBe(invalid);
  });

  it("keeps every condition as written (its spellings shared between profiles), and a status without conditions as it is", () => {
    const at = "2026-11-30T10:00:00Z";
    const conditions = [
      { type: "Ready", status: "True" as const, reason: "BudgetHealthy", message: "budget 12 % consumed", lastTransitionTime: at, observedGeneration: 3 },
      { type: "MetricsAvailable", status: "True" as const, reason: "Measured", message: "2 SLOs measured", lastTransitionTime: at },
      { type: "Frozen", status: "False" as const, reason: "BudgetHealthy", message: "", lastTransitionTime: "2026-11-29T08:00:00Z" },
    ];
    // As two watch events deliver them: parsed from JSON apart.
    const one = JSON.parse(JSON.stringify({ metadata: { name: "a", namespace: "games" }, status: { phase: "Healthy", conditions } })) as PerformanceProfile;
    const two = JSON.parse(JSON.stringify({ metadata: { name: "b", namespace: "games" }, status: { phase: "Healthy", conditions } })) as PerformanceProfile;
    const before = structuredClone(one);
    expect(cachedProfile(one).status).toEqual({ phase: "Healthy", conditions });
    expect(cachedProfile(two).status).toEqual({ phase: "Healthy", conditions });
    expect(one).toEqual(before);
    expect(cachedProfile({ metadata: { name: "c" }, status: { phase: "Healthy" } }).status).toEqual({ phase: "Healthy" });
    expect(cachedProfile({ metadata: { name: "c" } })).toEqual({ metadata: { name: "c" } });
  });
});

describe("cachedDeployment", () => {
  it("keeps what the policy, the canary and a new primary read: labels, revision and Tollgate's annotations, template labels, replicas, selector, strategy, status counts", () => {
    const d = deployment({ [LAST_APPLIED_ANNOTATION]: "{}", "deployment.kubernetes.io/revision": "2", "tollgate.dev/frozen-by": "game" });
    const cached = cachedDeployment(d);
    expect(cached.metadata).toEqual({ name: "game-service", namespace: "games", uid: "uid-d", resourceVersion: "42", generation: 3, labels: { app: "game-service" }, annotations: { "deployment.kubernetes.io/revision": "2", "tollgate.dev/frozen-by": "game" } });
    expect(cached.spec).toEqual({
      replicas: 2,
      paused: false,
      selector: { matchLabels: { app: "game-service" } },
      template: { metadata: { labels: { app: "game-service", "tollgate.dev/track": "canary" }, annotations: { "prometheus.io/scrape": "true" } } },
      strategy: { type: "RollingUpdate" },
      revisionHistoryLimit: 10,
    });
    expect(cached.status).toEqual({ observedGeneration: 3, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    expect(d.status).toHaveProperty("conditions"); // the object the watch delivered is not changed
  });

  it("keeps the annotations map, empty, when kubectl's record was its only entry: a promotion then adds to it rather than replacing it", async () => {
    const cached = cachedDeployment(deployment({ [LAST_APPLIED_ANNOTATION]: "{}" }));
    expect(cached.metadata?.annotations).toEqual({});
    const patches: unknown[] = [];
    const client = { patch: async (_t: unknown, _ns: unknown, _n: unknown, patch: unknown) => void patches.push(patch) } as unknown as KubeClient;
    await promotePrimary(client, cached, [replicaSet()], "abc", 2);
    const ops = patches[0] as Array<{ op: string; path: string }>;
    expect(ops.map((o) => `${o.op} ${o.path}`)).not.toContain("add /metadata/annotations");
  });
});

describe("cachedReplicaSet", () => {
  it("keeps metadata and the template's labels, not the pod spec or status; a rollback reads the pod spec whole when it writes it", async () => {
    const rs = replicaSet();
    const cached = cachedReplicaSet(rs);
    const { managedFields: _, ...meta } = rs.metadata!;
    expect(cached).toEqual({ metadata: meta, spec: { replicas: 2, template: { metadata: { labels: { app: "game-service", "pod-template-hash": "abc" } } } } });
    expect(rs).toEqual(replicaSet()); // the object the watch delivered is not changed

    const patches: unknown[] = [];
    const reads: string[] = [];
    let stored: ReplicaSet | undefined = replicaSet();
    const client = {
      find: async (_t: unknown, ns: string, name: string) => (reads.push(`${ns}/${name}`), stored),
      patch: async (_t: unknown, _ns: unknown, _n: unknown, patch: unknown) => void patches.push(patch),
    } as unknown as KubeClient;
    const source = await withPodTemplate(client, [cached], "abc");
    await rollBackDeployment(client, cachedDeployment(deployment({})), source, "abc");
    expect(reads).toEqual(["games/game-service-abc"]);
    const replace = (patches[0] as Array<{ op: string; path: string; value?: unknown }>).find((o) => o.path === "/spec/template");
    expect(replace?.value).toEqual({ metadata: { labels: { app: "game-service" } }, spec: podSpec });

    // Deleted and created again under its name since it was cached: not the revision the plan chose.
    stored = { ...replicaSet(), metadata: { ...replicaSet().metadata, uid: "uid-other" } };
    expect(await withPodTemplate(client, [cached], "abc")).toEqual([]);
    stored = undefined;
    expect(await withPodTemplate(client, [cached], "abc")).toEqual([]);
    expect(await withPodTemplate(client, [cached], "zzz")).toEqual([]);
    expect(reads).toHaveLength(3);
  });
});

describe("withoutManagedFields", () => {
  it("returns an object without managedFields as it is, and otherwise drops only them", () => {
    const plain = { metadata: { name: "a", labels: { x: "1" } }, spec: { y: 1 } };
    expect(withoutManagedFields(plain)).toBe(plain);
    expect(withoutManagedFields({ ...plain, metadata: { ...plain.metadata, managedFields } })).toEqual(plain);
  });
});
