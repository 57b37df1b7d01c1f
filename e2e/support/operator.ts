import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { kubeconfigFor } from "./identity.ts";
import { track } from "./processes.ts";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** The V8 flags of the image's ENTRYPOINT (Dockerfile), so memory behaves as in production. */
export const IMAGE_NODE_FLAGS: readonly string[] = ["--optimize-for-size", "--max-semi-space-size=4", "--max-old-space-size=256"];

/** How the operator's process is started: the TypeScript sources as they are, unless told otherwise. */
export interface OperatorLaunch {
  /** The CLI's entry point; src/cli/main.ts by default. */
  entry?: string;
  /** Node and V8 flags before it. */
  nodeArgs?: readonly string[];
  /** Environment the launch itself sets (NODE_ENV=production, as the image does); the caller's env wins. */
  env?: Record<string, string>;
}

/**
 * The operator as the image runs it: the bundled dist/tollgate.js (`npm run build`) under the image's
 * V8 flags and NODE_ENV, for measurements that must hold for what ships.
 */
export const IMAGE_LAUNCH: OperatorLaunch = {
  entry: fileURLToPath(new URL("../../dist/tollgate.js", import.meta.url)),
  nodeArgs: IMAGE_NODE_FLAGS,
  env: { NODE_ENV: "production" },
};

export interface OperatorProcess {
  readonly pid: number;
  /** The port of /metrics, /healthz, /readyz, once the operator logged it. */
  metricsPort(): Promise<number>;
  /** GET a path of the health server; resolves to status and body. */
  http(path: string): Promise<{ status: number; body: string }>;
  /** Every JSON log line so far. */
  logs(): Array<Record<string, unknown>>;
  /** Log lines that show the API server refusing the operator (HTTP 403): its RBAC lacks a rule. */
  forbidden(): Array<Record<string, unknown>>;
  /**
   * SIGTERM (or the signal given), wait for exit; resolves to the exit code. Rejects when the operator
   * was refused anything by RBAC, so a missing rule in the chart fails the suite that met it.
   * `forbiddenAllowedBefore` (epoch ms) excuses refusals logged before then: a kube-apiserver that has
   * just started answers requests before its RBAC caches are filled, and refuses them until it is ready.
   */
  stop(signal?: NodeJS.Signals, opts?: { forbiddenAllowedBefore?: number }): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

const FORBIDDEN = /"(status|statusCode|code)":403\b|\bforbidden\b/i;

/**
 * Runs `tollgate controller --namespace NS` as its own process against the test cluster, as it runs in
 * production: under the Helm chart's ServiceAccount, installed in NS by createOperatorNamespace.
 * `launch` picks what runs (IMAGE_LAUNCH: the compiled build under the image's flags).
 */
export function startOperator(args: string[], env: Record<string, string> = {}, launch: OperatorLaunch = {}): OperatorProcess {
  const ns = args[args.indexOf("--namespace") + 1];
  if (!args.includes("--namespace") || ns === undefined) throw new Error("startOperator needs --namespace NS: the operator's identity is installed per namespace");
  const kubeconfig = kubeconfigFor(ns);
  if (!existsSync(kubeconfig)) throw new Error(`no operator identity for namespace ${ns}: create the namespace with createOperatorNamespace`);
  const withDefaults = args.includes("--metrics-addr") ? args : [...args, "--metrics-addr", "127.0.0.1:0"];
  const entry = launch.entry ?? CLI;
  if (!existsSync(entry)) throw new Error(`${entry} not found: build it first (npm run build)`);
  const child: ChildProcess = track(spawn(process.execPath, [...(launch.nodeArgs ?? []), entry, "controller", ...withDefaults], {
    env: { ...process.env, KUBECONFIG: kubeconfig, TOLLGATE_LOG_LEVEL: "debug", ...launch.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  }));
  const lines: Array<Record<string, unknown>> = [];
  let buffer = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ msg: line });
      }
    }
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-16_384)));
  let stopping = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      // A crash (non-zero exit, or a signal nobody sent) shows its stderr: out of memory, an uncaught error.
      if ((code !== 0 && code !== null) || (signal !== null && !stopping)) {
        process.stderr.write(`operator ${child.pid} exited (${code ?? signal}):\n${stderr}\n`);
      }
      resolve(code);
    }),
  );
  const metricsPort = async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const line = lines.find((l) => typeof l.metricsPort === "number");
      if (line) return line.metricsPort as number;
      if (child.exitCode !== null) throw new Error(`operator exited (${child.exitCode}) before serving metrics: ${stderr}`);
      if (Date.now() > deadline) throw new Error("operator did not log its metrics port within 30 s");
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    pid: child.pid ?? -1,
    metricsPort,
    async http(path: string) {
      const res = await fetch(`http://127.0.0.1:${await metricsPort()}${path}`);
      return { status: res.status, body: await res.text() };
    },
    logs: () => lines,
    forbidden: () => lines.filter((l) => FORBIDDEN.test(JSON.stringify(l))),
    exited,
    async stop(signal = "SIGTERM", opts = {}) {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      // Log lines carry ISO times (src/log.ts).
      const excused = (l: Record<string, unknown>) => typeof l.time === "string" && Date.parse(l.time) < (opts.forbiddenAllowedBefore ?? 0);
      const refused = lines.filter((l) => FORBIDDEN.test(JSON.stringify(l)) && !excused(l));
      if (refused.length > 0) {
        throw new Error(`the operator was refused by RBAC ${refused.length} time(s); first: ${JSON.stringify(refused[0])}`);
      }
      return code;
    },
  };
}
