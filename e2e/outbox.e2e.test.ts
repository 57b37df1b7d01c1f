import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import type { Condition } from "./support/conditions.ts";
import { loadClusterEnv } from "./support/env.ts";
import { holdsFor } from "./support/hold.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { applyYaml, installCrds, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { deleteProfiles } from "./support/profiles.ts";
import { revokeOperatorVerb } from "./support/rbac.ts";
import { startReceiver, type Receiver } from "./support/receiver.ts";
import { waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";

// A pass records what it decided (phase, and every Event and notification still to go out, in
// status.outbox) before it acts, and removes each entry once carried out. Here the operator crashes in
// between: its RBAC has lost patch on Deployments, so the act's first write (freezing the Deployment)
// is refused and the pass stops with its intent recorded; then it is SIGKILLed. A new operator, with
// the right back, finishes that pass: the Deployment is frozen, the Frozen notification goes out once,
// keyed by the id recorded before the crash, and the Event is recorded once.
//
// One availability SLO, 99 % (a 1 % budget), one-minute window, read every 2 s; the simulator fails
// 0.1 % of requests (10 % consumed), then 3 % (300 %). rollbackAt 1000 keeps rollbacks out.

const INTERVAL_MS = 2_000;
const PROFILE = "checkout";

interface OutboxEntry {
  id: string;
  kind: string;
  event?: string;
  reason: string;
}
interface Profile {
  metadata: { name: string };
  status?: { phase?: string; outbox?: OutboxEntry[]; conditions?: Condition[] };
}
interface Deployment {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { paused?: boolean };
}
interface CoreEvent {
  metadata: { name: string };
  reason: string;
  type: string;
  count?: number;
  involvedObject: { kind: string; name: string };
}

/** The transition a Notification entry stands for: the contract names it `event`; `reason` carries it too. */
const notified = (e: OutboxEntry) => e.event ?? e.reason;
const pendingFrozen = (p: Profile) => p.status?.outbox?.find((e) => e.kind === "Notification" && notified(e) === "Frozen");

function freezeMarks(d: Deployment) {
  return {
    frozenLabel: d.metadata.labels?.["tollgate.dev/frozen"],
    frozenBy: d.metadata.annotations?.["tollgate.dev/frozen-by"],
    paused: d.spec.paused ?? false,
  };
}

describe("an operator killed between recording a pass and acting on it", () => {
  let ns: string;
  let sim: Simulator;
  let receiver: Receiver;
  let first: OperatorProcess | undefined;
  let second: OperatorProcess | undefined;
  let restorePatch: (() => Promise<void>) | undefined;
  // The id of the Frozen notification as the first operator recorded it, before the crash.
  let recordedId: string | undefined;

  const env = () => loadClusterEnv();
  const profile = () => kubectlJson<Profile>(["-n", ns, "get", "pp", PROFILE]);
  const deployment = () => kubectlJson<Deployment>(["-n", ns, "get", "deployment", "checkout"]);
  const frozenNotifications = () => receiver.received.filter((r) => r.path === "/hook" && r.body.event === "Frozen");
  const operatorArgs = () => ["--namespace", ns, "--prometheus-url", env().PROMETHEUS_URL, "--notification-allowed-url", `${receiver.url}/`];

  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-outbox");
    receiver = await startReceiver();
    sim = await startSimulator({ targetsDir: env().PROMETHEUS_TARGETS_DIR });
    await sim.setWorkload(ns, "checkout", { rate: 100, errorRatio: 0.001 });
    await applyYaml(deploymentYaml("checkout", "registry.example/checkout:1.0.0"), ns);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/checkout", "--timeout=60s"]);
    // The chart gives the operator patch on Deployments for the freeze; this one runs without it.
    restorePatch = await revokeOperatorVerb(ns, "apps", "deployments", "patch");
    first = startOperator(operatorArgs());
    await applyYaml(
      `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: ${PROFILE}}
spec:
  targetRef: {name: checkout}
  slos:
    - {name: availability, objective: 99, window: 1m, indicator: {istio: {kind: availability}}}
  policy:
    evaluationInterval: ${INTERVAL_MS / 1000}s
    minEvents: 100
    rollbackAt: 1000
    notifications:
      - {name: audit, type: webhook, url: "${receiver.url}/hook", events: [Frozen]}
`,
      ns,
    );
  });
  afterAll(async () => {
    await restorePatch?.();
    // Its refusals were the test's doing.
    await first?.stop("SIGKILL", { forbiddenAllowedBefore: Date.now() });
    if (ns) await deleteProfiles(ns);
    await second?.stop();
    await sim?.stop();
    await receiver?.close();
    if (ns) await deleteOperatorNamespace(ns);
  });

  it("records the Frozen pass in status.outbox first, and carries out nothing while the Deployment write is refused", { timeout: 240_000 }, async () => {
    await waitFor("phase Healthy", async () => ((await profile()).status?.phase === "Healthy" ? true : undefined), { timeoutMs: 90_000, intervalMs: 500 });
    await sim.setWorkload(ns, "checkout", { errorRatio: 0.03 });

    const recorded = await waitFor("phase Frozen with the Frozen notification pending in status.outbox", async () => {
      const p = await profile();
      const entry = pendingFrozen(p);
      if (p.status?.phase === "Frozen" && entry) return { p, entry };
      throw new Error(`phase ${p.status?.phase}, outbox ${JSON.stringify(p.status?.outbox ?? null)}`);
    }, { timeoutMs: 120_000, intervalMs: 500 });
    recordedId = recorded.entry.id;
    expect(recorded.entry.id).toMatch(/\S/);

    // The act's first write was refused: the Deployment is not frozen, nothing was sent.
    await waitFor("the operator's refused Deployment write in its log", () => (first!.forbidden().length > 0 ? true : undefined), { timeoutMs: 30_000 });
    expect(freezeMarks(await deployment())).toEqual({ frozenLabel: undefined, frozenBy: undefined, paused: false });
    expect(receiver.received).toEqual([]);

    // And it stays that way while the write keeps being refused: nothing is carried out past it.
    await holdsFor("the pass held at the refused write", { intervalMs: INTERVAL_MS, intervals: 3 }, async () => {
      expect(freezeMarks(await deployment())).toEqual({ frozenLabel: undefined, frozenBy: undefined, paused: false });
      expect(receiver.received).toEqual([]);
      expect(pendingFrozen(await profile())?.id).toBe(recordedId);
    });
  });

  it("finishes the pass in a new operator after a SIGKILL: the Deployment frozen, Frozen sent once with its Idempotency-Key, the Event recorded once", { timeout: 240_000 }, async () => {
    await first!.stop("SIGKILL", { forbiddenAllowedBefore: Date.now() });
    await restorePatch!();
    second = startOperator(operatorArgs());

    await waitFor("the Deployment frozen", async () => {
      const marks = freezeMarks(await deployment());
      if (marks.frozenLabel === "true" && marks.paused && marks.frozenBy === PROFILE) return marks;
      throw new Error(JSON.stringify(marks));
    }, { timeoutMs: 90_000, intervalMs: 500 });
    const done = await waitFor("status.outbox emptied", async () => {
      const p = await profile();
      if ((p.status?.outbox ?? []).length === 0) return p;
      throw new Error(JSON.stringify(p.status?.outbox));
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(done.status?.phase).toBe("Frozen");
    await waitFor("the Frozen notification", () => (frozenNotifications().length > 0 ? true : undefined), { timeoutMs: 60_000 });

    // Then nothing more, over several more evaluations.
    await holdsFor("no second Frozen notification", { intervalMs: INTERVAL_MS, intervals: 5, operator: second, reconciles: 5 }, async () => {
      expect(frozenNotifications().length).toBeLessThanOrEqual(1);
    });
    const sent = frozenNotifications();
    expect(sent).toHaveLength(1);
    expect(receiver.received.map((r) => `${r.path} ${String(r.body.event)}`)).toEqual(["/hook Frozen"]);
    const key = sent[0]!.headers["idempotency-key"];
    expect(key, "the Idempotency-Key header").toBeTypeOf("string");
    expect(sent[0]!.body.id).toBe(key);
    // The pass finished is the one recorded before the crash, not a new decision.
    expect(sent[0]!.body.id, "the id recorded in status.outbox before the crash").toBe(recordedId);

    const reason = (await profile()).status?.conditions?.find((c) => c.type === "DeploymentsFrozen")?.reason;
    expect(reason).toBe("BudgetExhausted");
    const events = (await kubectlJson<{ items: CoreEvent[] }>(["-n", ns, "get", "events", "--field-selector", `involvedObject.name=${PROFILE}`])).items.filter(
      (e) => e.involvedObject.kind === "PerformanceProfile" && e.reason === reason,
    );
    expect(events.map((e) => ({ reason: e.reason, count: e.count ?? 1 }))).toEqual([{ reason, count: 1 }]);
  });
});
