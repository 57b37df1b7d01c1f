// `npm run demo`: Tollgate's main job on an embedded default. Brings up the local control plane with
// Prometheus, a simulated mesh, and the operator; applies the seed's game-service profile (canary,
// circuit breaker, HPA) with a one-minute SLO window and a 10 s canary interval so everything plays out in
// minutes; then ships releases: a good one walks the canary 10 → 50 % and is promoted, a broken one fails
// its canary, and one whose slow burn passes the canary's gate walks the budget Warning (90 %) → Frozen
// (100 %) → rolled back (150 %) → unfrozen (< 70 %). It prints the timeline as Tollgate reports it.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { startSimulator } from "../e2e/simulator/client.ts";
import { loadClusterEnv, ROOT } from "../e2e/support/env.ts";
import { recreateOperatorNamespace } from "../e2e/support/identity.ts";
import { applyYaml, installCrds, kubectl, kubectlJson, kubectlOk } from "../e2e/support/kubectl.ts";
import { startOperator, type OperatorProcess } from "../e2e/support/operator.ts";
import { exitOnSignals } from "../e2e/support/processes.ts";
import { startReceiver } from "../e2e/support/receiver.ts";
import { sleep, waitFor } from "../e2e/support/wait.ts";

const NS = "tollgate-demo";
/** The operator, so a failure can show what it last complained about. */
let running: OperatorProcess | undefined;
const keep = process.argv.includes("--keep");
const t0 = Date.now();

interface Status {
  phase?: string;
  budget?: { consumedPercent: number; worstSlo: string; worstBurnRate?: number };
  lastKnownGood?: { revision: number };
  rollback?: { revision: number; from: number };
  canary?: { phase: string; weight: number };
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
  profile.spec.canary = { ...(profile.spec.canary as object), interval: "10s" };
  return docs.map((d) => JSON.stringify(d)).join("\n---\n");
}

const RATE = 1000;
const MIX = { latencies: [{ ms: 80, weight: 97 }, { ms: 700, weight: 3 }] }; // P95 well under 500 ms

/**
 * The simulated mesh: 1000 req/s split between primary and the canary by the VirtualService's weights,
 * each pod failing the error ratio of the image it runs, as Istio's sidecars would report it.
 */
class Mesh {
  readonly errors = new Map<string, number>();
  private readonly sim: Awaited<ReturnType<typeof startSimulator>>;
  constructor(sim: Awaited<ReturnType<typeof startSimulator>>) {
    this.sim = sim;
  }
  async sync(): Promise<void> {
    const image = async (name: string) => {
      const d = await kubectl(["-n", NS, "get", "deployment", name, "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
      return d.code === 0 ? d.stdout.trim() : undefined;
    };
    const vs = await kubectl(["-n", NS, "get", "virtualservice", "game-service", "-o", "jsonpath={.spec.http[0].route[1].weight}"]);
    const canaryShare = vs.code === 0 && vs.stdout.trim() !== "" ? Number(vs.stdout) / 100 : 0;
    const [primary, canary] = await Promise.all([image("game-service-primary"), image("game-service")]);
    // Before primary exists the target serves everything.
    const share = primary ? canaryShare : 1;
    await this.sim.setWorkload(NS, "game-service-primary", { rate: Math.round(RATE * (1 - share)), errorRatio: this.errors.get(primary ?? "") ?? 0.001, ...MIX });
    await this.sim.setWorkload(NS, "game-service", { rate: Math.round(RATE * share), errorRatio: this.errors.get(canary ?? "") ?? 0.001, ...MIX });
  }
}

async function main(): Promise<void> {
  say("bringing up the local control plane and Prometheus (the first run builds Kubernetes from source)");
  if (spawnSync("bash", [`${ROOT}/e2e/cluster/cluster.sh`, "up"], { stdio: "inherit" }).status !== 0) throw new Error("cluster up failed");
  const env = loadClusterEnv();
  await installCrds();
  // The operator runs as the Helm chart installs it: its ServiceAccount, its RBAC.
  await recreateOperatorNamespace(NS, 60);

  // Slack and PagerDuty, played by a local receiver: every notification Tollgate sends shows up below.
  const receiver = await startReceiver();
  await kubectlOk(["-n", NS, "create", "secret", "generic", "demo-alerting", `--from-literal=slack=${receiver.url}/slack`, "--from-literal=pagerduty=demo-routing-key"]);
  const sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
  const mesh = new Mesh(sim);
  await mesh.sync();
  const meshTimer = setInterval(() => void mesh.sync().catch(() => undefined), 500);
  const operator = (running = startOperator([
    "--namespace",
    NS,
    "--prometheus-url",
    env.PROMETHEUS_URL,
    "--pagerduty-url",
    `${receiver.url}/pd`,
    // Slack is played by the local receiver; the operator calls only URLs it is told to allow.
    "--notification-allowed-url",
    `${receiver.url}/slack`,
  ]));
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
      const c = s.canary && (s.canary.weight > 0 || s.canary.phase === "Progressing") ? `  canary ${s.canary.weight} %` : "";
      const line = `phase ${(s.phase ?? "-").padEnd(11)} budget ${b ? `${b.consumedPercent.toFixed(1).padStart(5)} % (${b.worstSlo})` : "   -"}${c}`;
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
  const canaryOver = (image: string, want: string) =>
    waitFor(`the canary of ${image} ${want}`, async () => {
      const s = await status();
      return s.canary?.phase === want && s.canary.weight === 0 ? true : undefined;
    }, { timeoutMs: 180_000, intervalMs: 500 });
  const ship = (image: string) => kubectlOk(["-n", NS, "set", "image", "deployment/game-service", `game=registry.example/game-service:${image}`]);
  await waitFor("game-service-primary to take the traffic", async () => ((await status()).canary?.phase === "Waiting" ? true : undefined), { timeoutMs: 90_000 });
  say("Tollgate created game-service-primary and routes 100 % to it; game-service itself is the canary slot, scaled to 0");
  await waitFor("a last known good revision", async () => (await status()).lastKnownGood, { timeoutMs: 90_000 });
  say("1.0.0 ran healthy for stableAfter (10s): it is the last known good");

  say("ship 1.1.0, a good release: it goes out as a canary, +10 % every 10 s while it burns at most 2× the budget rate");
  mesh.errors.set("registry.example/game-service:1.1.0", 0.001);
  await ship("1.1.0");
  await canaryOver("1.1.0", "Succeeded");
  say("1.1.0 passed at 50 % and was promoted: game-service-primary runs it");

  say("ship 1.2.0, which fails 5 % of requests (10× the budget rate)");
  mesh.errors.set("registry.example/game-service:1.2.0", 0.05);
  await ship("1.2.0");
  await canaryOver("1.2.0", "Failed");
  say("1.2.0 failed its canary; only its share of the traffic ever saw it");

  say("ship 2.0.0, which fails 0.6 % of requests (1.2× the budget rate: under the canary's gate of 2×, a slow burn)");
  mesh.errors.set("registry.example/game-service:2.0.0", 0.006);
  await ship("2.0.0");
  await canaryOver("2.0.0", "Succeeded");
  await phase("Frozen");
  const refused = await kubectl(["-n", NS, "set", "image", "deployment/game-service", "game=registry.example/game-service:2.0.1"]);
  say(`kubectl set image game-service:2.0.1 → refused:\n        ${refused.stderr.trim().split("\n").pop()}`);

  say("2.0.0 gets worse: 1 % errors (2× the budget rate)");
  mesh.errors.set("registry.example/game-service:2.0.0", 0.01);
  await waitFor("the rollback", async () => (await status()).rollback, { timeoutMs: 180_000, intervalMs: 500 });
  await kubectlOk(["-n", NS, "rollout", "status", "deployment/game-service-primary", "--timeout=90s"]);
  const image = (await kubectlJson<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(["-n", NS, "get", "deployment", "game-service-primary"])).spec.template.spec.containers[0]?.image;
  say(`rolled back: game-service-primary runs ${image} again; the errors stop`);

  await waitFor("the freeze to lift", async () => {
    const c = (await status()).conditions?.find((x) => x.type === "DeploymentsFrozen");
    return c?.reason === "Unfrozen" ? c : undefined;
  }, { timeoutMs: 180_000, intervalMs: 500 });
  await sleep(2_000);
  clearInterval(watcher);
  clearInterval(meshTimer);
  say("the budget recovered below 70 %: rollouts are open again");
  process.stdout.write(`\n${await kubectlOk(["-n", NS, "get", "pp"])}`);

  if (keep) {
    say(`still running; KUBECONFIG=${env.KUBECONFIG} kubectl -n ${NS} describe pp game-service. Ctrl-C to stop`);
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
  await operator.stop();
  await sim.stop();
  await receiver.close();
  say("done");
}

exitOnSignals();
main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  // pino's levels: 40 warn, 50 error.
  const complaints = (running?.logs() ?? []).filter((l) => typeof l.level === "number" && l.level >= 40).slice(-15);
  if (complaints.length > 0) process.stderr.write(`the operator's last warnings and errors:\n${complaints.map((l) => JSON.stringify(l)).join("\n")}\n`);
  process.exit(1);
});
