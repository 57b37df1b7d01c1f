import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import { canaryProfileYaml } from "./support/canary.ts";
import type { Condition } from "./support/conditions.ts";
import { loadClusterEnv } from "./support/env.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { applyYaml, installCrds, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { sleep, waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";

// A profile's VirtualService may name only what is the tenant's: its own Service, mesh and gateways in
// its namespace, and what the operator allows (--allowed-gateway, --allowed-host). Tollgate writes the
// VirtualService with its own rights, so a refused profile must get nothing written for it. The
// operator runs under the chart's RBAC; the simulator serves Istio's metrics so an accepted profile
// becomes Ready=True.

const SHARED_GATEWAY = "istio-system/public-gateway";
const SHOP_HOST = "cart.shop.example.com";

interface Profile {
  status?: { conditions?: Condition[] };
}
interface VirtualService {
  spec: { hosts: string[]; gateways: string[]; http: Array<{ route: Array<{ destination: { subset: string }; weight: number }> }> };
}

/** The game service's canary profile with `service` as canary.service (YAML flow mapping). */
const profileYaml = (service: string): string => canaryProfileYaml({ service, interval: "10s" });

const FOREIGN_GATEWAY = profileYaml(`{name: game-service, port: 8080, gateways: [mesh, ${SHARED_GATEWAY}]}`);
const FOREIGN_HOST = profileYaml(`{name: game-service, port: 8080, hosts: [game-service, ${SHOP_HOST}], gateways: [mesh]}`);
const both = (ns: string) =>
  profileYaml(`{name: game-service, port: 8080, hosts: [game-service.${ns}.svc.cluster.local, ${SHOP_HOST}], gateways: [mesh, ${SHARED_GATEWAY}]}`);

describe("canary hosts and gateways stay in the tenant's scope", () => {
  const env = loadClusterEnv();
  let ns = "";
  let sim: Simulator | undefined;
  let operator: OperatorProcess | undefined;

  const ready = async (): Promise<Condition | undefined> =>
    (await kubectlJson<Profile>(["-n", ns, "get", "pp", "game-service"])).status?.conditions?.find((c) => c.type === "Ready");
  /** Waits for the Ready condition; a timeout says what it was instead and what Tollgate had written. */
  const readyWith = (status: string, reason: string) =>
    waitFor(`Ready=${status} ${reason}`, async () => {
      const c = await ready();
      if (c?.status === status && c.reason === reason) return c;
      throw new Error(`Ready=${c?.status} ${c?.reason}: ${c?.message}; written: ${JSON.stringify(await written())}`);
    }, { timeoutMs: 60_000, intervalMs: 300 });
  const exists = async (kind: string, name: string) => (await kubectl(["-n", ns, "get", kind, name, "-o", "name"])).code === 0;
  /** Everything a canary's set-up writes: none of it may exist for a refused profile. */
  const written = async () => ({
    virtualService: await exists("virtualservice", "game-service"),
    destinationRule: await exists("destinationrule", "game-service"),
    primary: await exists("deployment", "game-service-primary"),
    trackLabel: (await kubectlJson<{ spec: { template: { metadata: { labels: Record<string, string> } } } }>(["-n", ns, "get", "deployment", "game-service"]))
      .spec.template.metadata.labels["tollgate.dev/track"] ?? null,
  });
  const warnings = async (reason: string) =>
    (await kubectlJson<{ items: Array<{ reason: string; type: string; message: string; involvedObject: { kind: string } }> }>(["-n", ns, "get", "events"])).items.filter(
      (e) => e.involvedObject.kind === "PerformanceProfile" && e.reason === reason && e.type === "Warning",
    );

  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-scope");
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    await sim.setWorkload(ns, "game-service-primary", { rate: 200, errorRatio: 0 });
    await sim.setWorkload(ns, "game-service", { rate: 0, errorRatio: 0 });
    await applyYaml(deploymentYaml("game-service", "registry.example/game-service:1.0.0"), ns);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
  }, 120_000);

  afterAll(async () => {
    await operator?.stop();
    await sim?.stop();
    if (ns) await deleteOperatorNamespace(ns);
  });

  it("the API server refuses a gateway written name.namespace and a host with a trailing dot, naming the item", async () => {
    // Suites share the cluster's one CRD: apply this tree's again right before relying on its rules.
    await installCrds();
    const dotted = await kubectl(["apply", "-n", ns, "-f", "-"], {
      input: profileYaml("{name: game-service, port: 8080, gateways: [mesh, public-gateway.istio-system]}"),
    });
    expect(dotted.code).not.toBe(0);
    expect(dotted.stderr).toContain("spec.canary.service.gateways[1]");
    expect(dotted.stderr).toContain("a name without a namespace has no dots (Istio reads name.namespace as a gateway in another namespace)");

    const trailing = await kubectl(["apply", "-n", ns, "-f", "-"], { input: profileYaml("{name: game-service, port: 8080, hosts: [game.example.com.]}") });
    expect(trailing.code).not.toBe(0);
    expect(trailing.stderr).toContain("spec.canary.service.hosts[0]");
    expect(trailing.stderr).toContain("canary.service.hosts[] must be a lower-case DNS name");
    expect(await exists("performanceprofile", "game-service")).toBe(false);
  });

  it("refuses a profile binding another namespace's gateway: Ready=False GatewayNotAllowed naming the field, and writes nothing", async () => {
    await applyYaml(FOREIGN_GATEWAY, ns);
    operator = startOperator(["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL]);
    const c = await readyWith("False", "GatewayNotAllowed");
    expect(c.message).toBe(
      `spec.canary.service.gateways[1]: "${SHARED_GATEWAY}" is a gateway in namespace istio-system; a profile in ${ns} may bind mesh, ` +
        `gateways in ${ns}, and those the operator allows (--allowed-gateway: none); the operator allows this one with ` +
        `--allowed-gateway ${SHARED_GATEWAY} (Helm value istio.allowedGateways).`,
    );
    await waitFor("a Warning event GatewayNotAllowed", async () => ((await warnings("GatewayNotAllowed")).length > 0 ? true : undefined));
    // Several passes later (evaluationInterval 2s) still nothing: no routes, no subsets, no primary, no label.
    await sleep(6_000);
    expect(await written()).toEqual({ virtualService: false, destinationRule: false, primary: false, trackLabel: null });
    expect((await ready())?.reason).toBe("GatewayNotAllowed");
  });

  it("refuses a host outside the profile's Service the same way, at the exact item", async () => {
    await applyYaml(FOREIGN_HOST, ns);
    const c = await readyWith("False", "HostNotAllowed");
    expect(c.message).toMatch(
      new RegExp(`^spec\\.canary\\.service\\.hosts\\[1\\]: "${SHOP_HOST.replace(/\./g, "\\.")}" is neither this profile's Service \\(game-service, game-service\\.${ns}, `),
    );
    expect(c.message).toContain(`(--allowed-host: none); the operator allows it with --allowed-host ${SHOP_HOST}, or a pattern covering it (Helm value istio.allowedHosts).`);
    await sleep(4_000);
    expect(await written()).toEqual({ virtualService: false, destinationRule: false, primary: false, trackLabel: null });
  });

  it("with --allowed-gateway and --allowed-host the same names are accepted and the VirtualService carries them", async () => {
    await operator?.stop();
    await applyYaml(both(ns), ns);
    operator = startOperator([
      "--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL,
      "--allowed-gateway", SHARED_GATEWAY, "--allowed-host", "*.shop.example.com",
    ]);
    const vs = await waitFor("the VirtualService with all traffic on primary", async () => {
      const r = await kubectl(["-n", ns, "get", "virtualservice", "game-service", "-o", "json"]);
      if (r.code !== 0) return undefined;
      const v = JSON.parse(r.stdout) as VirtualService;
      return v.spec.http[0]?.route.find((d) => d.destination.subset === "primary")?.weight === 100 ? v : undefined;
    }, { timeoutMs: 90_000, intervalMs: 300 });
    expect(vs.spec.hosts).toEqual([`game-service.${ns}.svc.cluster.local`, SHOP_HOST]);
    expect(vs.spec.gateways).toEqual(["mesh", SHARED_GATEWAY]);
    const c = await readyWith("True", "Reconciled");
    expect(c.message).toBe("The profile is valid and Tollgate is reconciling it.");
    expect(await written()).toMatchObject({ virtualService: true, destinationRule: true, primary: true, trackLabel: "canary" });
  });
});
