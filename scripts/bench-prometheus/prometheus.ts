// The bench's own Prometheus: Debian's 2.42 on a free loopback port, on a copy of the cached blocks,
// loading one rules file the bench rewrites for each rule set.

import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiData, instantSamples, type Sample } from "../../src/prometheus/client.ts";
import { freeLoopbackPort } from "../../e2e/support/ports.ts";
import { track } from "../../e2e/support/processes.ts";
import { waitFor } from "../../e2e/support/wait.ts";
import { evalSeconds, queryableSamples } from "./stats.ts";

export const PROMETHEUS_BIN = "/usr/bin/prometheus";
export const EVALUATION_INTERVAL_S = 30;

export interface BenchPrometheus {
  readonly url: string;
  readonly pid: number;
  /** Replaces the rules with `yaml` and reloads; throws when Prometheus refuses them. */
  loadRules(yaml: string): Promise<void>;
  metrics(): Promise<string>;
  /** An instant query with its statistics: samples read, and the engine's time in seconds. */
  query(expr: string, at: Date): Promise<{ samples: Sample[]; queryable: number; seconds: number }>;
  stop(): Promise<void>;
}

const EMPTY_RULES = "groups: []\n";

// A Ctrl-C ends the process through exit (exitOnSignals), where only synchronous work is possible:
// the directories of every Prometheus still running go then, after track() has killed it.
const dirs = new Set<string>();
process.once("exit", () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Starts Prometheus on a copy of `blocksDir` (Prometheus writes its WAL and head next to the blocks, and
 * drops blocks past retention, so the cache itself is never its data directory). Retention 40d keeps
 * the 30 days; the query lookback delta stays at its default.
 */
export async function startPrometheus(blocksDir: string, log: (msg: string) => void): Promise<BenchPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-bench-prometheus-"));
  dirs.add(dir);
  const data = join(dir, "data");
  const rulesFile = join(dir, "rules.yaml");
  const cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  };
  try {
    const copied = spawnSync("cp", ["-r", "--reflink=auto", blocksDir, data], { encoding: "utf8" });
    if (copied.status !== 0) throw new Error(`copying the blocks failed: ${copied.stderr}`);
    mkdirSync(data, { recursive: true });
    writeFileSync(rulesFile, EMPTY_RULES);
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global:",
        `  evaluation_interval: ${EVALUATION_INTERVAL_S}s`,
        "rule_files:",
        `  - ${rulesFile}`,
        // Nothing is scraped: the backfill is all the data, and the rules' cost is all that is measured.
        "scrape_configs: []",
        "",
      ].join("\n"),
    );
  } catch (err) {
    cleanup();
    throw err;
  }
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const child = track(
    spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${data}`,
        "--storage.tsdb.retention.time=40d",
        `--web.listen-address=127.0.0.1:${port}`,
        "--web.enable-lifecycle",
        "--log.level=warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    ),
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-8_192)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await waitFor(
      "the bench's Prometheus to be ready",
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${stderr}`);
        const res = await fetch(`${url}/-/ready`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 250 },
    );
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    cleanup();
    throw err;
  }
  log(`Prometheus ${url} (pid ${child.pid}) on a copy of ${blocksDir}`);

  const post = async (path: string, params: Record<string, string>): Promise<unknown> => {
    const res = await fetch(url + path, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(600_000),
    });
    return apiData(url, res.status, await res.text());
  };

  return {
    url,
    pid: child.pid ?? -1,
    async loadRules(yaml) {
      // Whole or not at all: Prometheus must never read a half-written file.
      writeFileSync(`${rulesFile}.tmp`, yaml);
      renameSync(`${rulesFile}.tmp`, rulesFile);
      const res = await fetch(`${url}/-/reload`, { method: "POST", signal: AbortSignal.timeout(600_000) });
      if (!res.ok) throw new Error(`Prometheus refused the rules (${res.status}): ${(await res.text()).slice(0, 2000)}`);
    },
    async metrics() {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(60_000) });
      if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
      return res.text();
    },
    async query(expr, at) {
      const data = await post("/api/v1/query", { query: expr, time: (at.getTime() / 1000).toFixed(3), stats: "all" });
      return { samples: instantSamples(url, data), queryable: queryableSamples(data), seconds: evalSeconds(data) };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      cleanup();
    },
  };
}
