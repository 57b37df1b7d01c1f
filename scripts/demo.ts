// `npm run demo`: Tollgate's main job on an embedded default. Brings up the local control plane with
// Prometheus, a simulated mesh, and the operator; applies the seed's game-service profile with a
// one-minute SLO window so an incident plays out in minutes; then drives the simulated error rate so the
// budget walks Healthy → Warning (90 %) → Frozen (100 %) → rolled back (150 %) → recovery → unfrozen
// (< 70 %), printing the timeline as Tollgate reports it.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { startSimulator } from "../e2e/simulator/client.ts";
import { loadClusterEnv, ROOT } from "../e2e/support/env.ts";
import { applyYaml, installCrds, kubectl, kubectlJson, kubectlOk } from "../e2e/support/kubectl.ts";
import { startOperator } from "../e2e/support/operator.ts";
import { startReceiver } from "../e2e/support/receiver.ts";
import { sleep, waitFor } from "../e2e/support/wait.ts";

const NS = "tollgate-demo";
const keep = process.argv.includes("--keep");
const t0 = Date.now();

interface Status {
  phase?: string;
  budget?: { consumedPercent: number; worstSlo: string; worstBurnRate?: number };
  lastKnownGood?: { revision: number };
  rollback?: { revision: number; from: number };
  conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
}

function clock(): string {
  const s = Math.floor((Date.now() - t0) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}
function say(msg: string): void {
  process.stdout.write(`${clock()}  ${msg}\n`);
}

/** The seed's game-service example as it stands, with the SLO windows shortened to a minute for the demo. */
function demoManifests(): string {
  type Doc = {
    kind?: string;
    spec: { slos: Array<{ window?: string }>; policy: { notifications: Array<{ type: string }> }; canary?: unknown };
  };
  const docs = parseAllDocuments(readFileSync(`${ROOT}/examples/game-service.yaml`, "utf8")).map((d) => d.toJSON() as Doc);
  const profile = docs.find((d) => d.kind === "PerformanceProfile")!;
  for (const slo of profile.spec.slos) slo.window = "1m";
  profile.spec.policy = {
    ...profile.spec.policy,
    evaluationInterval: "2s",
    stableAfter: "10s",
    notifications: profile.spec.policy.notifications.map((n) => ({ ...n, secretRef: { name: "demo-alerting", key: n.type } })),
  } as Doc["spec"]["policy"];
  delete profile.spec.canary; // the demo shows the budget policy; canaries have their own
  return docs.map((d) => JSON.stringify(d)).join("\n---\n");
}

async function main(): Promise<void> {
  say("bringing up the local control plane and Prometheus (the first run builds Kubernetes from source)");
  if (spawnSync("bash", [`${ROOT}/e2e/cluster/cluster.sh`, "up"], { stdio: "inherit" }).status !== 0) throw new Error("cluster up failed");
  const env = loadClusterEnv();
  await installCrds();
  await kubectl(["delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=60s"]);
  await kubectlOk(["create", "namespace", NS]);

  // Slack and PagerDuty, played by a local receiver: every notification Tollgate sends shows up below.
  const receiver = await startReceiver();
  await kubectlOk(["-n", NS, "create", "secret", "generic", "demo-alerting", `--from-literal=slack=${receiver.url}/slack`, "--from-literal=pagerduty=demo-routing-key"]);
  const sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
  const mix = { latencies: [{ ms: 80, weight: 97 }, { ms: 700, weight: 3 }] }; // P95 well under 500 ms
  await sim.setWorkload(NS, "game-service", { rate: 1000, errorRatio: 0.001, ...mix });
  const operator = startOperator(["--namespace", NS, "--prometheus-url", env.PROMETHEUS_URL, "--pagerduty-url", `${receiver.url}/pd`]);
  await applyYaml(demoManifests(), NS);
  await kubectlOk(["-n", NS, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
  say("game-service 1.0.0 runs on the kwok node; 1000 req/s, 0.1 % errors, 3 % slower than 500 ms");

  // The timeline: phase and budget as status shows them, Tollgate's events and notifications as they happen.
  let last = "";
  const seenEvents = new Set<string>();
  let seenNotes = 0;
  const status = async () => (await kubectlJson<{ status?: Status }>(["-n", NS, "get", "pp", "game-service"])).status ?? {};
  const watcher = setInterval(() => {
    void (async () => {
      const s = await status();
      const b = s.budget;
      const line = `phase ${(s.phase ?? "-").padEnd(11)} budget ${b ? `${b.consumedPercent.toFixed(1).padStart(5)} % (${b.worstSlo})` : "   -"}`;
      if (line !== last) say(line);
      last = line;
      const evs = await kubectlJson<{ items: Array<{ metadata: { name: string }; reason: string; message: string; involvedObject: { kind: string } }> }>(["-n", NS, "get", "events"]);
      for (const e of evs.items) {
        if (e.involvedObject.kind !== "PerformanceProfile" || seenEvents.has(e.metadata.name)) continue;
        seenEvents.add(e.metadata.name);
        say(`  event ${e.reason}: ${e.message}`);
      }
      for (const r of receiver.received.slice(seenNotes)) {
        const what = r.path === "/slack" ? `Slack: ${String(r.body.text)}` : `PagerDuty ${String(r.body.event_action)}: ${String((r.body.payload as { summary?: string } | undefined)?.summary ?? r.body.dedup_key)}`;
        say(`  notified ${what}`);
      }
      seenNotes = receiver.received.length;
    })().catch(() => undefined);
  }, 1_000);

  const phase = (want: string) => waitFor(`phase ${want}`, async () => ((await status()).phase === want ? true : undefined), { timeoutMs: 180_000, intervalMs: 500 });
  await phase("Healthy");
  await waitFor("a last known good revision", async () => (await status()).lastKnownGood, { timeoutMs: 90_000 });
  say("revision 1 ran healthy for stableAfter (10s): it is the last known good");

  say("ship 2.0.0, which fails 0.6 % of requests (1.2× the budget rate)");
  await kubectlOk(["-n", NS, "set", "image", "deployment/game-service", "game=registry.example/game-service:2.0.0"]);
  await sim.setWorkload(NS, "game-service", { errorRatio: 0.006 });
  await phase("Frozen");
  const refused = await kubectl(["-n", NS, "set", "image", "deployment/game-service", "game=registry.example/game-service:2.0.1"]);
  say(`kubectl set image game-service:2.0.1 → refused:\n        ${refused.stderr.trim().split("\n").pop()}`);

  say("2.0.0 gets worse: 1 % errors (2× the budget rate)");
  await sim.setWorkload(NS, "game-service", { errorRatio: 0.01 });
  await waitFor("the rollback", async () => (await status()).rollback, { timeoutMs: 180_000, intervalMs: 500 });
  await kubectlOk(["-n", NS, "rollout", "status", "deployment/game-service", "--timeout=90s"]);
  const image = (await kubectlJson<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(["-n", NS, "get", "deployment", "game-service"])).spec.template.spec.containers[0]?.image;
  say(`rolled back: game-service runs ${image} again; the errors stop`);
  await sim.setWorkload(NS, "game-service", { errorRatio: 0.0005 });

  await waitFor("the freeze to lift", async () => {
    const c = (await status()).conditions?.find((x) => x.type === "DeploymentsFrozen");
    return c?.reason === "Unfrozen" ? c : undefined;
  }, { timeoutMs: 180_000, intervalMs: 500 });
  await sleep(2_000);
  clearInterval(watcher);
  say("the budget recovered below 70 %: rollouts are open again");
  process.stdout.write(`\n${await kubectlOk(["-n", NS, "get", "pp"])}`);

  if (keep) {
    say(`still running; KUBECONFIG=${env.KUBECONFIG} kubectl -n ${NS} describe pp game-service. Ctrl-C to stop`);
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
  await operator.stop();
  await sim.stop();
  await receiver.close();
  say("done; the cluster stays up (npm run cluster:down stops it)");
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
