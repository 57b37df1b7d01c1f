import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeLoopbackPort } from "./ports.ts";
import { track } from "./processes.ts";
import { waitFor } from "./wait.ts";

export interface PrivatePrometheus {
  readonly url: string;
  readonly pid: number;
  /** The directory it loads rule files (*.yaml) from on POST /-/reload. */
  readonly rulesDir: string;
  /** SIGTERM, wait for the exit, remove its data and rules. */
  stop(): Promise<void>;
}

/**
 * A Prometheus of a suite's own on loopback (the cluster's Debian binary), scraping nothing, with its own
 * rules directory: for rule files meant to be refused. A file Prometheus refuses fails every reload of
 * the Prometheus that reads it, so such a file in the shared PROMETHEUS_RULES_DIR would stop every other
 * suite's rules from loading while it is there.
 */
export async function startPrivatePrometheus(): Promise<PrivatePrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-private-prom-"));
  const rulesDir = join(dir, "rules");
  mkdirSync(rulesDir);
  mkdirSync(join(dir, "data"));
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global: {scrape_interval: 1s, evaluation_interval: 1s}\nrule_files: ['${rulesDir}/*.yaml']\nscrape_configs: []\n`,
  );
  const port = await freeLoopbackPort();
  const child = track(
    spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
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
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor("the private Prometheus to be ready", async () => {
      if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}): ${stderr}`);
      const res = await fetch(`${url}/-/ready`).catch(() => undefined);
      return res?.ok ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    pid: child.pid ?? -1,
    rulesDir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
