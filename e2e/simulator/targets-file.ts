// Registration with Prometheus through file_sd: a JSON file in the directory Prometheus watches. The
// simulator registers itself; suites that want the operator's own /metrics scraped register it the same way.

import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** `name` tells whose target the file is: the simulator's, or another process's of the suites. */
export function targetsFilePath(dir: string, port: number, name = "simulator"): string {
  return join(dir, `${name}-${port}.json`);
}

/** Returns the file's path. */
export function writeTargetsFile(dir: string, port: number, target: string, job: string, name = "simulator"): string {
  const path = targetsFilePath(dir, port, name);
  // Prometheus re-reads the directory every second and must never see a half-written file; the
  // temporary name does not end in .json so its glob skips it.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify([{ targets: [target], labels: { job } }]) + "\n");
  renameSync(tmp, path);
  return path;
}

export function removeTargetsFile(path: string): void {
  rmSync(path, { force: true });
}
