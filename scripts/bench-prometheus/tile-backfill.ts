// Thirty days of Tollgate's tiles for the bench's profiles, as a Prometheus that had been recording them
// would hold them: `promtool tsdb create-blocks-from rules` evaluates the tile rules against the bench's
// Prometheus (on the raw blocks) and writes blocks, which the bench's Prometheus then takes in and merges
// into the raw blocks they overlap. Cached under the raw backfill's directory, in tiles/<key>/.
//
// promtool writes a block per rule and per block range, so the ranges are the raw cells' (54h, cut at the
// same multiples since the epoch): each tile block overlaps one raw block, and merging them leaves the
// blocks as they were, with the tiles in them. Every other profile of a workload gets a relabelled copy
// of its first profile's tiles (same PromQL, same raw series, same values) rather than its own
// evaluation: as many blocks again for a thousand profiles as for a hundred, where evaluating each would
// take ten times the blocks (two open files each, more than a Prometheus here may hold at once).

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatDuration } from "../../src/api/duration.ts";
import type { RuleGroup } from "../../src/slo/rules.ts";
import { rulesFileYaml } from "../../src/slo/rules.ts";
import { track } from "../../e2e/support/processes.ts";
import { cacheDir, cacheKey, CELL_STEPS, PROMTOOL_BIN, type Backfill, type BackfillParams } from "./backfill.ts";
import { SCRAPE_SECONDS } from "./model.ts";
import { blockNames, type AddedBlocks, type BenchPrometheus } from "./prometheus.ts";
import { planTileBackfill, tileSpan, TILE_RECORDS } from "./tiles.ts";

// In hours: promtool takes Go durations, which have no days.
const BLOCK_RANGE = `${(CELL_STEPS * SCRAPE_SECONDS) / 3600}h`;

interface BlocksMeta {
  key: string;
  blocks: string[];
  promtoolSeconds: number;
}

export interface Tiles {
  /** First and last tile boundary backfilled, Unix seconds. */
  startS: number;
  endS: number;
  tileMs: number;
  /** Tile rules evaluated from raw series, and tile series copied from them. */
  sourceRules: number;
  copiedRules: number;
  action: "reused" | "generated";
  /** promtool's time when generated (now or when cached). */
  promtoolSeconds: number;
  loads: AddedBlocks[];
  seconds: number;
}

function runPromtool(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(PROMTOOL_BIN, args, { stdio: ["ignore", "pipe", "pipe"] }));
    let out = "";
    const keep = (c: string) => (out = (out + c).slice(-8_192));
    child.stdout?.setEncoding("utf8").on("data", keep);
    child.stderr?.setEncoding("utf8").on("data", keep);
    child.once("error", reject);
    child.once("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(`promtool ${args.slice(0, 3).join(" ")} failed (${signal ?? code}): ${out.trim()}`))));
  });
}

function readMeta(dir: string, key: string): BlocksMeta | undefined {
  try {
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as BlocksMeta;
    if (meta.key !== key) return undefined;
    const present = new Set(blockNames(join(dir, "blocks")));
    return meta.blocks.every((b) => present.has(b)) ? meta : undefined;
  } catch {
    return undefined;
  }
}

function digest(o: unknown): string {
  return createHash("sha256").update(JSON.stringify(o)).digest("hex").slice(0, 16);
}

/** Removes every entry of `dir` but `keep`: tiles for spans or rules that are gone. */
function removeOthers(dir: string, keep: string): void {
  for (const e of existsSync(dir) ? readdirSync(dir) : []) if (e !== keep && !["meta.json", "blocks", "rules.yaml"].includes(e)) rmSync(join(dir, e), { recursive: true, force: true });
}

/**
 * Backfills the tiles of `groups` (ruleGroups(profiles, { tiles: true }) for every profile measured)
 * over the raw backfill's span, or takes them from the cache, and loads them into `prom`: the tiles
 * evaluated from raw series in tiles/<key>/, the copies in tiles/<key>/copies-<key>/, so that a run
 * with other profile counts over the same workloads keeps the first.
 */
export async function ensureTiles(prom: BenchPrometheus, backfill: Backfill, params: BackfillParams, groups: readonly RuleGroup[], log: (msg: string) => void): Promise<Tiles> {
  const t0 = Date.now();
  const plan = planTileBackfill(groups);
  if (plan.sourceRules === 0) throw new Error("the rules with tiles record no tiles");
  const { startS, endS } = tileSpan(backfill.startStep * SCRAPE_SECONDS * 1000, backfill.endStep * SCRAPE_SECONDS * 1000, plan.tileMs);
  const sourcesYaml = rulesFileYaml(plan.sources);
  const copiesYaml = rulesFileYaml(plan.copies);
  // What the tiles are a function of: the raw series (their own key), the rules and the span.
  const sourcesKey = digest({ raw: cacheKey(params), sourcesYaml, startS, endS, BLOCK_RANGE });
  const copiesKey = digest({ sourcesKey, copiesYaml });
  const root = join(cacheDir(params), "tiles");
  const sourcesDir = join(root, sourcesKey);
  const copiesDir = join(sourcesDir, `copies-${copiesKey}`);
  const tiles = plan.sourceRules + plan.copiedRules;
  const n = Math.round(((endS - startS) * 1000) / plan.tileMs);
  const span = formatDuration((endS - startS) * 1000 + plan.tileMs);
  const at = new Date(endS * 1000);

  // Every series there with (nearly) every tile of the span: a reload in the middle of the copying
  // serves some blocks a minute before the rest. A copy's first evaluation may come before its
  // source's first tile, so one fewer.
  const served = (series: number) => async () => {
    const count = async (expr: string) => (await prom.query(expr, at)).samples[0]?.value ?? 0;
    const names = [...TILE_RECORDS];
    // Not `count(a or b)`: `or` matches series on their labels without the name, and the bad and all
    // events tiles of an SLO have the same labels.
    const nSeries = await count(names.map((r) => `(count(${r}) or vector(0))`).join(" + "));
    const nSamples = await count(names.map((r) => `(sum(count_over_time(${r}[${span}])) or vector(0))`).join(" + "));
    return nSeries >= series && nSamples >= series * (n - 1);
  };
  const loads: AddedBlocks[] = [];
  const load = async (what: string, dir: string, series: number) => {
    const r = await prom.addBlocks(join(dir, "blocks"), served(series), log);
    loads.push(r);
    log(`${what}: ${r.blocks} blocks taken in and merged in ${r.seconds.toFixed(0)} s${r.restarted ? " (after a restart)" : ""}${r.unmerged > 0 ? `, ${r.unmerged} left unmerged` : ""}`);
  };
  const promtool = async (what: string, yaml: string, dir: string, key: string): Promise<BlocksMeta> => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const rulesFile = join(dir, "rules.yaml");
    const out = join(dir, "blocks.tmp");
    writeFileSync(rulesFile, yaml);
    const t = Date.now();
    log(`promtool: ${what}, ${new Date(startS * 1000).toISOString()} to ${at.toISOString()} every ${formatDuration(plan.tileMs)}`);
    if (yaml.trim() !== "groups: []") {
      await runPromtool([
        "tsdb",
        "create-blocks-from",
        "rules",
        `--max-block-duration=${BLOCK_RANGE}`,
        `--start=${startS}`,
        `--end=${endS}`,
        `--url=${prom.url}`,
        `--eval-interval=${plan.tileMs / 1000}s`,
        `--output-dir=${out}`,
        "--quiet",
        rulesFile,
      ]);
    }
    mkdirSync(out, { recursive: true });
    renameSync(out, join(dir, "blocks"));
    const meta = { key, blocks: blockNames(join(dir, "blocks")), promtoolSeconds: (Date.now() - t) / 1000 };
    writeFileSync(join(dir, "meta.json"), JSON.stringify(meta));
    log(`promtool: ${what} in ${meta.promtoolSeconds.toFixed(0)} s, ${meta.blocks.length} blocks`);
    return meta;
  };

  removeOthers(root, sourcesKey);
  removeOthers(sourcesDir, `copies-${copiesKey}`);
  let action: Tiles["action"] = "reused";
  let sources = readMeta(sourcesDir, sourcesKey);
  if (!sources) {
    action = "generated";
    sources = await promtool(`${plan.sourceRules} tile rules from the raw series`, sourcesYaml, sourcesDir, sourcesKey);
  } else log(`tiles from the cache ${sourcesDir}`);
  // The copies read the source tiles: those must be served first.
  await load(`${plan.sourceRules} tile series`, sourcesDir, plan.sourceRules);
  let copies = readMeta(copiesDir, copiesKey);
  if (!copies) {
    action = "generated";
    copies = await promtool(`${plan.copiedRules} tile series copied from them`, copiesYaml, copiesDir, copiesKey);
  }
  if (plan.copiedRules > 0) await load(`${plan.copiedRules} copied tile series`, copiesDir, tiles);
  return {
    startS,
    endS,
    tileMs: plan.tileMs,
    sourceRules: plan.sourceRules,
    copiedRules: plan.copiedRules,
    action,
    promtoolSeconds: sources.promtoolSeconds + copies.promtoolSeconds,
    loads,
    seconds: (Date.now() - t0) / 1000,
  };
}
