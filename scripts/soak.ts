// `npm run soak -- --minutes N --seed S [--profiles P]`: a chaos soak on the local test cluster, judged by
// an independent invariant checker (e2e/soak/).
//
// Two operator replicas with leader election under the Helm chart's identity govern P profiles (budget
// only, canary, and guard mode with traffic policy and HPA) while each workload's traffic moves at random
// between healthy, slow burn, fast burn and zero, new images are pushed through an Argo CD–style
// server-side-apply loop (the second writer), and faults come one after another: Prometheus stopped,
// slow, dropping or hanging (a loopback proxy sits between the operators and Prometheus), the API server
// stopped, the leader SIGKILLed or SIGTERMed (and started again), the notification receiver answering
// 5xx. Everything is drawn from the seed up front (scripts/soak/plan.ts); only timing varies.
//
// The run directory e2e/.run/soak/<time>/ holds plan.json, faults.jsonl, traffic.jsonl, pushes.jsonl,
// gitops.jsonl, receiver.jsonl, rss.jsonl, statuses.jsonl, the operators' logs and meta.json; then the
// checker copies the audit log's lines and Prometheus's samples in and judges. Its last line, and the
// soak's, is {"minutes":…,"faults":…,"decisions":…,"violations":…}; the exit code is non-zero when a
// violation was found. Everything the soak starts ends when it ends.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { startSimulator, type Simulator } from "../e2e/simulator/client.ts";
import type { Meta } from "../e2e/soak/run.ts";
import { loadClusterEnv, ROOT } from "../e2e/support/env.ts";
import { recreateOperatorNamespace, releaseName, uninstallOperatorIdentity } from "../e2e/support/identity.ts";
import { dropProfileFinalizers, installCrds, kubectl } from "../e2e/support/kubectl.ts";
import { track } from "../e2e/support/processes.ts";
import { KubeClient } from "../src/kube/client.ts";
import { loadClusterAccess } from "../src/kube/cluster-access.ts";
import { Resources } from "../src/kube/resources.ts";
import type { KubeObject } from "../src/kube/types.ts";
import { GitOps } from "./soak/gitops.ts";
import { jsonl, type JsonlWriter } from "./soak/jsonl.ts";
import { Mesh } from "./soak/mesh.ts";
import { makePlan, type Fault, type SoakPlan } from "./soak/plan.ts";
import { startPrometheusProxy, type PrometheusProxy } from "./soak/prometheus-proxy.ts";
import { startSoakReceiver, type SoakReceiver } from "./soak/receiver.ts";
import { heapUsedBytes, Replicas, rssKiB } from "./soak/replicas.ts";

const NS = "tollgate-soak";
const CLUSTER = join(ROOT, "e2e/cluster/cluster.sh");

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    seed: { type: "string", default: "1" },
    profiles: { type: "string", default: "24" },
  },
});
const minutes = Number(values.minutes);
const seed = Number(values.seed);
const profileCount = Number(values.profiles);
if (!(minutes >= 1) || !Number.isInteger(seed) || !(profileCount >= 3)) {
  process.stderr.write("usage: npm run soak -- --minutes N (>= 1) --seed S (an integer) [--profiles P (>= 3)]\n");
  process.exit(2);
}

const t0 = Date.now();
function say(msg: string): void {
  const s = Math.floor((Date.now() - t0) / 1000);
  process.stdout.write(`${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}  ${msg}\n`);
}

// Ctrl-C or a CI timeout: the first signal winds the run down (faults undone, operators stopped); a
// second one exits at once (processes.ts's exit hook still kills every child).
const abort = new AbortController();
for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  process.on(sig, () => {
    if (abort.signal.aborted) process.exit(code);
    say(`${sig}: winding the run down`);
    abort.abort();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (abort.signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      abort.signal.removeEventListener("abort", done);
      resolve();
    }
    abort.signal.addEventListener("abort", done, { once: true });
  });
}

/** Runs a command to completion, its output appended to `log`; resolves to its exit code. */
function run(cmd: string, args: string[], log: string): Promise<number> {
  const fd = openSync(log, "a");
  const child = track(spawn(cmd, args, { stdio: ["ignore", fd, fd] }));
  closeSync(fd);
  return new Promise((resolve) => {
    child.once("error", () => resolve(-1));
    child.once("exit", (code) => resolve(code ?? -1));
  });
}

interface Context {
  runDir: string;
  prometheusUrl: string;
  plan: SoakPlan;
  admin: KubeClient;
  faults: JsonlWriter;
  proxy: PrometheusProxy;
  receiver: SoakReceiver;
  replicas: Replicas;
  /** A cluster component a fault has stopped and not yet started again. */
  stopped?: string;
}

const clusterLog = (ctx: Context) => join(ctx.runDir, "cluster.log");

async function startComponent(ctx: Context, name: string): Promise<void> {
  // A component that will not come back is retried: the run cannot go on without it.
  for (let attempt = 1; ; attempt++) {
    if ((await run("bash", [CLUSTER, "start", name], clusterLog(ctx))) === 0) break;
    if (attempt >= 3) throw new Error(`cluster.sh start ${name} failed three times (see ${clusterLog(ctx)})`);
  }
  ctx.stopped = undefined;
}

/** Polls Prometheus's /-/ready every 100 ms until it answers 200; resolves to that moment, or undefined once `until` settles first. */
async function readyAt(url: string, until: Promise<unknown>): Promise<number | undefined> {
  let over = false;
  until.then(
    () => (over = true),
    () => (over = true),
  );
  while (!over) {
    const ok = await fetch(new URL("/-/ready", url), { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return Date.now();
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

async function runFault(ctx: Context, f: Fault): Promise<void> {
  const mark = (phase: "begin" | "end" | "note", extra: Record<string, unknown> = {}, at = Date.now()) =>
    ctx.faults.write({ at: new Date(at).toISOString(), id: f.id, fault: f.kind, phase, ...extra });
  switch (f.kind) {
    case "prometheus-stop":
    case "apiserver-stop": {
      const component = f.kind === "prometheus-stop" ? "prometheus" : "kube-apiserver";
      mark("begin", { component, plannedMs: f.durationMs });
      ctx.stopped = component;
      await run("bash", [CLUSTER, "stop", component], clusterLog(ctx));
      await sleep(f.durationMs);
      // The outage ends when Prometheus answers again, which is before cluster.sh sees it ready and returns.
      const starting = startComponent(ctx, component);
      const back = component === "prometheus" ? await readyAt(ctx.prometheusUrl, starting) : undefined;
      await starting;
      mark("end", { component }, back ?? Date.now());
      return;
    }
    case "prometheus-slow":
    case "prometheus-drop":
    case "prometheus-hang": {
      ctx.proxy.mode = f.kind === "prometheus-slow" ? { kind: "slow", delayMs: f.delayMs ?? 1_000 } : f.kind === "prometheus-drop" ? { kind: "drop" } : { kind: "hang" };
      mark("begin", { plannedMs: f.durationMs, ...(f.delayMs ? { delayMs: f.delayMs } : {}) });
      await sleep(f.durationMs);
      ctx.proxy.mode = { kind: "pass" };
      mark("end");
      return;
    }
    case "leader-kill":
    case "leader-term": {
      const leader = await ctx.replicas.leader();
      const replica = leader ? ctx.replicas.byIdentity(leader) : undefined;
      if (!replica) {
        mark("note", { skipped: `no live leader to ${f.kind === "leader-kill" ? "kill" : "stop"} (lease holder: ${leader ?? "none"})` });
        return;
      }
      const signal = f.kind === "leader-kill" ? "SIGKILL" : "SIGTERM";
      mark("begin", { identity: replica.identity, pid: replica.pid, signal });
      replica.signal(signal);
      const killer = setTimeout(() => replica.signal("SIGKILL"), 30_000);
      const code = await replica.exited;
      clearTimeout(killer);
      await sleep(f.durationMs);
      const next = await startReplica(ctx, replica.slot);
      mark("end", { exitCode: code, restartedAs: next?.identity ?? "failed to restart" });
      return;
    }
    case "receiver-fail":
      ctx.receiver.failing = true;
      mark("begin", { plannedMs: f.durationMs });
      await sleep(f.durationMs);
      ctx.receiver.failing = false;
      mark("end");
      return;
  }
}

async function startReplica(ctx: Context, slot: string) {
  for (let attempt = 1; attempt <= 10; attempt++) {
    try {
      return await ctx.replicas.start(slot);
    } catch (err) {
      say(`starting replica ${slot} failed (${err instanceof Error ? err.message : String(err)}); again in 2 s`);
      await sleep(2_000);
    }
  }
  return undefined;
}

/** The API server must be writing the audit log: a cluster started before it existed gets its API server restarted. */
async function ensureAudit(runDir: string, kubeconfig: string): Promise<string> {
  const clusterDir = dirname(kubeconfig);
  const auditLog = join(clusterDir, "audit", "audit.log");
  const pidFile = join(clusterDir, "pids", "kube-apiserver.pid");
  if (!existsSync(pidFile)) throw new Error("the soak needs the local test cluster (TOLLGATE_CLUSTER=local): its API server writes the audit log");
  const cmdline = readFileSync(`/proc/${readFileSync(pidFile, "utf8").trim()}/cmdline`, "utf8");
  if (!cmdline.includes("--audit-log-path")) {
    if (process.env.TOLLGATE_AUDIT_LOG === "0") throw new Error("TOLLGATE_AUDIT_LOG=0: the soak's checker needs the API server's audit log");
    say("the running API server writes no audit log: restarting it with one");
    await run("bash", [CLUSTER, "stop", "kube-apiserver"], join(runDir, "cluster.log"));
    if ((await run("bash", [CLUSTER, "start", "kube-apiserver"], join(runDir, "cluster.log"))) !== 0) throw new Error("could not restart kube-apiserver");
  }
  return auditLog;
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!abort.signal.aborted) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(1_000);
  }
}

async function main(): Promise<number> {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const runDir = join(ROOT, "e2e/.run/soak", stamp);
  mkdirSync(runDir, { recursive: true });
  say(`soak: ${minutes} min, seed ${seed}, ${profileCount} profiles; run directory ${runDir}`);
  if ((await run("bash", [CLUSTER, "up"], join(runDir, "cluster.log"))) !== 0) throw new Error(`cluster up failed (see ${join(runDir, "cluster.log")})`);
  const env = loadClusterEnv();
  const auditLog = await ensureAudit(runDir, env.KUBECONFIG);
  const admin = new KubeClient(loadClusterAccess(env.KUBECONFIG), { timeoutMs: 10_000 });
  await installCrds();
  await recreateOperatorNamespace(NS, 120);
  const release = releaseName(NS);

  const receiver = await startSoakReceiver(jsonl(join(runDir, "receiver.jsonl")));
  const plan = makePlan({ seed, minutes, profiles: profileCount, receiverUrl: receiver.url });
  writeFileSync(join(runDir, "plan.json"), JSON.stringify(plan, null, 2));
  const proxy = await startPrometheusProxy(env.PROMETHEUS_URL);
  let sim: Simulator | undefined;
  const replicas = new Replicas({
    admin,
    adminKubeconfig: env.KUBECONFIG,
    namespace: NS,
    release,
    runDir,
    args: ["--prometheus-url", proxy.url, "--prometheus-timeout", "4"],
    // An operator that only lets receivers under allowed URL prefixes be called must allow the soak's.
    env: { TOLLGATE_NOTIFICATION_ALLOWED_URLS: `${receiver.url}/` },
  });
  const ctx: Context = { runDir, prometheusUrl: env.PROMETHEUS_URL, plan, admin, faults: jsonl(join(runDir, "faults.jsonl")), proxy, receiver, replicas };
  const timers: NodeJS.Timeout[] = [];
  const meta: Meta = {
    namespace: NS,
    seed,
    minutes,
    activeFrom: "",
    activeTo: "",
    operatorsStoppedAt: "",
    operatorUser: `system:serviceaccount:${NS}:${release}`,
    lease: { namespace: NS, name: "tollgate-leader" },
    profiles: plan.profiles.map((p) => ({ name: p.name, mode: p.mode, spec: p.spec as unknown as Meta["profiles"][number]["spec"] })),
    prometheusUrl: env.PROMETHEUS_URL,
    auditLog,
  };
  let faultsDone: Promise<void> = Promise.resolve();
  try {
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    for (const p of plan.profiles.filter((x) => x.mode !== "budget")) {
      await admin.apply(
        Resources.Service,
        { metadata: { name: p.name, namespace: NS, labels: { app: p.name } }, spec: { selector: { app: p.name }, ports: [{ name: "http", port: 8080, targetPort: 8080 }] } } as KubeObject,
        { fieldManager: "soak", force: true },
      );
    }
    const gitops = new GitOps(admin, NS, plan.profiles, jsonl(join(runDir, "gitops.jsonl")));
    await gitops.sync();
    const mesh = new Mesh(sim, admin, NS, plan.profiles);
    const traffic = jsonl(join(runDir, "traffic.jsonl"));
    for (const c of plan.traffic.filter((x) => x.offsetMs === 0)) {
      mesh.set(c.profile, c.params);
      traffic.write({ at: new Date().toISOString(), profile: c.profile, state: c.state, ...c.params });
    }
    await mesh.sync();
    let meshBusy = false;
    timers.push(
      setInterval(() => {
        if (meshBusy) return;
        meshBusy = true;
        void mesh.sync().catch(() => undefined).finally(() => (meshBusy = false));
      }, 1_000),
    );
    await startReplica(ctx, "r1");
    await startReplica(ctx, "r2");
    say(`${plan.profiles.length} profiles applied by the second writer, two replicas started; waiting for a leader and every profile's first verdict`);
    await waitUntil(
      "a leader and a phase on every profile",
      async () => {
        if (!(await replicas.leader())) return false;
        const list = await admin.list<KubeObject & { status?: { phase?: string } }>(Resources.PerformanceProfile, NS);
        return list.items.length === plan.profiles.length && list.items.every((p) => p.status?.phase);
      },
      180_000,
    );

    const activeFrom = Date.now();
    meta.activeFrom = new Date(activeFrom).toISOString();
    say(`leader ${await replicas.leader()}; ${plan.faults.length} faults, ${plan.traffic.length} traffic changes and ${plan.pushes.length} pushes over ${minutes} min`);
    ctx.faults.write({ at: meta.activeFrom, id: 0, fault: "second-writer", phase: "begin", manager: "argocd-controller", everyMs: 15_000 });

    for (const c of plan.traffic.filter((x) => x.offsetMs > 0)) {
      timers.push(
        setTimeout(() => {
          mesh.set(c.profile, c.params);
          traffic.write({ at: new Date().toISOString(), profile: c.profile, state: c.state, ...c.params });
        }, c.offsetMs),
      );
    }
    const pushes = jsonl(join(runDir, "pushes.jsonl"));
    for (const p of plan.pushes) {
      timers.push(
        setTimeout(() => {
          void gitops.push(p.profile, p.image).then((outcome) => pushes.write({ at: new Date().toISOString(), profile: p.profile, image: p.image, outcome }));
        }, p.offsetMs),
      );
    }
    let syncing = false;
    timers.push(
      setInterval(() => {
        if (syncing) return;
        syncing = true;
        void gitops.sync().finally(() => (syncing = false));
      }, 15_000),
    );
    const rss = jsonl(join(runDir, "rss.jsonl"));
    timers.push(
      setInterval(() => {
        for (const r of replicas.live) {
          const at = new Date().toISOString();
          const kib = rssKiB(r.pid);
          if (kib === undefined) continue;
          // The heap from the process's own /metrics, for reading its RSS: V8 lets the heap grow toward
          // --max-old-space-size before it collects hard, so RSS alone cannot tell growth from garbage.
          void heapUsedBytes(r.metricsPort).then((heap) => rss.write({ at, identity: r.identity, pid: r.pid, rssKiB: kib, ...(heap !== undefined ? { heapUsedBytes: heap } : {}) }));
        }
      }, 5_000),
    );
    const statuses = jsonl(join(runDir, "statuses.jsonl"));
    timers.push(
      setInterval(() => {
        void admin
          .list<KubeObject & { status?: unknown }>(Resources.PerformanceProfile, NS)
          .then((list) => {
            const at = new Date().toISOString();
            for (const p of list.items) statuses.write({ at, name: p.metadata?.name, status: p.status ?? {} });
          })
          .catch(() => undefined);
      }, 15_000),
    );

    faultsDone = (async () => {
      for (const f of plan.faults) {
        await sleep(activeFrom + f.offsetMs - Date.now());
        if (abort.signal.aborted) return;
        say(`fault ${f.id}: ${f.kind}${f.durationMs ? ` (${(f.durationMs / 1000).toFixed(0)} s)` : ""}`);
        try {
          await runFault(ctx, f);
        } catch (err) {
          ctx.faults.write({ at: new Date().toISOString(), id: f.id, fault: f.kind, phase: "note", error: err instanceof Error ? err.message : String(err) });
          throw err;
        }
      }
    })();
    const failed = faultsDone.then(
      () => new Promise<never>(() => undefined),
      (err: unknown) => Promise.reject(err),
    );
    await Promise.race([sleep(activeFrom + minutes * 60_000 - Date.now()), failed]);
    await faultsDone;
    meta.activeTo = new Date().toISOString();
    ctx.faults.write({ at: meta.activeTo, id: 0, fault: "second-writer", phase: "end" });
  } finally {
    for (const t of timers) clearTimeout(t);
    await faultsDone.catch(() => undefined);
    ctx.proxy.mode = { kind: "pass" };
    if (ctx.stopped) await startComponent(ctx, ctx.stopped).catch((err: unknown) => say(`could not start ${ctx.stopped}: ${String(err)}`));
    say("stopping the operators");
    await replicas.stopAll();
    meta.operatorsStoppedAt = new Date().toISOString();
    meta.activeTo ||= meta.operatorsStoppedAt;
    meta.activeFrom ||= meta.operatorsStoppedAt;
    await sim?.stop();
    await proxy.close();
    await receiver.close();
    writeFileSync(join(runDir, "meta.json"), JSON.stringify(meta, null, 2));
  }
  if (abort.signal.aborted) return 130;

  say("collecting the audit log and Prometheus's samples; checking");
  const checker = spawn(process.execPath, [join(ROOT, "e2e/soak/check.ts"), runDir, "--collect"], { stdio: ["ignore", "pipe", "inherit"] });
  track(checker);
  let report = "";
  checker.stdout.setEncoding("utf8").on("data", (c: string) => (report += c));
  const code = await new Promise<number>((resolve) => checker.once("exit", (c) => resolve(c ?? 1)));
  writeFileSync(join(runDir, "report.txt"), report);

  // The namespace goes: no operator runs any more, so the profiles' finalizers are taken off first.
  await dropProfileFinalizers(NS);
  await kubectl(["delete", "namespace", NS, "--wait=false", "--ignore-not-found"]);
  await uninstallOperatorIdentity(NS);
  process.stdout.write(report);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
