// The bench's own Prometheus: Debian's 2.42 on a free loopback port, on a copy of the cached blocks,
// loading one rules file the bench rewrites for each rule set.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiData, instantSamples, type Sample } from "../../src/prometheus/client.ts";
import { freeLoopbackPort } from "../../e2e/support/ports.ts";
import { track } from "../../e2e/support/processes.ts";
import { sleep, waitFor } from "../../e2e/support/wait.ts";
import { evalSeconds, metricSamples, queryableSamples } from "./stats.ts";

export const PROMETHEUS_BIN = "/usr/bin/prometheus";
export const EVALUATION_INTERVAL_S = 30;

export interface BenchPrometheus {
  readonly url: string;
  readonly pid: number;
  /** Its TSDB directory. */
  readonly dataDir: string;
  /** Replaces the rules with `yaml` and reloads; throws when Prometheus refuses them. */
  loadRules(yaml: string): Promise<void>;
  metrics(): Promise<string>;
  /** An instant query with its statistics: samples read, and the engine's time in seconds. */
  query(expr: string, at: Date): Promise<{ samples: Sample[]; queryable: number; seconds: number }>;
  /**
   * Adds the blocks of `blocksDir` to the running Prometheus and waits until it serves them (`loaded`
   * says when) and has merged them into the blocks they overlap; restarts it if it has not picked them
   * up within a few minutes.
   */
  addBlocks(blocksDir: string, loaded: () => Promise<boolean>, log: (msg: string) => void): Promise<AddedBlocks>;
  stop(): Promise<void>;
}

export interface AddedBlocks {
  blocks: number;
  restarted: boolean;
  /** Blocks more than before once compaction was given up on: 0 when every added block was merged. */
  unmerged: number;
  seconds: number;
}

const BLOCK_DIR = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function blockNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && BLOCK_DIR.test(e.name))
    .map((e) => e.name);
}

/**
 * Prometheus rereads its data directory for new blocks once a minute (and compacts right after); a few
 * of those, then a restart, which opens whatever is there.
 */
const PICK_UP_MS = 3 * 60_000;
/** Merging a month of overlapping blocks into the raw ones, fourteen cells of 54 hours. */
const COMPACTION_TIMEOUT_MS = 15 * 60_000;

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
  let stderr = "";
  let current: { child: ChildProcess; exited: Promise<void> } | undefined;
  const launch = async () => {
    stderr = "";
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
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-8_192)));
    current = { child, exited: new Promise<void>((resolve) => child.once("exit", () => resolve())) };
    await waitFor(
      "the bench's Prometheus to be ready",
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${stderr}`);
        const res = await fetch(`${url}/-/ready`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 250 },
    );
  };
  const halt = async () => {
    if (!current) return;
    const { child, exited } = current;
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  try {
    await launch();
  } catch (err) {
    current?.child.kill("SIGKILL");
    await current?.exited;
    cleanup();
    throw err;
  }
  log(`Prometheus ${url} (pid ${current?.child.pid ?? "?"}) on a copy of ${blocksDir}`);

  const metrics = async () => {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  };
  const blocksLoaded = async () => metricSamples(await metrics(), "prometheus_tsdb_blocks_loaded")[0]?.value ?? NaN;

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
    get pid() {
      return current?.child.pid ?? -1;
    },
    dataDir: data,
    async loadRules(yaml) {
      // Whole or not at all: Prometheus must never read a half-written file.
      writeFileSync(`${rulesFile}.tmp`, yaml);
      renameSync(`${rulesFile}.tmp`, rulesFile);
      const res = await fetch(`${url}/-/reload`, { method: "POST", signal: AbortSignal.timeout(600_000) });
      if (!res.ok) throw new Error(`Prometheus refused the rules (${res.status}): ${(await res.text()).slice(0, 2000)}`);
    },
    metrics,
    async query(expr, at) {
      const data = await post("/api/v1/query", { query: expr, time: (at.getTime() / 1000).toFixed(3), stats: "all" });
      return { samples: instantSamples(url, data), queryable: queryableSamples(data), seconds: evalSeconds(data) };
    },
    async addBlocks(blocksDir, loaded, log) {
      const t0 = Date.now();
      const before = await blocksLoaded();
      const names = blockNames(blocksDir);
      for (const b of names) {
        // Under another name first: a block directory Prometheus lists must be whole when it does.
        cpSync(join(blocksDir, b), join(data, `${b}.copying`), { recursive: true });
        renameSync(join(data, `${b}.copying`), join(data, b));
      }
      let restarted = false;
      let pickUpBy = Date.now() + PICK_UP_MS;
      while (!(await loaded())) {
        if (Date.now() > pickUpBy) {
          if (restarted) throw new Error(`Prometheus does not serve the ${names.length} blocks of ${blocksDir} even after a restart`);
          log(`Prometheus has not picked up the blocks of ${blocksDir} in ${PICK_UP_MS / 60_000} min: restarting it`);
          await halt();
          await launch();
          restarted = true;
          pickUpBy = Date.now() + PICK_UP_MS;
        }
        await sleep(5_000);
      }
      // Until the overlapping blocks are merged, compaction takes CPU from whatever is measured next.
      const mergedBy = Date.now() + COMPACTION_TIMEOUT_MS;
      let unmerged = 0;
      for (;;) {
        const n = await blocksLoaded();
        if (n <= before) break;
        if (Date.now() > mergedBy) {
          unmerged = n - before;
          log(`Prometheus still has ${n} blocks after ${COMPACTION_TIMEOUT_MS / 60_000} min, not the ${before} it had before ${names.length} were added; going on`);
          break;
        }
        await sleep(5_000);
      }
      return { blocks: names.length, restarted, unmerged, seconds: (Date.now() - t0) / 1000 };
    },
    async stop() {
      await halt();
      cleanup();
    },
  };
}
