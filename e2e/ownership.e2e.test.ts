import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import type { Condition } from "./support/conditions.ts";
import { loadClusterEnv } from "./support/env.ts";
import { holdsFor } from "./support/hold.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { applyYaml, installCrds, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { CLEANUP_FINALIZER, deleteProfiles, findProfile } from "./support/profiles.ts";
import { waitFor } from "./support/wait.ts";
import { availabilityProfileYaml, deploymentYaml } from "./support/workloads.ts";

// Who a Deployment belongs to, and how Tollgate gives it back: a profile carries Tollgate's finalizer,
// and deleting it, or pointing it at another Deployment, first lifts the freeze it holds (and deletes
// the HPA and DestinationRule it made); of two profiles naming one Deployment, the first governs it and
// the second waits its turn.
//
// Budgets here: one availability SLO over a one-minute window, read every 2 s. The simulator fails 3 %
// of requests: against a 99 % objective (a 1 % budget) that is 300 % consumed, frozen from the first
// verdicts; against 90 % (a 10 % budget) it is 30 %, healthy. rollbackAt 1000 keeps rollbacks out.

const INTERVAL_MS = 2_000;
const RATE = 100;
const BURNING = 0.03;
const CALM = 0.001;
const EXHAUSTED = 99; // objective: 300 % of the budget consumed at BURNING
const HEALTHY = 90; // objective: 30 % consumed at BURNING

const profileYaml = (name: string, target: string, objective: number, extra = "") =>
  availabilityProfileYaml({ name, target, objective, intervalS: INTERVAL_MS / 1000, minEvents: 100, policy: "    rollbackAt: 1000\n", extra });

interface Deployment {
  metadata: { generation: number; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { replicas?: number; paused?: boolean; template: { spec: { containers: Array<{ image: string }> } } };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number };
}
interface Profile {
  metadata: { name: string; uid: string; generation: number; finalizers?: string[]; deletionTimestamp?: string };
  status?: { phase?: string; observedGeneration?: number; conditions?: Condition[] };
}
interface Owned {
  metadata: { ownerReferences?: Array<{ kind: string; name: string; uid: string }> };
}

/** What marks a Deployment frozen, as one object so a failed expectation shows all of it. */
function freezeMarks(d: Deployment) {
  return {
    frozenLabel: d.metadata.labels?.["tollgate.dev/frozen"],
    frozenBy: d.metadata.annotations?.["tollgate.dev/frozen-by"],
    freezeReason: d.metadata.annotations?.["tollgate.dev/freeze-reason"],
    paused: d.spec.paused ?? false,
  };
}
const HANDED_BACK = { frozenLabel: undefined, frozenBy: undefined, freezeReason: undefined, paused: false };

describe("who owns a Deployment, and how Tollgate hands it back", () => {
  let ns: string;
  let sim: Simulator;
  let operator: OperatorProcess;

  const deployment = (name: string) => kubectlJson<Deployment>(["-n", ns, "get", "deployment", name]);
  const profile = (name: string) => kubectlJson<Profile>(["-n", ns, "get", "pp", name]);
  const ready = (p: Profile) => p.status?.conditions?.find((c) => c.type === "Ready");
  const exists = async (kind: string, name: string) => (await kubectlOk(["-n", ns, "get", kind, name, "--ignore-not-found", "-o", "name"])).trim() !== "";

  const frozenBy = (name: string, by: string) =>
    waitFor(`Deployment ${name} frozen by ${by}`, async () => {
      const marks = freezeMarks(await deployment(name));
      if (marks.frozenLabel === "true" && marks.paused && marks.frozenBy === by) return marks;
      throw new Error(JSON.stringify(marks));
    }, { timeoutMs: 90_000, intervalMs: 500 });

  /** Deletes the profile without waiting, and waits until the API server no longer has it. */
  const deleteProfile = async (name: string) => {
    await kubectlOk(["-n", ns, "delete", "pp", name, "--wait=false"]);
    await waitFor(`profile ${name} to be gone`, async () => {
      const p = await findProfile<Profile>(ns, name);
      if (!p) return true;
      throw new Error(`still there: deletionTimestamp ${p.metadata.deletionTimestamp}, finalizers ${JSON.stringify(p.metadata.finalizers ?? [])}, phase ${p.status?.phase}`);
    }, { timeoutMs: 60_000, intervalMs: 250 });
  };

  /** The admission policy's verdict on a template change, asked with a server-side dry run (nothing changes). */
  const refusesNewImage = (name: string) =>
    waitFor(`the freeze policy to refuse a new image on ${name}`, async () => {
      const res = await kubectl(["-n", ns, "set", "image", `deployment/${name}`, "app=registry.example/app:refused", "--dry-run=server"]);
      return res.code !== 0 ? res.stderr : undefined;
    });

  /** `kubectl set image` must be admitted, and the rollout must complete. */
  const rollsOut = async (name: string, image: string) => {
    await kubectlOk(["-n", ns, "set", "image", `deployment/${name}`, `app=${image}`]);
    return waitFor(`the rollout of ${image} on ${name} to complete`, async () => {
      const d = await deployment(name);
      const s = d.status ?? {};
      const want = d.spec.replicas ?? 1;
      const done = d.spec.template.spec.containers[0]?.image === image && (s.observedGeneration ?? 0) >= d.metadata.generation && s.updatedReplicas === want && s.replicas === want;
      if (done) return d;
      throw new Error(`generation ${d.metadata.generation}, observed ${s.observedGeneration}, replicas ${s.replicas}, updated ${s.updatedReplicas} of ${want}, paused ${d.spec.paused ?? false}`);
    }, { timeoutMs: 90_000, intervalMs: 500 });
  };

  const createWorkload = async (name: string, errorRatio: number) => {
    await sim.setWorkload(ns, name, { rate: RATE, errorRatio });
    await applyYaml(deploymentYaml(name, "registry.example/app:1.0.0"), ns);
    await kubectlOk(["-n", ns, "rollout", "status", `deployment/${name}`, "--timeout=60s"]);
  };

  beforeAll(async () => {
    await installCrds();
    const env = loadClusterEnv();
    ns = await createOperatorNamespace("e2e-ownership");
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    operator = startOperator(["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL]);
  });
  afterAll(async () => {
    // With the operator still running, so its finalizer can hand every Deployment back.
    if (ns) await deleteProfiles(ns);
    await operator?.stop();
    await sim?.stop();
    if (ns) await deleteOperatorNamespace(ns);
  });

  describe("deleting a profile that holds a freeze", () => {
    beforeAll(async () => {
      await createWorkload("shop", BURNING);
      await applyYaml(
        profileYaml("shop", "shop", EXHAUSTED, "  trafficPolicy: {circuitBreaker: {}}\n  autoscaling: {minReplicas: 2, maxReplicas: 4}\n"),
        ns,
      );
    });

    it("puts the tollgate.dev/cleanup finalizer on the profile it reconciles", async () => {
      await waitFor("the profile reconciled", async () => {
        const p = await profile("shop");
        return p.status?.observedGeneration === p.metadata.generation ? p : undefined;
      });
      const p = await waitFor(`${CLEANUP_FINALIZER} on the profile`, async () => {
        const got = await profile("shop");
        if (got.metadata.finalizers?.includes(CLEANUP_FINALIZER)) return got;
        throw new Error(`finalizers ${JSON.stringify(got.metadata.finalizers ?? [])}`);
      }, { timeoutMs: 30_000 });
      // Tollgate's own finalizer, once.
      expect(p.metadata.finalizers?.filter((f) => f === CLEANUP_FINALIZER)).toHaveLength(1);
    });

    it("lifts the freeze, deletes its HPA and DestinationRule, and only then lets the profile go; a new image rolls out", { timeout: 300_000 }, async () => {
      await frozenBy("shop", "shop");
      expect((await profile("shop")).status?.phase).toBe("Frozen");
      const uid = (await profile("shop")).metadata.uid;
      for (const kind of ["hpa", "destinationrule"]) {
        await waitFor(`the ${kind} Tollgate made for shop`, async () => {
          const o = await kubectlJson<Owned>(["-n", ns, "get", kind, "shop"]);
          return o.metadata.ownerReferences?.some((r) => r.kind === "PerformanceProfile" && r.uid === uid) ? o : undefined;
        });
      }
      expect(await refusesNewImage("shop")).toContain("is frozen by PerformanceProfile shop");

      await deleteProfile("shop");
      // Read at once: the hand-back happens before the profile goes, not some time after.
      expect(freezeMarks(await deployment("shop"))).toEqual(HANDED_BACK);
      expect({ hpa: await exists("hpa", "shop"), destinationRule: await exists("destinationrule", "shop") }).toEqual({ hpa: false, destinationRule: false });

      const rolled = await rollsOut("shop", "registry.example/app:2.0.0");
      expect(freezeMarks(rolled)).toEqual(HANDED_BACK);
    });
  });

  describe("pointing a frozen profile at another Deployment", () => {
    beforeAll(async () => {
      await createWorkload("cart", BURNING);
      await createWorkload("cart-next", CALM);
      await applyYaml(profileYaml("cart", "cart", EXHAUSTED), ns);
    });

    it("lifts the freeze on the Deployment it leaves, and a new image rolls out there", { timeout: 240_000 }, async () => {
      await frozenBy("cart", "cart");
      expect(await refusesNewImage("cart")).toContain("is frozen by PerformanceProfile cart");

      await kubectlOk(["-n", ns, "patch", "pp", "cart", "--type=merge", "-p", '{"spec":{"targetRef":{"name":"cart-next"}}}']);
      await waitFor("cart handed back", async () => {
        const marks = freezeMarks(await deployment("cart"));
        if (JSON.stringify(marks) === JSON.stringify(HANDED_BACK)) return marks;
        throw new Error(JSON.stringify(marks));
      }, { timeoutMs: 60_000, intervalMs: 500 });

      const rolled = await rollsOut("cart", "registry.example/app:2.0.0");
      expect(freezeMarks(rolled)).toEqual(HANDED_BACK);
    });
  });

  describe("two profiles naming one Deployment", () => {
    beforeAll(async () => {
      await createWorkload("web", BURNING);
      await applyYaml(profileYaml("first", "web", EXHAUSTED), ns);
      await frozenBy("web", "first");
      // Created after first: first governs web. Its own budget is healthy (30 %), so if it were allowed
      // to act on web it would lift first's freeze.
      await applyYaml(profileYaml("second", "web", HEALTHY), ns);
    });

    it("refuses the second profile: Ready=False, TargetClaimed, naming the first", async () => {
      const c = await waitFor("second's Ready condition to say TargetClaimed", async () => {
        const r = ready(await profile("second"));
        if (r?.reason === "TargetClaimed") return r;
        throw new Error(JSON.stringify(r ?? null));
      }, { timeoutMs: 60_000, intervalMs: 500 });
      expect(c.status).toBe("False");
      expect(c.message).toContain("PerformanceProfile first");
    });

    it("keeps web frozen by first for five evaluation intervals after second reports", { timeout: 180_000 }, async () => {
      // Observed from the moment second has a verdict of its own, whatever it is.
      await waitFor("second reconciled", async () => ready(await profile("second")));
      await holdsFor("web frozen by first while second is reconciled", { intervalMs: INTERVAL_MS, intervals: 5, operator, reconciles: 5 }, async () => {
        const [d, p] = await Promise.all([deployment("web"), profile("first")]);
        expect(freezeMarks(d)).toMatchObject({ frozenLabel: "true", frozenBy: "first", paused: true });
        expect(p.status?.phase).toBe("Frozen");
      });
    });

    it("hands web to second once first is deleted, and second's healthy budget leaves it unfrozen", { timeout: 240_000 }, async () => {
      // Until now second was refused; what follows is the hand-over, not a profile that never waited.
      expect(ready(await profile("second"))?.reason).toBe("TargetClaimed");

      await deleteProfile("first");
      const c = await waitFor("second to take web over", async () => {
        const r = ready(await profile("second"));
        if (r && r.reason !== "TargetClaimed" && r.status === "True") return r;
        throw new Error(JSON.stringify(r ?? null));
      }, { timeoutMs: 60_000, intervalMs: 500 });
      expect(c.reason).not.toBe("TargetClaimed");
      await waitFor("web unfrozen", async () => {
        const marks = freezeMarks(await deployment("web"));
        if (JSON.stringify(marks) === JSON.stringify(HANDED_BACK)) return marks;
        throw new Error(JSON.stringify(marks));
      }, { timeoutMs: 60_000, intervalMs: 500 });
      await holdsFor("web unfrozen under second", { intervalMs: INTERVAL_MS, intervals: 3, operator, reconciles: 3 }, async () => {
        expect(freezeMarks(await deployment("web"))).toEqual(HANDED_BACK);
      });
    });
  });
});
