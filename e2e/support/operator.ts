import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadClusterEnv } from "./env.ts";
import { track } from "./processes.ts";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

export interface OperatorProcess {
  readonly pid: number;
  /** The port of /metrics, /healthz, /readyz, once the operator logged it. */
  metricsPort(): Promise<number>;
  /** GET a path of the health server; resolves to status and body. */
  http(path: string): Promise<{ status: number; body: string }>;
  /** Every JSON log line so far. */
  logs(): Array<Record<string, unknown>>;
  /** SIGTERM, wait for exit; resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

/** Runs `tollgate controller` as its own process against the test cluster, as it runs in production. */
export function startOperator(args: string[] = [], env: Record<string, string> = {}): OperatorProcess {
  const cluster = loadClusterEnv();
  const withDefaults = args.includes("--metrics-addr") ? args : [...args, "--metrics-addr", "127.0.0.1:0"];
  const child: ChildProcess = track(spawn(process.execPath, [CLI, "controller", ...withDefaults], {
    env: { ...process.env, KUBECONFIG: cluster.KUBECONFIG, TOLLGATE_LOG_LEVEL: "debug", ...env },
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
    exited,
    async stop(signal = "SIGTERM") {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
