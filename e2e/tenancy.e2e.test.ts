import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import { loadClusterEnv } from "./support/env.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { applyYaml, installCrds, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { deleteProfiles } from "./support/profiles.ts";
import { sleep, waitFor } from "./support/wait.ts";
import { availabilityProfileYaml, deploymentYaml } from "./support/workloads.ts";

// A tenant names endpoints, headers and Secrets in its profile; the operator calls only what its owner
// allowed. A loopback listener stands in for every internal service a tenant might aim at: it must see
// no request at all, while each refused profile says why, naming the field.

interface Profile {
  status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
}

const INTERVAL_S = 2;
const profile = (name: string, target: string, o: { policy?: string; extra?: string }) => availabilityProfileYaml({ name, target, intervalS: INTERVAL_S, ...o });

describe("what a tenant may make the operator call", () => {
  let ns: string;
  let operator: OperatorProcess;
  let sim: Simulator;
  let trap: Server;
  let trapUrl = "";
  const hits: string[] = [];
  let dir = "";

  beforeAll(async () => {
    await installCrds();
    const env = loadClusterEnv();
    trap = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"success","data":{"resultType":"vector","result":[]}}');
    });
    await new Promise<void>((r) => trap.listen(0, "127.0.0.1", () => r()));
    trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    ns = await createOperatorNamespace("e2e-tenancy");
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    for (const name of ["shop", "cart", "pay", "ship", "bill", "mail", "ok"]) {
      await applyYaml(deploymentYaml(name, "registry.example/app:1"), ns);
      await sim.setWorkload(ns, name, { rate: 100, errorRatio: 0.001 });
    }
    await kubectlOk(["-n", ns, "create", "secret", "generic", "alerting", `--from-literal=internal=${trapUrl}/hook?token=SECRETPART`]);
    // The owner's one named connection: the cluster's Prometheus, as "local".
    dir = mkdtempSync(join(tmpdir(), "tollgate-tenancy-"));
    writeFileSync(join(dir, "connections.yaml"), `connections:\n  - {name: local, url: "${env.PROMETHEUS_URL}"}\n`);
    operator = startOperator(["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL, "--prometheus-connections", join(dir, "connections.yaml")]);
    await applyYaml(
      [
        profile("shop", "shop", { extra: `  prometheus: {address: "${trapUrl}"}\n` }),
        profile("cart", "cart", { extra: "  prometheus: {headers: {X-Scope-OrgID: other-team}}\n" }),
        profile("pay", "pay", { extra: "  prometheus: {bearerTokenSecretRef: {name: prom-token, key: token}}\n" }),
        profile("ship", "ship", { extra: "  prometheus: {connection: elsewhere}\n" }),
        profile("bill", "bill", { policy: `    notifications:\n      - {name: hook, type: webhook, url: "${trapUrl}/hook", events: [Frozen]}\n` }),
        profile("mail", "mail", { policy: "    notifications:\n      - {name: chat, type: slack, secretRef: {name: alerting, key: internal}, events: [Warning]}\n" }),
        profile("ok", "ok", { extra: "  prometheus: {connection: local}\n" }),
      ].join("\n---\n"),
      ns,
    );
  }, 120_000);

  afterAll(async () => {
    await deleteProfiles(ns);
    const code = await operator?.stop();
    await sim?.stop();
    await deleteOperatorNamespace(ns);
    await new Promise<void>((r) => trap.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  const ready = (name: string) =>
    waitFor(`${name}'s Ready condition`, async () => {
      const p = await kubectlJson<Profile>(["-n", ns, "get", "pp", name]);
      const c = p.status?.conditions?.find((x) => x.type === "Ready");
      return c && c.reason !== "Reconciling" ? c : undefined;
    });

  it.each([
    ["shop", "EndpointNotAllowed", "spec.prometheus.address"],
    ["cart", "HeadersNotAllowed", "spec.prometheus.headers.X-Scope-OrgID"],
    ["pay", "SecretNotFound", "spec.prometheus.bearerTokenSecretRef"],
    ["ship", "ConnectionNotFound", "spec.prometheus.connection"],
    ["bill", "EndpointNotAllowed", "spec.policy.notifications[0].url"],
    ["mail", "EndpointNotAllowed", "spec.policy.notifications[0].secretRef"],
  ])("refuses %s with Ready=False %s naming %s", async (name, reason, field) => {
    const c = await ready(name);
    expect(c).toMatchObject({ status: "False", reason });
    expect(c.message.startsWith(`${field}: `)).toBe(true);
    expect(c.message).not.toContain("SECRETPART");
  });

  it("reads the budget through a connection the operator was given", async () => {
    // Its first passes may find no data yet; a connection it may not use would never turn True.
    const c = await waitFor("ok's Ready=True", async () => {
      const p = await kubectlJson<Profile>(["-n", ns, "get", "pp", "ok"]);
      const r = p.status?.conditions?.find((x) => x.type === "Ready");
      return r?.status === "True" ? r : undefined;
    });
    expect(c).toMatchObject({ status: "True", reason: "Reconciled" });
  });

  it("sends nothing to an endpoint it was not allowed to call, over several evaluations", async () => {
    await ready("shop");
    await sleep(3 * INTERVAL_S * 1000);
    expect(hits).toEqual([]);
  });
});
