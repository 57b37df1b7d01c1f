// `npm run demo`: Tollgate's main job on an embedded default. Brings up the local control plane with
// Prometheus, a simulated game-service in the mesh, and the operator, then applies the seed's
// game-service profile and shows what Tollgate reports about it.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { startSimulator } from "../e2e/simulator/client.ts";
import { loadClusterEnv, ROOT } from "../e2e/support/env.ts";
import { applyYaml, installCrds, kubectl, kubectlJson, kubectlOk } from "../e2e/support/kubectl.ts";
import { startOperator } from "../e2e/support/operator.ts";
import { promScalar } from "../e2e/support/prometheus.ts";
import { sleep, waitFor } from "../e2e/support/wait.ts";

const NS = "tollgate-demo";
const keep = process.argv.includes("--keep");

function say(msg: string): void {
  process.stdout.write(`[demo ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function main(): Promise<void> {
  say("bringing up the local control plane and Prometheus (the first run builds Kubernetes from source)");
  const up = spawnSync("bash", [`${ROOT}/e2e/cluster/cluster.sh`, "up"], { stdio: "inherit" });
  if (up.status !== 0) throw new Error("cluster up failed");
  const env = loadClusterEnv();

  await installCrds();
  if ((await kubectl(["get", "namespace", NS])).code !== 0) await kubectlOk(["create", "namespace", NS]);
  // The seed's game service: Service, Deployment and its PerformanceProfile.
  await applyYaml(readFileSync(`${ROOT}/examples/game-service.yaml`, "utf8"), NS);
  await kubectlOk(["-n", NS, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
  say("game-service is running on the kwok node");

  const sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
  await sim.setWorkload(NS, "game-service", { rate: 50, errorRatio: 0.002 });
  say(`simulated mesh traffic at ${sim.url}: 50 req/s, 0.2 % errors`);

  const operator = startOperator(["--namespace", NS, "--prometheus-url", env.PROMETHEUS_URL]);
  await waitFor("the profile to become Ready", async () => {
    const p = await kubectlJson<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(["-n", NS, "get", "pp", "game-service"]);
    return p.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True");
  });
  process.stdout.write(await kubectlOk(["-n", NS, "get", "pp"]));

  const sel = `destination_workload="game-service",destination_workload_namespace="${NS}"`;
  await sleep(12_000); // a full 10 s rate window of scrapes
  const ratio = await waitFor("Prometheus to see the traffic", async () => {
    return promScalar(`sum(rate(istio_requests_total{${sel},response_code=~"5.."}[10s])) / sum(rate(istio_requests_total{${sel}}[10s]))`);
  }, { timeoutMs: 30_000 });
  say(`Prometheus reports game-service's error ratio at ${(ratio * 100).toFixed(2)} %`);

  if (keep) {
    say(`running; KUBECONFIG=${env.KUBECONFIG}. Ctrl-C to stop`);
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
  await operator.stop();
  await sim.stop();
  say("done; the cluster stays up (npm run cluster:down to stop it)");
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
