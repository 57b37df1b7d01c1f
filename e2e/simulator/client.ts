// Starts the simulator as a child process and drives its API, for tests.

import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { track } from "../support/processes.ts";
import type { WorkloadView } from "./mesh.ts";
import type { WorkloadInput } from "./workload.ts";

export type { WorkloadCounters, WorkloadView } from "./mesh.ts";
export type { Latency, WorkloadInput, WorkloadParams } from "./workload.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const STDERR_KEPT = 64 * 1024;

export interface StartSimulatorOptions {
  /** file_sd directory to register in; when absent the simulator falls back to $PROMETHEUS_TARGETS_DIR. */
  targetsDir?: string;
  /** `job` label of the registered target; the simulator defaults to "istio-mesh". */
  job?: string;
  /** How long to wait for the simulator to listen. Default 15 s. */
  startTimeoutMs?: number;
}

export interface Simulator {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly pid: number;
  setWorkload(namespace: string, name: string, params: WorkloadInput): Promise<WorkloadView>;
  /** undefined when there is no such workload. */
  getWorkload(namespace: string, name: string): Promise<WorkloadView | undefined>;
  listWorkloads(): Promise<WorkloadView[]>;
  /** false when there was no such workload. */
  deleteWorkload(namespace: string, name: string): Promise<boolean>;
  /** Drops the workload's counters to zero, as a pod restart would. */
  resetWorkload(namespace: string, name: string): Promise<WorkloadView>;
  /** The /metrics exposition text, as Prometheus would scrape it now. */
  metrics(): Promise<string>;
  /** SIGTERM, and wait until the process has exited (it unregisters from Prometheus first). */
  stop(): Promise<void>;
}

export class SimulatorError extends Error {
  override name = "SimulatorError";
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function startSimulator(opts: StartSimulatorOptions = {}): Promise<Simulator> {
  const args = [MAIN, "--port", "0", "--exit-with-stdin"];
  if (opts.targetsDir !== undefined) args.push("--targets-dir", opts.targetsDir);
  if (opts.job !== undefined) args.push("--job", opts.job);
  const child = track(spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] }));
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  let url: string;
  try {
    url = await waitForListening(child, opts.startTimeoutMs ?? 15_000, () => stderr);
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    throw err;
  }
  return makeSimulator(url, child, exited);
}

function waitForListening(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("close", onExit);
      child.off("error", onError);
      // Keep draining so a chatty child never blocks on a full pipe.
      child.stdout?.resume();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`simulator did not report listening within ${timeoutMs} ms; stderr:\n${stderr()}`));
    }, timeoutMs);
    const onData = (chunk: string): void => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        const url = listeningUrl(line);
        if (url !== undefined) {
          cleanup();
          resolve(url);
          return;
        }
      }
    };
    // "close" rather than "exit": only then has all of stderr arrived.
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanup();
      reject(new Error(`simulator exited before listening (code ${code}, signal ${signal}); stderr:\n${stderr()}`));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new Error(`cannot start simulator: ${err.message}`));
    };
    child.stdout?.setEncoding("utf8").on("data", onData);
    child.once("close", onExit);
    child.once("error", onError);
  });
}

function listeningUrl(line: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed === "object" && parsed !== null && "msg" in parsed && "url" in parsed) {
      const { msg, url } = parsed;
      if (msg === "listening" && typeof url === "string") return url;
    }
  } catch {
    // Not the line we wait for.
  }
  return undefined;
}

function makeSimulator(url: string, child: ChildProcess, exited: Promise<void>): Simulator {
  const workloadUrl = (namespace: string, name: string, suffix = ""): string =>
    `${url}/workloads/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}${suffix}`;

  async function request(method: string, target: string, body?: unknown): Promise<Response> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    return fetch(target, init);
  }

  async function failure(res: Response, what: string): Promise<SimulatorError> {
    const text = await res.text();
    let message = text;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === "object" && parsed !== null && "error" in parsed && typeof parsed.error === "string") {
        message = parsed.error;
      }
    } catch {
      // Keep the raw text.
    }
    return new SimulatorError(res.status, `${what}: HTTP ${res.status}: ${message}`);
  }

  let stopping: Promise<void> | undefined;

  return {
    url,
    pid: child.pid ?? -1,
    async setWorkload(namespace, name, params) {
      const res = await request("PUT", workloadUrl(namespace, name), params);
      if (!res.ok) throw await failure(res, `set workload ${namespace}/${name}`);
      return (await res.json()) as WorkloadView;
    },
    async getWorkload(namespace, name) {
      const res = await request("GET", workloadUrl(namespace, name));
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (!res.ok) throw await failure(res, `get workload ${namespace}/${name}`);
      return (await res.json()) as WorkloadView;
    },
    async listWorkloads() {
      const res = await request("GET", `${url}/workloads`);
      if (!res.ok) throw await failure(res, "list workloads");
      return ((await res.json()) as { workloads: WorkloadView[] }).workloads;
    },
    async deleteWorkload(namespace, name) {
      const res = await request("DELETE", workloadUrl(namespace, name));
      await res.body?.cancel();
      if (res.status === 404) return false;
      if (!res.ok) throw new SimulatorError(res.status, `delete workload ${namespace}/${name}: HTTP ${res.status}`);
      return true;
    },
    async resetWorkload(namespace, name) {
      const res = await request("POST", workloadUrl(namespace, name, "/reset"));
      if (!res.ok) throw await failure(res, `reset workload ${namespace}/${name}`);
      return (await res.json()) as WorkloadView;
    },
    async metrics() {
      const res = await request("GET", `${url}/metrics`);
      if (!res.ok) throw await failure(res, "scrape metrics");
      return res.text();
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
          await exited;
          clearTimeout(killer);
        }
        child.stdin?.destroy();
      })();
      return stopping;
    },
  };
}
