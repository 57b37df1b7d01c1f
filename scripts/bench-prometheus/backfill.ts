// The backfilled TSDB blocks, cached under ~/.cache/tollgate/bench-prometheus/<params-hash>/.
//
// The OpenMetrics text of a month is about a hundred gigabytes, more than the disk may hold and more
// than promtool should map at once, so it is written and converted one cell at a time: 54 hours, the
// largest block a Prometheus with 40 days of retention compacts to (so the blocks are the ones it would
// have), and a divisor of promtool's block range for --max-block-duration=720h (486h), so each cell
// becomes exactly one block in one pass. While promtool converts cells the next one is written.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { track } from "../../e2e/support/processes.ts";
import { initialState, LAYOUT, MODEL_VERSION, SCRAPE_SECONDS, STEPS_PER_DAY, workloadIdentity, workloadParams, type WorkloadState } from "./model.ts";
import { seriesPerWorkload, writeOpenMetrics, type Workload } from "./openmetrics.ts";

export const PROMTOOL_BIN = "/usr/bin/promtool";
export const CELL_STEPS = (54 * 3600) / SCRAPE_SECONDS;
/**
 * promtool converts about half a million samples a second on one core, three times slower than the
 * text is written: two conversions at once keep both cores busy while the next cell is written.
 */
const CONVERSIONS = 2;
/** Cached data newer than this is used as it is; older, its last cell is generated again up to now. */
const FRESH_STEPS = 3600 / SCRAPE_SECONDS;

// A cell's text is gigabytes: a Ctrl-C (which ends the process through exit) must not leave it behind.
const workDirs = new Set<string>();
process.once("exit", () => {
  for (const d of workDirs) rmSync(d, { recursive: true, force: true });
});

export interface BackfillParams {
  days: number;
  workloads: number;
  seed: number;
}

interface Cell {
  startStep: number;
  /** Last step with samples. */
  endStep: number;
  blocks: string[];
}

interface CacheMeta {
  key: string;
  startStep: number;
  endStep: number;
  cells: Cell[];
  /** Every workload's state at the start of the last cell, from which a top-up writes it again. */
  lastCellStates: WorkloadState[];
}

export interface Backfill {
  blocksDir: string;
  startStep: number;
  /** The last step with samples: the bench reads at this instant. */
  endStep: number;
  series: number;
  samples: number;
  /** What was done: reused as it was, topped up, or generated. */
  action: "reused" | "topped-up" | "generated";
  seconds: number;
}

export function cacheKey(p: BackfillParams): string {
  const identity = JSON.stringify({ MODEL_VERSION, LAYOUT, SCRAPE_SECONDS, days: p.days, workloads: p.workloads, seed: p.seed });
  return createHash("sha256").update(identity).digest("hex").slice(0, 16);
}

export function cacheDir(p: BackfillParams): string {
  return join(homedir(), ".cache", "tollgate", "bench-prometheus", cacheKey(p));
}

/** The cells covering steps [from, to], cut at multiples of CELL_STEPS since the epoch. */
export function cellRanges(from: number, to: number): Array<{ startStep: number; endStep: number }> {
  const out: Array<{ startStep: number; endStep: number }> = [];
  for (let s = from; s <= to; ) {
    const end = Math.min(to, (Math.floor(s / CELL_STEPS) + 1) * CELL_STEPS - 1);
    out.push({ startStep: s, endStep: end });
    s = end + 1;
  }
  return out;
}

function blockDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(e.name))
    .map((e) => e.name);
}

function readMeta(dir: string, key: string): CacheMeta | undefined {
  try {
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as CacheMeta;
    if (meta.key !== key) return undefined;
    const present = new Set(blockDirs(join(dir, "blocks")));
    // A run stopped half-way leaves blocks the meta does not list, or lacks some it does.
    if (!meta.cells.every((c) => c.blocks.every((b) => present.has(b)))) return undefined;
    const listed = new Set(meta.cells.flatMap((c) => c.blocks));
    for (const b of present) if (!listed.has(b)) rmSync(join(dir, "blocks", b), { recursive: true, force: true });
    return meta;
  } catch {
    return undefined;
  }
}

function runPromtool(file: string, outDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn(PROMTOOL_BIN, ["tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=720h", file, outDir], { stdio: ["ignore", "pipe", "pipe"] }),
    );
    let out = "";
    const keep = (c: string) => (out = (out + c).slice(-8_192));
    child.stdout?.setEncoding("utf8").on("data", keep);
    child.stderr?.setEncoding("utf8").on("data", keep);
    child.once("error", reject);
    child.once("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(`promtool failed on ${file} (${signal ?? code}): ${out.trim()}`))));
  });
}

function workloadsOf(p: BackfillParams): Workload[] {
  return Array.from({ length: p.workloads }, (_, i) => ({ id: workloadIdentity(i), params: workloadParams(p.seed, i) }));
}

/**
 * Writes and converts the cells covering [from, to] from `states` (at `from`, advanced to the end),
 * moving their blocks into `blocksDir`. Returns the cells and the states at the start of the last.
 */
async function generate(
  p: BackfillParams,
  dir: string,
  from: number,
  to: number,
  states: WorkloadState[],
  log: (msg: string) => void,
): Promise<{ cells: Cell[]; lastCellStates: WorkloadState[] }> {
  const workloads = workloadsOf(p);
  const blocksDir = join(dir, "blocks");
  const work = join(dir, `tmp-${process.pid}`);
  // Left by a run that was killed outright; one bench at a time writes a cache directory.
  for (const stale of existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith("tmp-")) : []) rmSync(join(dir, stale), { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  workDirs.add(work);
  mkdirSync(blocksDir, { recursive: true });
  const ranges = cellRanges(from, to);
  const cells: Cell[] = [];
  let lastCellStates = states.map((s) => ({ ...s, counters: [...s.counters] }));
  const converting: Array<Promise<void>> = [];
  try {
    for (const [i, range] of ranges.entries()) {
      lastCellStates = states.map((s) => ({ ...s, counters: [...s.counters] }));
      // Before writing another cell's gigabytes, let the oldest conversion finish if enough are running.
      while (converting.length >= CONVERSIONS) await converting.shift();
      const file = join(work, `cell-${i}.om`);
      const started = Date.now();
      const fd = openSync(file, "w");
      let samples: number;
      try {
        samples = writeOpenMetrics({ write: (t) => void writeSync(fd, t) }, workloads, states, range.startStep, range.endStep - range.startStep + 1);
      } finally {
        closeSync(fd);
      }
      const wrote = (Date.now() - started) / 1000;
      const out = join(work, `blocks-${i}`);
      const label = `cell ${i + 1}/${ranges.length}`;
      const conversion = (async () => {
        const t0 = Date.now();
        await runPromtool(file, out);
        rmSync(file, { force: true });
        const made = blockDirs(out);
        for (const b of made) renameSync(join(out, b), join(blocksDir, b));
        cells.push({ ...range, blocks: made });
        log(`${label}: ${(samples / 1e6).toFixed(1)} M samples written in ${wrote.toFixed(0)} s, converted in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      })();
      // A failed conversion is reported when it is awaited; until then it must not go unhandled.
      conversion.catch(() => undefined);
      converting.push(conversion);
    }
    await Promise.all(converting);
  } finally {
    rmSync(work, { recursive: true, force: true });
    workDirs.delete(work);
  }
  cells.sort((a, b) => a.startStep - b.startStep);
  return { cells, lastCellStates };
}

/**
 * The blocks for `p`, ending within the last hour: from the cache as they are, topped up to now (the
 * last cell written again from its start, so every cell stays one block), or generated whole. Cells
 * older than the window and a day are dropped from the cache.
 */
export async function ensureBackfill(p: BackfillParams, log: (msg: string) => void): Promise<Backfill> {
  const t0 = Date.now();
  const dir = cacheDir(p);
  const key = cacheKey(p);
  const now = Math.floor(Date.now() / 1000 / SCRAPE_SECONDS) - 1;
  const perWorkload = seriesPerWorkload();
  const series = perWorkload * p.workloads;
  let meta = readMeta(dir, key);
  let action: Backfill["action"] = "reused";

  if (meta && now - meta.endStep > FRESH_STEPS) {
    const last = meta.cells.at(-1);
    if (!last) meta = undefined;
    else {
      action = "topped-up";
      log(`cached backfill ends ${((now - meta.endStep) / 240).toFixed(1)} h ago: writing its last cell again up to now`);
      const states = meta.lastCellStates.map((s) => ({ ...s, counters: [...s.counters] }));
      const { cells, lastCellStates } = await generate(p, dir, last.startStep, now, states, log);
      for (const b of last.blocks) rmSync(join(dir, "blocks", b), { recursive: true, force: true });
      const keepFrom = now - (p.days + 1) * STEPS_PER_DAY;
      const kept = meta.cells.slice(0, -1).filter((c) => {
        if (c.endStep >= keepFrom) return true;
        for (const b of c.blocks) rmSync(join(dir, "blocks", b), { recursive: true, force: true });
        return false;
      });
      meta = { key, startStep: kept[0]?.startStep ?? last.startStep, endStep: now, cells: [...kept, ...cells], lastCellStates };
      writeFileSync(join(dir, "meta.json"), JSON.stringify(meta));
    }
  }
  if (!meta) {
    action = "generated";
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const start = now - p.days * STEPS_PER_DAY + 1;
    const total = series * (now - start + 1);
    log(
      `generating ${p.days} days of ${p.workloads} workloads (${series} series, ${(total / 1e6).toFixed(0)} M samples) into ${dir}; ` +
        `once per parameter set, some minutes on 2 cores`,
    );
    const states = Array.from({ length: p.workloads }, (_, i) => initialState(p.seed, i));
    const { cells, lastCellStates } = await generate(p, dir, start, now, states, log);
    meta = { key, startStep: start, endStep: now, cells, lastCellStates };
    writeFileSync(join(dir, "meta.json"), JSON.stringify(meta));
  }
  return {
    blocksDir: join(dir, "blocks"),
    startStep: meta.startStep,
    endStep: meta.endStep,
    series,
    samples: series * (meta.endStep - meta.startStep + 1),
    action,
    seconds: (Date.now() - t0) / 1000,
  };
}
