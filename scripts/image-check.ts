// `npm run image:check`: runs the image `npm run image:build` built, as a cluster would, and checks what
// a user relies on: `<image> version` prints the package's version, the process runs as a non-root
// uid, and `<image> controller`, under the Helm chart's ServiceAccount mounted as the kubelet mounts it
// (no kubeconfig: the in-cluster credentials a pod has), reconciles a profile on the test cluster
// without writing anything to its root file system (the chart mounts it read-only) and without a
// single RBAC refusal. buildah runs the image (`buildah run --isolation chroot`); no daemon needed.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator } from "../e2e/simulator/client.ts";
import type { Condition } from "../e2e/support/conditions.ts";
import { loadClusterEnv, ROOT } from "../e2e/support/env.ts";
import { createOperatorNamespace, deleteOperatorNamespace, kubeconfigFor, tokenKubeconfig } from "../e2e/support/identity.ts";
import { applyYaml, installCrds, kubectlJson } from "../e2e/support/kubectl.ts";
import { exitOnSignals, track } from "../e2e/support/processes.ts";
import { waitFor } from "../e2e/support/wait.ts";
import { SERVICE_ACCOUNT_DIR } from "../src/kube/kubeconfig.ts";
import { deploymentYaml } from "../e2e/support/workloads.ts";

const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const IMAGE = process.env.IMAGE ?? `localhost/tollgate:${VERSION}`;
const UID = 65532;

function buildah(args: string[]): string {
  const res = spawnSync("buildah", ["--storage-driver", "vfs", ...args], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`buildah ${args.join(" ")} failed (${res.status}): ${res.stderr.trim()}`);
  return res.stdout.trim();
}

function check(what: string, ok: boolean, detail: string): void {
  process.stdout.write(`${ok ? "ok  " : "FAIL"} ${what}: ${detail}\n`);
  if (!ok) throw new Error(`${what}: ${detail}`);
}

/** Every entry under `dir` with what a write would change, not crossing into mounts (/proc, /sys, /dev). */
function manifest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = p.slice(dir.length);
      if (["/proc", "/sys", "/dev", "/run", "/mnt"].includes(rel)) continue;
      out.set(rel, `${st.mode}:${st.uid}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** Escapes a literal for a POSIX extended regular expression, as pgrep reads its pattern. */
function literal(text: string): string {
  return text.replace(/[.[\]()*+?{}|^$\\]/g, "\\$&");
}

/**
 * SIGTERM to the one process running `command` (the entrypoint's program, as the kubelet signals a
 * container's main process), leaving buildah to relay its output until it ends, as a container
 * runtime does; resolves to whether `container` ended within `ms`; if not, SIGKILLs the process and waits for it.
 */
async function terminate(command: string, container: ChildProcess, ms: number): Promise<boolean> {
  const pids = spawnSync("pgrep", ["-f", "--", `^${literal(command)}( |$)`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).map(Number);
  const [pid] = pids;
  if (pid === undefined || pids.length > 1) throw new Error(`expected one process running ${command}, found ${pids.length}`);
  const ended = new Promise<true>((resolve) => {
    if (container.exitCode !== null || container.signalCode !== null) resolve(true);
    else container.once("exit", () => resolve(true));
  });
  process.kill(pid, "SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([ended, late]);
  clearTimeout(timer);
  if (!result) {
    process.kill(pid, "SIGKILL");
    await ended;
  }
  return result;
}

async function main(): Promise<void> {
  const ctr = buildah(["from", "--pull=never", IMAGE]);
  const scratch = mkdtempSync(join(tmpdir(), "tollgate-image-check-"));
  let ns: string | undefined;
  try {
    const config = JSON.parse(buildah(["inspect", "--type", "image", IMAGE])) as { OCIv1: { config: { Entrypoint: string[] } } };
    const entrypoint = config.OCIv1.config.Entrypoint;
    const run = (args: string[]) => buildah(["run", "--isolation", "chroot", ctr, "--", ...args]);

    const version = run([...entrypoint, "version"]);
    check("<image> version", version === VERSION, JSON.stringify(version));
    const uid = Number(run(["id", "-u"]));
    check("runs as a non-root uid", uid === UID, `uid ${uid}`);

    const env = loadClusterEnv();
    await installCrds();
    ns = await createOperatorNamespace("image-check");
    // The chart's ServiceAccount as the kubelet gives it to a pod: its token, the cluster's CA and the
    // namespace at the path in-cluster clients read, and the API server's address in the environment.
    chmodSync(scratch, 0o755);
    const sa = join(scratch, "serviceaccount");
    mkdirSync(sa, { mode: 0o755 });
    const identity = tokenKubeconfig(kubeconfigFor(ns));
    writeFileSync(join(sa, "token"), identity.token, { mode: 0o644 });
    writeFileSync(join(sa, "ca.crt"), identity.ca, { mode: 0o644 });
    writeFileSync(join(sa, "namespace"), ns, { mode: 0o644 });
    const server = new URL(identity.server);
    // The image's /var/run is a link to /run: a container runtime resolves the kubelet's mount path
    // inside the root file system, which buildah's chroot run does not, so the mount names where it leads.
    const mountAt = SERVICE_ACCOUNT_DIR.replace(/^\/var\/run\//, "/run/");
    const podMounts = ["-v", `${sa}:${mountAt}:ro`, "--env", `KUBERNETES_SERVICE_HOST=${server.hostname}`, "--env", `KUBERNETES_SERVICE_PORT=${server.port}`];
    const sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    try {
      await sim.setWorkload(ns, "checkout", { rate: 200, errorRatio: 0.001, latencies: [{ ms: 50, weight: 100 }] });
      await applyYaml(deploymentYaml("checkout", "registry.example/checkout:1.0.0"), ns);
      await applyYaml(
        `apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: checkout}
spec:
  targetRef: {name: checkout}
  slos: [{name: availability, objective: 99.5, window: 1m, indicator: {istio: {kind: availability}}}]
  policy: {evaluationInterval: 2s, minEvents: 10}
`,
        ns,
      );

      // The first run with the mount makes its mount point; the root file system is judged from then on.
      buildah(["run", "--isolation", "chroot", ...podMounts, ctr, "--", "true"]);
      const rootfs = buildah(["mount", ctr]);
      const before = manifest(rootfs);
      // timeout inside the container: the controller ends even if this script is killed outright.
      const controller = track(
        spawn(
          "buildah",
          ["--storage-driver", "vfs", "run", "--isolation", "chroot", ...podMounts, ctr, "--",
            "timeout", "-k", "10", "-s", "TERM", "180", ...entrypoint, "controller", "--namespace", ns,
            "--prometheus-url", env.PROMETHEUS_URL, "--leader-elect", "false", "--metrics-addr", "127.0.0.1:0"],
          { stdio: ["ignore", "pipe", "pipe"], detached: true },
        ),
      );
      let logs = "";
      controller.stdout?.setEncoding("utf8").on("data", (c: string) => (logs += c));
      controller.stderr?.setEncoding("utf8").on("data", (c: string) => (logs += c));
      try {
        const status = await waitFor(
          "the image's controller to measure the profile",
          async () => {
            if (controller.exitCode !== null) throw new Error(`the controller exited (${controller.exitCode})\n${logs.slice(-4000)}`);
            const p = await kubectlJson<{ status?: { phase?: string; budget?: { consumedPercent: number }; conditions?: Condition[] } }>(["-n", ns!, "get", "pp", "checkout"]);
            const ready = p.status?.conditions?.find((c) => c.type === "Ready");
            return ready?.status === "True" && p.status?.budget ? p.status : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 1_000 },
        ).catch((err: unknown) => {
          throw new Error(`${String(err)}\ncontroller output:\n${logs.slice(-4000)}`);
        });
        check("<image> controller reconciles a profile with a pod's credentials", true, `phase ${status.phase}, budget ${status.budget!.consumedPercent} % consumed`);
      } finally {
        if (controller.exitCode !== null || controller.signalCode !== null) {
          // Ended on its own: there is nothing to signal, and the error above (with its output) is the news.
          check("<image> controller ends on SIGTERM", false, `it had already exited (${controller.exitCode ?? controller.signalCode})\ncontroller output:\n${logs.slice(-4000)}`);
        }
        const command = [...entrypoint, "controller", "--namespace", ns].join(" ");
        const sent = Date.now();
        const ended = await terminate(command, controller, 15_000);
        check(
          "<image> controller ends on SIGTERM",
          ended,
          ended ? `container ended ${((Date.now() - sent) / 1000).toFixed(1)} s after it` : `still running 15 s after it; killed\ncontroller output:\n${logs.slice(-4000)}`,
        );
      }
      const after = manifest(rootfs);
      const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
      check("writes nothing to its root file system", changed.length === 0, `${before.size} entries, ${changed.length} changed${changed.length ? `: ${changed.slice(0, 10).join(", ")}` : ""}`);
      const refused = logs.split("\n").filter((l) => /\bforbidden\b/i.test(l));
      check("no RBAC refusal under the chart's ServiceAccount", refused.length === 0, refused[0] ?? "none");
    } finally {
      await sim.stop();
    }
  } finally {
    spawnSync("buildah", ["--storage-driver", "vfs", "umount", ctr]);
    spawnSync("buildah", ["--storage-driver", "vfs", "rm", ctr]);
    rmSync(scratch, { recursive: true, force: true });
    if (ns) await deleteOperatorNamespace(ns);
  }
}

exitOnSignals();
main().catch((err: unknown) => {
  process.stderr.write(`image check failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
