import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { ProfileSpecInput } from "../../api/profile.ts";
import type { ProfileStatus } from "../../api/status.ts";
import type { PerformanceProfile } from "../../api/types.ts";
import type { KubeClient } from "../../kube/client.ts";
import type { Deployment, ReplicaSet } from "../../workload/deployment.ts";
import type { KubeObject } from "../../kube/types.ts";
import { silentLogger } from "../../log.ts";
import { SloMetrics } from "../../metrics/slo-metrics.ts";
import { Notifier } from "../../notify/notifier.ts";
import { PrometheusClient, PrometheusError } from "../../prometheus/client.ts";
import { PrometheusConnections } from "../../prometheus/connections.ts";
import { SyntaxChecker } from "../../prometheus/syntax-check.ts";
import { EventRecorder } from "../../runtime/events.ts";
import { DeploymentActuator } from "../../kube/actuators/deployment.ts";
import { FinalizerActuator } from "../../kube/actuators/finalizer.ts";
import { HpaActuator } from "../../kube/actuators/hpa.ts";
import { IstioActuator } from "../../kube/actuators/istio.ts";
import { RulesActuator } from "../../kube/actuators/rules.ts";
import { DriftApplier } from "../../kube/owned.ts";
import type { DestinationRule, HorizontalPodAutoscaler, VirtualService } from "../../traffic/index.ts";
import { TargetIndex } from "./mappings.ts";
import { errorKind, type ManagedIndex } from "./observe.ts";
import { StatusRecorder } from "./record.ts";
import { profileReconciler } from "./reconcile.ts";
import { informer } from "./test-builders.ts";
import { untilSlot } from "./cadence.ts";

const HARNESS_NOW = "2025-06-01T12:00:00Z";

describe("errorKind", () => {
  it("labels the client's own failure messages by kind", async () => {
    const unreachable = await new PrometheusClient({ url: "http://127.0.0.1:1", retries: 0 }).query("up").catch((e: unknown) => e);
    expect(errorKind((unreachable as PrometheusError).message)).toBe("unreachable");
    expect(errorKind(new PrometheusError("timeout", "Prometheus at http://p:9090 did not answer within 10000 ms").message)).toBe("timeout");
    expect(errorKind("Prometheus at http://p:9090 answered 500: boom")).toBe("server");
    expect(errorKind("Prometheus at http://p:9090 sent a malformed answer: the body is not JSON")).toBe("bad_response");
    expect(errorKind("Prometheus answered 2 series to the 5m error-ratio query of spec.slos[0].indicator.istio (SLO availability), which aggregates to one; no reading is taken from it")).toBe("bad_response");
  });
});

// The reconciler with everything around it faked in memory except the Prometheus HTTP API, which a
// local server plays: what it answers is the subject of these tests.

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A Prometheus whose /api/v1/query answers `answer(query)` as the HTTP body; format_query accepts everything. */
async function prometheus(answer: (query: string) => string | Promise<string>): Promise<string> {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      const query = new URLSearchParams(body).get("query") ?? "";
      const text = req.url === "/api/v1/format_query" ? JSON.stringify({ status: "success", data: query }) : await answer(query);
      res.writeHead(200, { "Content-Type": "application/json" }).end(text);
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const vector = (value: string) => JSON.stringify({ status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1, value] }] } });

interface Call {
  verb: "apply" | "patch" | "create";
  kind: string;
  obj: unknown;
  subresource?: string;
}

/** Reconciles `spec` on Deployment game-service once per call, against the Prometheus at `url`; records every write. */
/** The harness's profile comes back on its slot of the interval (cadence.ts), at the harness's fixed now. */
function onSlot(intervalMs: number): number {
  return untilSlot("games/game", intervalMs, Date.parse(HARNESS_NOW));
}

function harness(
  url: string,
  spec: ProfileSpecInput,
  opts: {
    refuseDeployments?: () => boolean;
    refuseStatus?: () => boolean;
    /** Refuse writes of VirtualServices and DestinationRules: the routing of a canary fails. */
    refuseIstio?: () => boolean;
    /** Serve Istio's CRDs (empty informers of VirtualServices and DestinationRules), so a canary can run. */
    istio?: boolean;
    metrics?: SloMetrics;
    notifier?: Pick<Notifier, "deliver">;
    now?: () => Date;
  } = {},
) {
  const calls: Call[] = [];
  let resourceVersion = 1;
  const client: Pick<KubeClient, "apply" | "patch" | "create" | "delete"> = {
    delete: async () => true,
    apply: async <T extends KubeObject>(type: { kind: string }, obj: T, o: { subresource?: "status" } = {}) => {
      if (type.kind === "Deployment" && opts.refuseDeployments?.()) throw new Error("deployments.apps is forbidden: refused");
      if ((type.kind === "VirtualService" || type.kind === "DestinationRule") && opts.refuseIstio?.()) throw new Error("networking.istio.io is forbidden: refused");
      if (o.subresource === "status" && opts.refuseStatus?.()) throw new Error("connect ECONNREFUSED: the API server is down");
      calls.push({ verb: "apply", kind: type.kind, obj, subresource: o.subresource });
      // As the API server does: a status write returns the whole object, at a new resourceVersion.
      const stored = type.kind === "PerformanceProfile" ? { ...profile, status: (obj as PerformanceProfile).status } : obj;
      return { ...stored, metadata: { ...stored.metadata, resourceVersion: String(++resourceVersion) } } as T;
    },
    patch: async <T extends KubeObject>(type: { kind: string }, _ns: string | undefined, _name: string, patch: unknown) => {
      calls.push({ verb: "patch", kind: type.kind, obj: patch });
      return patch as T;
    },
    create: async <T extends KubeObject>(type: { kind: string }, obj: T) => {
      calls.push({ verb: "create", kind: type.kind, obj });
      return obj;
    },
  };
  const kube = client as KubeClient;
  const profile: PerformanceProfile = {
    apiVersion: "tollgate.dev/v1alpha1",
    kind: "PerformanceProfile",
    metadata: { name: "game", namespace: "games", uid: "uid-1", generation: 1, resourceVersion: "1" },
    spec,
  };
  const deployment: Deployment = {
    metadata: { name: "game-service", namespace: "games", uid: "uid-d", generation: 1, annotations: { "deployment.kubernetes.io/revision": "1" } },
    spec: { replicas: 2, selector: { matchLabels: { app: "game-service" } }, template: { metadata: { labels: { app: "game-service" } } } },
    status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 },
  };
  const logger = silentLogger();
  const profiles = informer([profile]);
  const applier = new DriftApplier(kube);
  const reconcile = profileReconciler({
    profiles,
    targets: new TargetIndex(profiles),
    deployments: informer([deployment]),
    replicaSets: informer<ReplicaSet, "owner">([]),
    hpas: informer<HorizontalPodAutoscaler, ManagedIndex>([]),
    ...(opts.istio ? { virtualServices: informer<VirtualService, ManagedIndex>([]), destinationRules: informer<DestinationRule, ManagedIndex>([]) } : {}),
    prometheus: new PrometheusConnections(async () => undefined, { url, timeoutMs: 2_000 }),
    syntax: new SyntaxChecker(),
    metrics: opts.metrics ?? new SloMetrics(new Registry()),
    logger,
    rulesDir: false,
    recorder: new StatusRecorder(kube),
    actuators: {
      finalizer: new FinalizerActuator(kube),
      deployment: new DeploymentActuator(kube),
      istio: new IstioActuator(applier),
      hpa: new HpaActuator(applier),
      rules: new RulesActuator({}),
    },
    events: new EventRecorder({ client: kube, instance: "test", logger }),
    notifier: opts.notifier ?? new Notifier({ readSecret: async () => undefined, logger }),
    now: opts.now ?? (() => new Date(HARNESS_NOW)),
  });
  const statuses = () => calls.filter((c) => c.kind === "PerformanceProfile" && c.subresource === "status").map((c) => (c.obj as PerformanceProfile).status as ProfileStatus);
  const condition = (type: string) => statuses().at(-1)?.conditions?.find((c) => c.type === type);
  /** Writes to the Deployment: a freeze, an unfreeze or a rollback. */
  const deploymentWrites = () => calls.filter((c) => c.kind === "Deployment");
  const events = () => calls.filter((c) => c.kind === "Event").map((c) => c.obj as { reason: string; type: string; message: string });
  return { reconcile: () => reconcile("games/game", new AbortController().signal), calls, statuses, condition, deploymentWrites, events };
}

const availability: ProfileSpecInput = {
  targetRef: { name: "game-service" },
  policy: { evaluationInterval: "30s", minEvents: 10 },
  slos: [{ name: "availability", objective: 99.5, window: "1h", indicator: { istio: { kind: "availability" } } }],
};

describe("profileReconciler against a malformed Prometheus answer", () => {
  it("writes MetricsAvailable=False naming what was wrong, takes no action, and measures again next cycle", async () => {
    let malformed = true;
    const url = await prometheus((query) => {
      if (malformed) return JSON.stringify({ status: "success", data: { resultType: "vector", result: { oops: true } } });
      return vector(query.startsWith("sum(increase") ? "100000" : "0.001");
    });
    const h = harness(url, availability);

    await expect(h.reconcile()).resolves.toEqual({ requeueAfterMs: onSlot(30_000) });
    const metrics = h.condition("MetricsAvailable");
    expect(metrics).toMatchObject({ status: "False", reason: "PrometheusUnavailable" });
    expect(metrics?.message).toContain("data.result is not an array");
    expect(metrics?.message).not.toContain("oops");
    expect(h.condition("Ready")).toMatchObject({ status: "False", reason: "MetricsUnavailable" });
    expect(h.deploymentWrites()).toEqual([]);

    malformed = false;
    await expect(h.reconcile()).resolves.toEqual({ requeueAfterMs: onSlot(30_000) });
    expect(h.condition("MetricsAvailable")).toMatchObject({ status: "True", reason: "Measured" });
    expect(h.condition("Ready")).toMatchObject({ status: "True", reason: "Reconciled" });
    expect(h.deploymentWrites()).toEqual([]);
  });

  it.each([
    ["an HTML page", "<html><body>Sign in to continue</body></html>", /not JSON/],
    ["an empty object", "{}", /status/],
    ["a value that is not a number", vector("abc"), /value\[1\] is not a number/],
    ["a matrix", JSON.stringify({ status: "success", data: { resultType: "matrix", result: [] } }), /matrix/],
  ])("never throws on %s: the condition says what was wrong", async (_name, body, says) => {
    const url = await prometheus(() => body);
    const h = harness(url, availability);
    await expect(h.reconcile()).resolves.toEqual({ requeueAfterMs: onSlot(30_000) });
    expect(h.condition("MetricsAvailable")?.status).toBe("False");
    expect(h.condition("MetricsAvailable")?.message).toMatch(says);
    expect(h.deploymentWrites()).toEqual([]);
  });
});

describe("profileReconciler on a spec stored before the CRD bounded it", () => {
  const healthy = (query: string) => vector(query.startsWith("sum(increase") ? "100000" : "0.001");
  const withInterval = (evaluationInterval: string): ProfileSpecInput => ({ ...availability, policy: { ...availability.policy, evaluationInterval } });

  it.each([
    ["1ms", "a hot loop"],
    ["25d", "past setTimeout's limit, which fires after 1 ms"],
    ["100y", "past setTimeout's limit, which fires after 1 ms"],
  ])("refuses evaluationInterval %s (%s): Ready=False InvalidSpec naming the field and the bounds, no requeue, no action", async (interval) => {
    const h = harness(await prometheus(healthy), withInterval(interval));
    await expect(h.reconcile()).resolves.toEqual({});
    expect(h.condition("Ready")).toMatchObject({
      status: "False",
      reason: "InvalidSpec",
      message:
        "spec.policy.evaluationInterval: policy.evaluationInterval must be a duration such as 30s, 5m, 1h30m or 30d (units ms, s, m, h, d, w, y, largest first) between 1s and 1h.",
    });
    expect(h.deploymentWrites()).toEqual([]);
  });

  it("requeues a profile at its bound on its slot of its evaluationInterval", async () => {
    const h = harness(await prometheus(healthy), withInterval("1h"));
    await expect(h.reconcile()).resolves.toEqual({ requeueAfterMs: onSlot(3_600_000) });
    expect(h.condition("Ready")).toMatchObject({ status: "True", reason: "Reconciled" });
  });
});

describe("profileReconciler on a ratio query that returns several series", () => {
  // errors and total select every workload's series without sum(...): at a 50 % error ratio the summed
  // answer would freeze game-service, whatever its own traffic.
  const unsummed: ProfileSpecInput = {
    targetRef: { name: "game-service" },
    policy: { evaluationInterval: "30s", minEvents: 10 },
    slos: [
      {
        name: "errors",
        objective: 99.5,
        window: "1h",
        indicator: {
          ratio: {
            errors: 'rate(http_requests_total{code=~"5.."}[{{window}}])',
            total: "rate(http_requests_total[{{window}}])",
          },
        },
      },
    ],
  };
  const answer = (query: string) => {
    if (query.startsWith("count(")) return vector(query.includes("5..") ? "3" : "6");
    return vector(query.startsWith("sum(") ? "100000" : "0.5");
  };

  it("reports Ready=False naming the field and the count, and never freezes", async () => {
    const url = await prometheus(answer);
    const h = harness(url, unsummed);
    await expect(h.reconcile()).resolves.toEqual({ requeueAfterMs: onSlot(30_000) });
    const ready = h.condition("Ready");
    expect(ready).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(ready?.message).toMatch(/^spec\.slos\[0\]\.indicator\.ratio\.errors: the query returned 3 series .*; wrap it in sum\(\.\.\.\) so it returns one/);
    expect(h.deploymentWrites()).toEqual([]);
    expect(h.events()).toEqual([expect.objectContaining({ type: "Warning", reason: "InvalidSpec" })]);
  });

  it("measures the same queries once they are summed", async () => {
    const url = await prometheus((query) => (query.startsWith("count(") ? vector("1") : answer(query)));
    const ratio = unsummed.slos[0]!.indicator.ratio!;
    const summed: ProfileSpecInput = {
      ...unsummed,
      slos: [{ ...unsummed.slos[0]!, indicator: { ratio: { errors: `sum(${ratio.errors})`, total: `sum(${ratio.total})` } } }],
    };
    const h = harness(url, summed);
    await h.reconcile();
    expect(h.condition("Ready")).toMatchObject({ status: "True", reason: "Reconciled" });
    expect(h.condition("DeploymentsFrozen")).toMatchObject({ status: "True", reason: "BudgetExhausted" });
    expect(h.deploymentWrites().length).toBeGreaterThan(0);
  });
});

describe("profileReconciler records a pass before it acts", () => {
  // 0.52 % errors against a 0.5 % budget: 104 %, past freezeAt, short of rollbackAt.
  const burning = (query: string) => vector(query.startsWith("sum(increase") ? "100000" : "0.0052");

  it("keeps the Frozen transition recorded when the Deployment write fails, and the next pass carries it out, telling it once", async () => {
    let refuse = true;
    const h = harness(await prometheus(burning), availability, { refuseDeployments: () => refuse });
    await expect(h.reconcile()).rejects.toThrow(/refused/);
    const recorded = h.statuses().at(-1);
    expect(recorded?.phase).toBe("Frozen");
    expect(recorded?.outbox?.map((e) => [e.kind, e.reason])).toEqual([
      ["Event", "BudgetExhausted"],
      ["Notification", "Frozen"],
    ]);
    expect(h.events()).toEqual([]);
    expect(h.deploymentWrites()).toEqual([]);

    refuse = false;
    await h.reconcile();
    expect(h.deploymentWrites().map((c) => c.verb)).toEqual(["apply"]);
    expect(h.events().map((e) => e.reason)).toEqual(["BudgetExhausted"]);
    expect(h.statuses().at(-1)?.outbox).toBeUndefined();
    expect(h.statuses().at(-1)?.phase).toBe("Frozen");

    await h.reconcile();
    expect(h.events().map((e) => e.reason)).toEqual(["BudgetExhausted"]);
  });
});

describe("profileReconciler sends a notification only in a pass that could record its status", () => {
  const burning = (query: string) => vector(query.startsWith("sum(increase") ? "100000" : "0.0052");
  const paged: ProfileSpecInput = {
    ...availability,
    policy: { ...availability.policy, notifications: [{ name: "hook", type: "webhook", url: "https://hooks.example.test/tollgate", events: ["Frozen"] }] },
  };

  it("holds a retry due while the API server is down, and sends it once the status can be written", async () => {
    let t = Date.parse("2025-06-01T12:00:00Z");
    let receiverUp = false;
    let apiUp = true;
    const sent: string[] = [];
    const notifier: Pick<Notifier, "deliver"> = {
      deliver: async (receivers, n) => {
        if (receiverUp) sent.push(n.id);
        return receivers.map((r) => ({ receiver: r.name, type: r.type, event: n.event, attempts: 1, ok: receiverUp, permanent: false, ...(receiverUp ? {} : { error: "503" }) }));
      },
    };
    const h = harness(await prometheus(burning), paged, { notifier, refuseStatus: () => !apiUp, now: () => new Date(t) });
    await h.reconcile();
    const pending = h.statuses().at(-1)?.outbox?.find((e) => e.kind === "Notification");
    expect(pending).toMatchObject({ reason: "Frozen", attempts: 1 });

    // The retry is due, the receiver is back, but the API server is not: nothing is sent.
    t += 60_000;
    receiverUp = true;
    apiUp = false;
    await expect(h.reconcile()).rejects.toThrow(/ECONNREFUSED/);
    expect(sent).toEqual([]);

    apiUp = true;
    await h.reconcile();
    expect(sent).toEqual([pending?.id]);
    expect(h.statuses().at(-1)?.outbox ?? []).toEqual([]);
  });
});

describe("profileReconciler exports the canary's weight", () => {
  const healthy = (query: string) => vector(query.startsWith("sum(increase") ? "100000" : "0.001");
  const withCanary: ProfileSpecInput = { ...availability, canary: { service: { name: "game-service", port: 8080 } } };
  const weights = async (metrics: SloMetrics) => (await metrics.canaryWeight.get()).values.map((v) => [v.labels, v.value]);

  it("once the pass's actions went through, as the status records it, and not for a profile without a canary", async () => {
    const metrics = new SloMetrics(new Registry());
    const url = await prometheus(healthy);
    let refuse = true;
    const h = harness(url, withCanary, { istio: true, metrics, refuseIstio: () => refuse });
    // The first pass sets the canary up (its DestinationRule, the track label) and cannot route: no weight yet.
    await expect(h.reconcile()).rejects.toThrow(/refused/);
    expect(h.statuses().at(-1)?.canary).toMatchObject({ phase: "Initializing", weight: 0 });
    expect(await weights(metrics)).toEqual([]);

    refuse = false;
    await h.reconcile();
    // Set up, with all traffic on primary until a new revision comes.
    expect(await weights(metrics)).toEqual([[{ namespace: "games", profile: "game" }, 0]]);

    // The same profile with the canary taken out of its spec.
    await harness(url, availability, { istio: true, metrics }).reconcile();
    expect(await weights(metrics)).toEqual([]);
  });
});

describe("profileReconciler measures how long a pass waits on Prometheus", () => {
  it("observes once per pass the time its queries took, so the rest of the pass is the operator's own", async () => {
    const metrics = new SloMetrics(new Registry());
    const slowMs = 60;
    const url = await prometheus(async (query) => {
      await new Promise((r) => setTimeout(r, slowMs));
      return vector(query.startsWith("sum(increase") ? "100000" : "0.001");
    });
    await harness(url, availability, { metrics }).reconcile();
    const values = (await metrics.prometheusWait.get()).values;
    const count = values.find((v) => v.metricName === "tollgate_reconcile_prometheus_wait_seconds_count")?.value;
    const sum = values.find((v) => v.metricName === "tollgate_reconcile_prometheus_wait_seconds_sum")?.value ?? 0;
    expect(count).toBe(1);
    expect(sum).toBeGreaterThanOrEqual(slowMs / 1000);
  });
});
