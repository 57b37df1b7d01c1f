import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { profileSpecSchema } from "../src/api/profile.ts";
import { KubeClient } from "../src/kube/client.ts";
import { loadClusterAccess } from "../src/kube/cluster-access.ts";
import { Resources } from "../src/kube/resources.ts";
import { PrometheusClient } from "../src/prometheus/client.ts";
import { budgetExpr, measureReaction } from "./support/reaction.ts";
import type { Deployment } from "../src/workload/deployment.ts";
import { ALLOWED_NOTIFICATION_HOST, CORPUS, KINDS, expectationOf, isApi, type CorpusCase, type CorpusContext, type Expectation, type OperatorRefusal } from "./corpus/cases.ts";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import type { Condition } from "./support/conditions.ts";
import { loadClusterEnv } from "./support/env.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { applyYaml, installCrds, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { startPrivatePrometheus, type PrivatePrometheus } from "./support/private-prometheus.ts";
import { deleteProfiles, findProfile } from "./support/profiles.ts";
import { promQuery } from "./support/prometheus.ts";
import { startReceiver, type Receiver } from "./support/receiver.ts";
import { startTrap, type Trap } from "./support/trap.ts";
import { sleep, waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";

// Issue 11, item 5: a corpus of malformed and hostile profiles (e2e/corpus/cases.ts) against one
// operator in one namespace. Each case is refused by the API server with kubectl's error naming the
// field, or admitted and refused by the operator with Ready=False, a reason of its own and a message
// naming the field and the offending value, never a generic "no data". Meanwhile the operator keeps
// running and serving: a healthy profile beside the corpus, on its own Deployment, is frozen within
// one evaluation interval and a few seconds of its budget crossing freezeAt in Prometheus (measured as
// scripts/bench-reaction.ts measures), and no endpoint a case names ever sees a connection.

const CLI = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

const HEALTHY_INTERVAL_MS = 2_000;
/** "A few seconds" past the evaluation interval for the freeze; bench:reaction's target is 2 s. */
const FREEZE_SLACK_MS = 3_000;
/** How long admitted cases get to show their verdicts. */
const VERDICT_TIMEOUT_MS = 60_000;
const RATE = 1_000;
const OBJECTIVE = 99.5;

const healthySpec = {
  targetRef: { name: "steady" },
  slos: [{ name: "availability", objective: OBJECTIVE, window: "1m", indicator: { istio: { kind: "availability" } } }],
  policy: { evaluationInterval: `${HEALTHY_INTERVAL_MS / 1000}s`, minEvents: 100, rollbackAt: 1000 },
};
const manifest = (name: string, spec: unknown) => JSON.stringify({ apiVersion: "tollgate.dev/v1alpha1", kind: "PerformanceProfile", metadata: { name }, spec });

interface Profile {
  metadata: { name: string; generation: number };
  status?: { phase?: string; observedGeneration?: number; conditions?: Condition[] };
}

interface Outcome {
  admitted: boolean;
  /** kubectl's error when the API server refused it. */
  stderr: string;
  ready?: Condition;
  /** MetricsAvailable, which says why a profile without a verdict has none. */
  metrics?: Condition;
  /** Seconds from creation to the first Ready condition that met the expectation. */
  verdictAfterS?: number;
}

const apiCases = CORPUS.filter((c) => typeof c.expect !== "function" && isApi(c.expect));
const runtimeCases = CORPUS.filter((c) => !apiCases.includes(c) && !c.rules);
const rulesCases = CORPUS.filter((c) => c.rules);

/** Flags the operator build under test takes, from its --help: the allow-lists arrive flag by flag. */
function supportedFlags(): Set<string> {
  const res = spawnSync(process.execPath, [CLI, "controller", "--help"], { encoding: "utf8" });
  return new Set([...(res.stdout ?? "").matchAll(/--[a-z][a-z-]+/g)].map((m) => m[0]));
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

/** Throws, saying what differs, unless the condition is the refusal `e` describes. */
function checkRefusal(c: CorpusCase, e: OperatorRefusal, ready: Condition | undefined): void {
  if (!ready) throw new Error(`${c.id}: no Ready condition`);
  const seen = `Ready=${ready.status} ${ready.reason}: ${ready.message}`;
  if (ready.status !== "False") throw new Error(`${c.id}: ${seen}`);
  if (!e.ready.reasons.includes(ready.reason)) throw new Error(`${c.id}: reason ${ready.reason}, want ${e.ready.reasons.join(" or ")} (${seen})`);
  if (e.ready.field !== undefined && !ready.message.includes(e.ready.field)) throw new Error(`${c.id}: the message does not name ${e.ready.field} (${seen})`);
  for (const m of e.ready.mentions ?? []) {
    const ok = typeof m === "string" ? ready.message.includes(m) : m.test(ready.message);
    if (!ok) throw new Error(`${c.id}: the message does not name ${String(m)} (${seen})`);
  }
}

function checkOutcome(c: CorpusCase, e: Expectation, o: Outcome | undefined): void {
  if (!o) throw new Error(`${c.id} was never applied`);
  if (isApi(e)) {
    if (o.admitted) throw new Error(`${c.id}: the API server admitted it (Ready: ${JSON.stringify(o.ready ?? null)})`);
    for (const want of [e.api.field, ...(e.api.mentions ?? [])]) {
      if (!o.stderr.includes(want)) throw new Error(`${c.id}: kubectl's error does not name ${want}: ${o.stderr.trim()}`);
    }
    return;
  }
  if (!o.admitted) {
    if (e.orApi && o.stderr.includes(e.orApi.field)) return;
    throw new Error(`${c.id}: refused by the API server, where the operator should refuse it: ${o.stderr.trim()}`);
  }
  try {
    checkRefusal(c, e, o.ready);
  } catch (err) {
    const metrics = o.metrics ? `; MetricsAvailable=${o.metrics.status} ${o.metrics.reason}: ${o.metrics.message}` : "";
    throw new Error(`${err instanceof Error ? err.message : String(err)}${metrics}`);
  }
}

describe("a corpus of malformed and hostile profiles", () => {
  const env = loadClusterEnv();
  const suiteStart = Date.now();
  const timings: Record<string, number> = {};
  const outcomes = new Map<string, Outcome>();
  const created = new Map<string, number>();
  let ns: string;
  let ctx: CorpusContext;
  let sim: Simulator | undefined;
  let operator: OperatorProcess | undefined;
  let promTrap: Trap | undefined;
  let hookTrap: Trap | undefined;
  let pager: Receiver | undefined;
  let privateProm: PrivatePrometheus | undefined;
  let flags: Set<string>;
  let operatorArgs: string[] = [];

  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      timings[name] = (Date.now() - t0) / 1000;
    }
  };

  /** `kubectl create` of one case, as a tenant would submit it; records what the API server said. */
  const submit = async (c: CorpusCase) => {
    const res = await kubectl(["create", "-n", ns, "-f", "-"], { input: JSON.stringify(c.build(ctx)) });
    if (res.code === 0) created.set(c.id, Date.now());
    outcomes.set(c.id, { admitted: res.code === 0, stderr: res.stderr });
  };

  /**
   * Polls every admitted case's Ready condition until each meets its expectation (for the current
   * generation) or the time is up; keeps the last condition seen for every case.
   */
  const collectVerdicts = async (cases: readonly CorpusCase[], timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let pending = cases.filter((c) => outcomes.get(c.id)?.admitted);
    while (pending.length > 0) {
      const list = await kubectlJson<{ items: Profile[] }>(["-n", ns, "get", "pp"]);
      const byName = new Map(list.items.map((p) => [p.metadata.name, p]));
      pending = pending.filter((c) => {
        const p = byName.get(c.id);
        const ready = p?.status?.conditions?.find((x) => x.type === "Ready");
        const o = outcomes.get(c.id)!;
        if (ready) o.ready = ready;
        o.metrics = p?.status?.conditions?.find((x) => x.type === "MetricsAvailable");
        const current = p !== undefined && p.status?.observedGeneration === p.metadata.generation;
        try {
          checkOutcome(c, expectationOf(c, ctx), o);
        } catch {
          return true;
        }
        if (!current) return true;
        o.verdictAfterS = (Date.now() - (created.get(c.id) ?? Date.now())) / 1000;
        return false;
      });
      if (Date.now() > deadline) break;
      if (pending.length > 0) await sleep(1_000);
    }
    return pending;
  };

  beforeAll(async () => {
    await phase("setup", async () => {
      await installCrds();
      flags = supportedFlags();
      ns = await createOperatorNamespace("e2e-corpus");
      [promTrap, hookTrap, pager, privateProm] = await Promise.all([startTrap(), startTrap(), startReceiver(), startPrivatePrometheus()]);
      ctx = {
        namespace: ns,
        prometheusUrl: env.PROMETHEUS_URL,
        promTrap: { url: promTrap.url, port: promTrap.port },
        hookTrap: { url: hookTrap.url, port: hookTrap.port },
        privatePrometheusUrl: privateProm.url,
      };

      sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
      await sim.setWorkload(ns, "steady", { rate: RATE, errorRatio: 0.001 });
      // Two workloads for the ratio that returns a series each, and the burning targets of the
      // notification cases: admitted, those would freeze and notify at once.
      for (const w of ["noise-a", "noise-b"]) await sim.setWorkload(ns, w, { rate: 100, errorRatio: 0.2 });
      for (const c of CORPUS.filter((x) => x.burning)) await sim.setWorkload(ns, c.target ?? c.id, { rate: 100, errorRatio: 0.2 });

      await kubectlOk(["-n", ns, "create", "secret", "generic", "corpus-tokens", "--from-literal=token=corpus-token"]);
      await kubectlOk([
        "-n", ns, "create", "secret", "generic", "corpus-alerting",
        "--from-literal=pagerduty=routing-key-corpus",
        `--from-literal=hook-trap=${hookTrap.url}/secret-hook`,
        `--from-literal=slack-trap=http://localhost:${hookTrap.port}/slack`,
      ]);

      // Every admitted case gets a Deployment of its own (none burns but those marked), so nothing but
      // its own problem can refuse it; no replicas, so two CPUs carry forty of them.
      const own = [...runtimeCases, ...rulesCases].filter((c) => c.target === undefined).map((c) => deploymentYaml(c.id, "registry.example/corpus:1", 0));
      const others = [
        deploymentYaml("steady", "registry.example/steady:1", 1),
        deploymentYaml("claimed", "registry.example/claimed:1", 0),
        "apiVersion: v1\nkind: Service\nmetadata: {name: svc-only}\nspec: {selector: {app: svc-only}, ports: [{port: 8080}]}\n",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: store}\nspec:\n  replicas: 0\n  serviceName: store\n  selector: {matchLabels: {app: store}}\n  template:\n    metadata: {labels: {app: store}}\n    spec: {containers: [{name: app, image: registry.example/store:1}]}\n",
      ];
      await applyYaml([...others, ...own].join("---\n"), ns);
      await kubectlOk(["-n", ns, "rollout", "status", "deployment/steady", "--timeout=60s"]);

      operatorArgs = ["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL, "--pagerduty-url", `${pager.url}/pd`, "--rules-dir", privateProm.rulesDir];
      if (flags.has("--prometheus-allowed-address")) operatorArgs.push("--prometheus-allowed-address", `${privateProm.url}/`);
      if (flags.has("--notification-allowed-url")) operatorArgs.push("--notification-allowed-url", `https://${ALLOWED_NOTIFICATION_HOST}/`);
      else if (flags.has("--notification-allowed-host")) operatorArgs.push("--notification-allowed-host", ALLOWED_NOTIFICATION_HOST);
      // X-Team may be set, so the case that smuggles a second header in its value is judged on the value.
      if (flags.has("--prometheus-profile-header")) operatorArgs.push("--prometheus-profile-header", "X-Team");
      process.stdout.write(`corpus: operator flags ${operatorArgs.slice(2).join(" ")}\n`);
      operator = startOperator(operatorArgs);

      // The healthy profile, and the owner of the Deployment two corpus profiles will also name.
      await applyYaml([manifest("steady", healthySpec), manifest("claim-owner", { ...healthySpec, targetRef: { name: "claimed" } })].join("\n---\n"), ns);
      await waitFor("claim-owner reconciled, before any profile that names its Deployment", async () => {
        const p = await findProfile<Profile>(ns, "claim-owner");
        return p?.status?.conditions?.some((c) => c.type === "Ready") ? true : undefined;
      }, { timeoutMs: 60_000 });
      // The ratio that returns several series must find them there.
      await waitFor("both noise workloads' error series", async () =>
        (await promQuery(`rate(istio_requests_total{destination_workload_namespace="${ns}",destination_workload=~"noise-a|noise-b",reporter="destination",response_code=~"5.."}[10s])`)).length >= 2 ? true : undefined,
        { timeoutMs: 30_000 });
    });
  });

  afterAll(async () => {
    const t0 = Date.now();
    let left: string[] = [];
    // With the operator still running: its finalizer must let every profile go, refused ones included.
    if (ns && operator) left = await deleteProfiles(ns, 60_000);
    timings.cleanup = (Date.now() - t0) / 1000;
    const code = await operator?.stop();
    await sim?.stop();
    await Promise.all([promTrap?.close(), hookTrap?.close(), pager?.close(), privateProm?.stop()]);
    if (ns) await deleteOperatorNamespace(ns);

    const byKind = KINDS.map((k) => {
      const of = CORPUS.filter((c) => c.kind === k);
      return `${k} ${of.length} (API ${of.filter((c) => apiCases.includes(c)).length}, operator ${of.filter((c) => !apiCases.includes(c)).length})`;
    });
    process.stdout.write(
      `corpus: ${CORPUS.length} cases, ${apiCases.length} refused by the API server, ${runtimeCases.length + rulesCases.length} by the operator; ` +
        `by kind: ${byKind.join("; ")}\n` +
        `corpus: phases ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")}; whole file ${((Date.now() - suiteStart) / 1000).toFixed(1)} s\n`,
    );
    expect(left, "profiles whose finalizer the operator never removed").toEqual([]);
    expect(code).toBe(0);
  });

  describe("refused by the API server", () => {
    beforeAll(async () => {
      await phase("API cases", () => pool(apiCases, 8, submit));
    });

    it.each(apiCases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
      checkOutcome(c, expectationOf(c, ctx), outcomes.get(c.id));
    });
  });

  describe("admitted, then refused by the operator", () => {
    beforeAll(async () => {
      await phase("operator cases", async () => {
        await pool(runtimeCases, 8, submit);
        const pending = await collectVerdicts(runtimeCases, VERDICT_TIMEOUT_MS);
        if (pending.length) process.stdout.write(`corpus: ${pending.length} case(s) without their verdict after ${VERDICT_TIMEOUT_MS / 1000} s: ${pending.map((c) => c.id).join(", ")}\n`);
      });
    });

    it.each(runtimeCases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
      const o = outcomes.get(c.id);
      checkOutcome(c, expectationOf(c, ctx), o);
      if (o?.verdictAfterS !== undefined) process.stdout.write(`corpus: ${c.id}: ${o.ready?.reason} after ${o.verdictAfterS.toFixed(1)} s\n`);
    });
  });

  // Alone and last among the cases: Prometheus refuses the whole reload while a file it cannot load is
  // there. The private Prometheus keeps that from every other suite's rules.
  describe("recording rules Prometheus refuses", () => {
    beforeAll(async () => {
      await phase("rules case", async () => {
        await pool(rulesCases, 1, submit);
        await collectVerdicts(rulesCases, 45_000);
      });
    });

    it.each(rulesCases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
      const o = outcomes.get(c.id);
      process.stdout.write(`corpus: ${c.id}: Ready=${o?.ready?.status} ${o?.ready?.reason}: ${o?.ready?.message}\n`);
      checkOutcome(c, expectationOf(c, ctx), o);
    });
  });

  it("freezes the healthy profile's Deployment on time beside the corpus", { timeout: 150_000 }, async () => {
    await phase("healthy freeze", async () => {
      const kube = new KubeClient(loadClusterAccess(env.KUBECONFIG));
      const prom = new PrometheusClient({ url: env.PROMETHEUS_URL, retries: 0, timeoutMs: 2_000 });
      const spec = profileSpecSchema.parse(healthySpec);
      // The very expression Tollgate evaluates for the SLO window's budget.
      const expr = budgetExpr(ns, "steady", spec);
      const budget = 1 - OBJECTIVE / 100;

      await waitFor("the healthy profile measured and Healthy", async () => {
        const p = await findProfile<Profile>(ns, "steady");
        const measured = p?.status?.conditions?.some((c) => c.type === "MetricsAvailable" && c.reason === "Measured");
        return p?.status?.phase === "Healthy" && measured ? true : undefined;
      }, { timeoutMs: 60_000 });
      const before = await kube.find<Deployment>(Resources.Deployment, ns, "steady");
      expect(before?.spec?.paused ?? false).toBe(false);

      // Ten times the budget rate: the one-minute window crosses 100 % within seconds.
      await sim!.setWorkload(ns, "steady", { errorRatio: 0.05 });
      const { crossedAt, pausedAt } = await measureReaction({ prom, kube, namespace: ns, deployment: "steady", expr, budget });
      expect(crossedAt, "the budget never crossed 100 % in Prometheus").toBeDefined();
      expect(pausedAt, "the Deployment was never paused").toBeDefined();
      const gap = pausedAt! - crossedAt!;
      process.stdout.write(`corpus: the healthy profile's budget crossed 100 % in Prometheus; its Deployment was paused ${(gap / 1000).toFixed(2)} s later (bound ${(HEALTHY_INTERVAL_MS + FREEZE_SLACK_MS) / 1000} s)\n`);
      expect(gap).toBeLessThanOrEqual(HEALTHY_INTERVAL_MS + FREEZE_SLACK_MS);
      const p = await waitFor("phase Frozen", async () => ((await findProfile<Profile>(ns, "steady"))?.status?.phase === "Frozen" ? true : undefined));
      expect(p).toBe(true);
    });
  });

  it("never connected to an endpoint a case named", () => {
    const seen = [
      ...promTrap!.connections.map((c) => `Prometheus trap ${promTrap!.url}: ${JSON.stringify(c.firstBytes.split("\r\n")[0] ?? "")}`),
      ...hookTrap!.connections.map((c) => `notification trap ${hookTrap!.url}: ${JSON.stringify(c.firstBytes.split("\r\n")[0] ?? "")}`),
    ];
    expect(seen).toEqual([]);
  });

  it("is still the same running operator, healthy, with nothing fatal logged", async () => {
    const state = await Promise.race([operator!.exited.then((code) => `exited (${code})`), sleep(50).then(() => "running")]);
    expect(state).toBe("running");
    const health = await operator!.http("/healthz");
    expect(health.status).toBe(200);
    const logs = operator!.logs();
    const fatal = logs.filter((l) => typeof l.level === "number" && l.level >= 60);
    const crashes = logs.filter((l) => /uncaught|unhandled/i.test(String(l.msg ?? "")));
    const errors = logs.filter((l) => l.level === 50);
    process.stdout.write(`corpus: operator pid ${operator!.pid} ran the whole file; ${logs.length} log lines, ${errors.length} at level error\n`);
    for (const e of errors.slice(0, 5)) process.stdout.write(`corpus: error logged: ${JSON.stringify(e).slice(0, 400)}\n`);
    expect(fatal).toEqual([]);
    expect(crashes).toEqual([]);
  });
});
