import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./support/env.ts";
import { applyYaml, installCrds, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { sleep, waitFor } from "./support/wait.ts";

interface Lease {
  spec: { holderIdentity?: string; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}
interface Profile {
  metadata: { name: string; generation: number };
  status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> };
}

const profileYaml = (name: string, target = name) => `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: ${name}}
spec:
  targetRef: {name: ${target}}
  slos:
    - name: availability
      objective: 99.5
      indicator: {istio: {kind: availability}}
`;

const statusWrites = (op: OperatorProcess) => op.logs().filter((l) => l.msg === "status written");
const metricValue = (text: string, name: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
};

async function allReconciled(ns: string): Promise<Profile[] | undefined> {
  const list = await kubectlJson<{ items: Profile[] }>(["-n", ns, "get", "pp"]);
  return list.items.every((p) => p.status?.observedGeneration === p.metadata.generation) ? list.items : undefined;
}

describe("leader election between two operator replicas", () => {
  let ns: string;
  const ops: Record<string, OperatorProcess> = {};
  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-leader");
    ops.a = startOperator(["--namespace", ns], { POD_NAME: "replica-a" });
    ops.b = startOperator(["--namespace", ns], { POD_NAME: "replica-b" });
  });
  afterAll(async () => {
    await Promise.all(Object.values(ops).map((o) => o.stop()));
    await deleteOperatorNamespace(ns);
  });

  it("lets exactly one replica reconcile", async () => {
    const lease = await waitFor("a leader", async () => {
      const l = await kubectlJson<Lease>(["-n", ns, "get", "lease", "tollgate-leader"]);
      return l.spec.holderIdentity ? l : undefined;
    });
    for (const name of ["alpha", "beta", "gamma"]) await applyYaml(profileYaml(name), ns);
    await waitFor("every profile reconciled", () => allReconciled(ns));

    const leader = lease.spec.holderIdentity === "replica-a" ? ops.a! : ops.b!;
    const standby = leader === ops.a ? ops.b! : ops.a!;
    expect(statusWrites(leader).length).toBeGreaterThanOrEqual(3);
    expect(statusWrites(standby)).toHaveLength(0);
    const leaderMetrics = (await leader.http("/metrics")).body;
    const standbyMetrics = (await standby.http("/metrics")).body;
    expect(metricValue(leaderMetrics, "tollgate_leader")).toBe(1);
    expect(metricValue(standbyMetrics, "tollgate_leader")).toBe(0);
    expect(metricValue(standbyMetrics, 'tollgate_reconcile_duration_seconds_count{controller="profile",outcome="success"}')).toBeUndefined();
    // Both are ready: the leader after its first pass, the standby with warm caches.
    expect((await leader.http("/readyz")).status).toBe(200);
    expect((await standby.http("/readyz")).body).toMatch(/standby/);
  });

  it("hands leadership over within the lease duration when the leader is killed, never to both at once", async () => {
    const before = await kubectlJson<Lease>(["-n", ns, "get", "lease", "tollgate-leader"]);
    const leaderName = before.spec.holderIdentity!;
    const leader = leaderName === "replica-a" ? ops.a! : ops.b!;
    const standby = leader === ops.a ? ops.b! : ops.a!;
    const standbyName = leaderName === "replica-a" ? "replica-b" : "replica-a";

    const killedAt = Date.now();
    await leader.stop("SIGKILL");
    const after = await waitFor(
      "the standby to take the lease",
      async () => {
        const l = await kubectlJson<Lease>(["-n", ns, "get", "lease", "tollgate-leader"]);
        return l.spec.holderIdentity === standbyName ? l : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const handoverMs = Date.parse(after.spec.acquireTime!) - killedAt;
    process.stdout.write(`leader handover after SIGKILL: ${handoverMs} ms (lease duration 15000 ms)\n`);
    expect(handoverMs).toBeLessThanOrEqual(15_000);
    expect(after.spec.leaseTransitions).toBe((before.spec.leaseTransitions ?? 0) + 1);

    // The killed leader's last write happened before the new leader started.
    const lastOldWrite = Math.max(0, ...statusWrites(leader).map((l) => Date.parse(String(l.time))));
    const becameLeader = standby.logs().find((l) => l.msg === "became leader");
    expect(becameLeader).toBeDefined();
    expect(Date.parse(String(becameLeader!.time))).toBeGreaterThan(lastOldWrite);

    // The new leader reconciles what changes from now on.
    await kubectlOk(["-n", ns, "patch", "pp", "alpha", "--type=merge", "-p", '{"spec":{"targetRef":{"name":"alpha-v2"}}}']);
    await waitFor("the new leader to reconcile the change", () => allReconciled(ns));
    expect(statusWrites(standby).length).toBeGreaterThanOrEqual(1);
  });

  it("releases the lease on SIGTERM so a new replica takes over at once", async () => {
    const holder = (await kubectlJson<Lease>(["-n", ns, "get", "lease", "tollgate-leader"])).spec.holderIdentity;
    const current = holder === "replica-a" ? ops.a! : ops.b!;
    ops.c = startOperator(["--namespace", ns], { POD_NAME: "replica-c" });
    await ops.c.metricsPort();
    await sleep(1_000);
    const stoppedAt = Date.now();
    expect(await current.stop("SIGTERM")).toBe(0);
    expect(current.logs().some((l) => l.msg === "released the lease")).toBe(true);
    const lease = await waitFor(
      "replica-c to lead",
      async () => {
        const l = await kubectlJson<Lease>(["-n", ns, "get", "lease", "tollgate-leader"]);
        return l.spec.holderIdentity === "replica-c" ? l : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    // Well under the 15 s a crashed leader's lease takes: a released lease is taken at the next retry.
    expect(Date.parse(lease.spec.acquireTime!) - stoppedAt).toBeLessThan(3_000);
  });
});

describe("an API server restart under a running operator", () => {
  let ns: string;
  let op: OperatorProcess;
  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-apiserver");
    op = startOperator(["--namespace", ns], { POD_NAME: "survivor" });
    await applyYaml(profileYaml("steady"), ns);
    await waitFor("the profile reconciled", () => allReconciled(ns));
  });
  afterAll(async () => {
    await op?.stop();
    await deleteOperatorNamespace(ns);
  });

  it("loses no update: a profile changed while the operator's watch is down is reconciled after it", async () => {
    const stop = spawnSync("bash", [`${ROOT}/e2e/cluster/cluster.sh`, "stop", "kube-apiserver"], { encoding: "utf8" });
    expect(stop.status).toBe(0);
    await sleep(3_000);
    const up = spawnSync("bash", [`${ROOT}/e2e/cluster/cluster.sh`, "up"], { encoding: "utf8" });
    expect(up.status, up.stderr).toBe(0);
    // Change the profile at once, before the operator's informer has come back from its backoff.
    await kubectlOk(["-n", ns, "patch", "pp", "steady", "--type=merge", "-p", '{"spec":{"targetRef":{"name":"steady-v2"}}}']);
    await applyYaml(profileYaml("newcomer"), ns);
    const profiles = await waitFor("both profiles reconciled after the outage", () => allReconciled(ns), { timeoutMs: 90_000 });
    expect(profiles.map((p) => p.metadata.name).sort()).toEqual(["newcomer", "steady"]);
    expect(op.logs().some((l) => l.msg === "list/watch failed; listing again")).toBe(true);
    const metrics = (await op.http("/metrics")).body;
    expect(metricValue(metrics, 'tollgate_informer_errors_total{resource="performanceprofiles"}')).toBeGreaterThan(0);
  });
});
