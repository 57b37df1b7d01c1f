// `npm run bench:prometheus`: what Tollgate costs a real Prometheus holding 30 days of Istio metrics.
// Backfills 30 days of 100 workloads' istio_requests_total and istio_request_duration_milliseconds (15 s
// scrape, seeded model, cached as TSDB blocks), starts a Prometheus of its own on loopback on a copy of
// them, backfills 30 days of Tollgate's tiles into it (promtool, cached too) and compares the windows
// summed from them with the raw ones, then for each profile count loads each rule set alone (Tollgate's
// recording rules before and after tiles, Sloth's for the same SLOs) or asks Tollgate's Direct-mode
// queries, reading what Prometheus says it spent. The last line is one JSON object.
//
//   node scripts/bench-prometheus.ts [--profiles 100,1000] [--days 30] [--workloads 100] [--seed 1] [--sets tollgate,tollgate-tiles,sloth,direct]

import { parseArgs } from "node:util";
import { ERROR_RATIO_RECORD, EVENTS_RECORD, ruleGroups } from "../src/slo/rules.ts";
import { exitOnSignals } from "../e2e/support/processes.ts";
import { DEFAULT_WORKERS } from "../src/operator.ts";
import { measureAccuracy, type Accuracy } from "./bench-prometheus/accuracy.ts";
import { markdown } from "./bench-prometheus/markdown.ts";
import { ensureBackfill } from "./bench-prometheus/backfill.ts";
import { measureDirect, measureRules, type Result } from "./bench-prometheus/measure.ts";
import { SCRAPE_SECONDS } from "./bench-prometheus/model.ts";
import { benchProfiles } from "./bench-prometheus/profiles.ts";
import { startPrometheus, type BenchPrometheus } from "./bench-prometheus/prometheus.ts";
import { ENTRIES, TILES_ENTRY, type RuleSetContext } from "./bench-prometheus/rulesets.ts";
import { ensureSloth } from "./bench-prometheus/sloth.ts";
import { ensureTiles, type Tiles } from "./bench-prometheus/tile-backfill.ts";
import { sourceProfiles, type ErrorSummary } from "./bench-prometheus/tiles.ts";

function positiveInts(flag: string, value: string): number[] {
  const out = value.split(",").map((v) => Number(v.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`${flag} takes positive integers separated by commas, not ${value}`);
  return out;
}

function positiveInt(flag: string, value: string): number {
  const [n] = positiveInts(flag, value);
  if (n === undefined || value.includes(",")) throw new Error(`${flag} takes one positive integer, not ${value}`);
  return n;
}

const started = Date.now();
function log(msg: string): void {
  const s = Math.round((Date.now() - started) / 1000);
  process.stderr.write(`${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}  ${msg}\n`);
}

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return "-";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The engine's time per cycle at steady state: as measured, or estimated where recordings were missing. */
function engineMs(r: Result | undefined): number | undefined {
  return r?.queryMsSteadyEstimate ?? r?.queryMs;
}

function labelOf(entry: string): string {
  return ENTRIES.find((e) => e.name === entry)?.label ?? entry;
}

/** Rule sets and Direct reads have different figures, so each has a table of its own. */
function tables(results: readonly Result[]): string {
  const rules = results.filter((r) => r.queriesPerProfile === undefined);
  const direct = results.filter((r) => r.queriesPerProfile !== undefined);
  const set = (r: Result) => `${labelOf(r.entry)} (${r.entry})`;
  const out: string[] = [];
  if (rules.length > 0) {
    out.push(
      "Rule sets, per cycle of 30 s: a group's rules count by their share of it, 30 s over the group's interval. ruleEvalMsPerCycle in the JSON line",
      "is *engine ms/cycle* at steady state (the steady est. where there is one): Σ evalTotalTime of every rule's expression run one per core,",
      "not Σ last duration, which counts the waits of an overloaded Prometheus.",
      markdown(
        ["set", "profiles", "rules", "rounds", "Σ last duration ms/cycle", "engine ms/cycle", "steady est.", "Prom CPU s/cycle", "samples/profile/cycle", "of which recorded", "Prom RSS MiB", "took s"],
        rules.map((r) => [
          set(r),
          fmt(r.profiles),
          fmt(r.rules),
          fmt(r.rounds),
          fmt(r.evalMs),
          fmt(r.queryMs),
          r.queryMsSteadyEstimate !== undefined ? fmt(r.queryMsSteadyEstimate) : "",
          fmt(r.cpuSecondsPerCycle, 2),
          fmt(r.samplesPerProfile),
          r.recordedPerProfile ? fmt(r.recordedPerProfile) : "",
          fmt(r.rssMiB),
          fmt(r.seconds),
        ]),
      ),
    );
  }
  if (direct.length > 0) {
    if (out.length > 0) out.push("");
    out.push(
      `Direct reads: one read of every profile, ${DEFAULT_WORKERS} profiles at a time as the operator's default workers go.`,
      markdown(
        ["set", "profiles", "queries/profile", "read ms/profile mean", "read ms/profile p99", "read cycle s", "Prom CPU s/read cycle", "samples/profile/read", "Prom RSS MiB", "took s"],
        direct.map((r) => [
          set(r),
          fmt(r.profiles),
          fmt(r.queriesPerProfile),
          fmt(r.readMsMean, 1),
          fmt(r.readMsP99, 1),
          fmt(r.cycleSeconds, 1),
          fmt(r.cpuSecondsPerCycle, 2),
          fmt(r.samplesPerProfile),
          fmt(r.rssMiB),
          fmt(r.seconds),
        ]),
      ),
    );
  }
  out.push(...results.flatMap((r) => r.notes.map((n) => `  ${r.entry} × ${r.profiles}: ${n}`)));
  return out.join("\n");
}

function pct(n: number, digits = 3): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

function accuracyTable(a: Accuracy, tiles: Tiles): string {
  const keys = [...new Set(a.rows.map((r) => JSON.stringify([r.window, r.slo])))].map((k) => JSON.parse(k) as [string, string]);
  const cell = (s: ErrorSummary | undefined, f: (s: ErrorSummary) => string) => (s && s.n > 0 ? f(s) : "-");
  const rows = keys.map(([w, slo]) => {
    const ratio = a.rows.find((r) => r.window === w && r.slo === slo && r.record === ERROR_RATIO_RECORD);
    const events = a.rows.find((r) => r.window === w && r.slo === slo && r.record === EVENTS_RECORD);
    const apart = (s: ErrorSummary | undefined) =>
      s
        ? [s.rawZero > 0 ? `${s.rawZero} raw 0 (tiled ≤ ${s.rawZeroMaxAbsolute.toPrecision(2)})` : "", s.noData > 0 ? `${s.noData} no events` : "", s.oneMissing > 0 ? `${s.oneMissing} one side empty` : ""]
            .filter(Boolean)
            .join(", ")
        : "";
    return [
      w,
      slo,
      fmt((ratio?.atTile.n ?? 0) + (ratio?.atTile.rawZero ?? 0) + (ratio?.atTile.noData ?? 0) + (ratio?.atTile.oneMissing ?? 0)),
      cell(ratio?.atTile, (s) => pct(s.maxPercent)),
      cell(ratio?.atTile, (s) => pct(s.medianPercent)),
      ratio?.maxBurnRateDelta ? pct(ratio.maxBurnRateDelta.atTile, 4) : "-",
      cell(events?.atTile, (s) => pct(s.maxPercent)),
      cell(events?.atTile, (s) => pct(s.medianPercent)),
      cell(ratio?.atEnd, (s) => pct(s.maxPercent)),
      ratio?.maxBurnRateDelta ? pct(ratio.maxBurnRateDelta.atEnd, 4) : "-",
      cell(events?.atEnd, (s) => pct(s.maxPercent)),
      cell(ratio?.atTile, (s) => s.worst ?? ""),
      apart(ratio?.atTile),
    ];
  });
  // No "|" in a header: the tables are Markdown.
  const header = [
    "window",
    "SLO",
    "profiles",
    "error ratio max %",
    "median %",
    "Δ burn rate max",
    "events max %",
    "median %",
    "at end: error ratio max %",
    "Δ burn rate max",
    "events max %",
    "largest at",
    "set apart (error ratio)",
  ];
  return [
    `Accuracy: |tiled − raw| / raw of each window summed from tiles against the same window read raw (the rules' own expressions, with and without tiles),`,
    `for ${a.profiles} profiles (one per workload, tiles from their own rules; ${fmt(tiles.copiedRules)} tile series of the others are copies of theirs), each SLO at its last tile`,
    `(${fmt(a.tileAgeS.min)}–${fmt(a.tileAgeS.max)} s before the end of the backfill: each tiles group has its own phase) and, "at end", at the end of the backfill,`,
    `where a tiled window ends up to one tile early. Events are recorded over the SLO window only. A raw value of 0 has no relative error: those are set apart, with the`,
    `largest tiled value; both 0 counts as 0 %; no events on either side (0/0) counts as agreement, set apart too. Δ burn rate is |tiled − raw| / (1 − objective),`,
    `the difference in what Tollgate compares with its burn-rate thresholds.`,
    markdown(header, rows),
    ...a.notes.map((n) => `  ${n}`),
  ].join("\n");
}

function ratioText(r: number): string {
  return Number.isFinite(r) ? r.toPrecision(2) : "-";
}

function ratioLine(results: readonly Result[], max: number): string {
  const at = (entry: string) => results.find((r) => r.entry === entry && r.profiles === max);
  const before = at("tollgate");
  const after = at(TILES_ENTRY);
  const sloth = at("sloth");
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : NaN);
  const part = (what: string, f: (r: Result | undefined) => number | undefined, digits = 0) => {
    const r = ratio(f(after), f(sloth));
    return (
      `${what}: before ${fmt(f(before), digits)}, after ${fmt(f(after), digits)}, Sloth ${fmt(f(sloth), digits)}; ` +
      `after ÷ Sloth ${ratioText(r)}, after ÷ before ${ratioText(ratio(f(after), f(before)))}`
    );
  };
  const evalRatio = ratio(engineMs(after), engineMs(sloth));
  const samplesRatio = ratio(after?.samplesPerProfile, sloth?.samplesPerProfile);
  const verdict = Number.isFinite(evalRatio) && Number.isFinite(samplesRatio) ? (evalRatio <= 0.5 && samplesRatio <= 0.5 ? "met" : "NOT met") : "not measured";
  return [
    `Ratios at ${fmt(max)} profiles (target: after ≤ 0.5 × Sloth on engine ms and samples: ${verdict}):`,
    `  ${part("engine ms/cycle at steady state", engineMs)}`,
    `  ${part("samples/profile/cycle", (r) => r?.samplesPerProfile)}`,
    `  ${part("Prom CPU s/cycle", (r) => r?.cpuSecondsPerCycle, 2)}`,
    `  ${part("Σ last duration ms/cycle", (r) => r?.evalMs)}`,
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profiles: { type: "string", default: "100,1000" },
      days: { type: "string", default: "30" },
      workloads: { type: "string", default: "100" },
      seed: { type: "string", default: "1" },
      sets: { type: "string", default: ENTRIES.map((e) => e.name).join(",") },
    },
    strict: true,
  });
  const profileCounts = [...new Set(positiveInts("--profiles", values.profiles))].sort((a, b) => a - b);
  const days = positiveInt("--days", values.days);
  const workloads = positiveInt("--workloads", values.workloads);
  const seed = positiveInt("--seed", values.seed);
  const names = values.sets.split(",").map((s) => s.trim());
  const unknown = names.filter((n) => !ENTRIES.some((e) => e.name === n));
  if (unknown.length > 0) throw new Error(`--sets: no entry ${unknown.join(", ")} (there are ${ENTRIES.map((e) => e.name).join(", ")})`);
  const entries = ENTRIES.filter((e) => names.includes(e.name));

  const backfill = await ensureBackfill({ days, workloads, seed }, log);
  const at = new Date(backfill.endStep * SCRAPE_SECONDS * 1000);
  log(
    `backfill ${backfill.action} in ${backfill.seconds.toFixed(0)} s: ${backfill.series} series, ${(backfill.samples / 1e6).toFixed(0)} M samples ` +
      `up to ${at.toISOString()}, which every read and every rule's sample count is measured at`,
  );

  // Built before Prometheus starts, so a first build's minutes of compiling measure nothing.
  let slothBin: string | undefined;
  if (entries.some((e) => e.name === "sloth")) slothBin = await ensureSloth(log);
  const ctx: RuleSetContext = {
    sloth: async () => slothBin ?? (slothBin = await ensureSloth(log)),
  };

  const max = profileCounts.at(-1) ?? 0;
  const results: Result[] = [];
  let tiles: Tiles | undefined;
  let accuracy: Accuracy | undefined;
  let prom: BenchPrometheus | undefined;
  try {
    prom = await startPrometheus(backfill.blocksDir, log);
    if (entries.some((e) => e.name === TILES_ENTRY)) {
      // Tiles for every profile any count measures (the first N of the largest set are the set for N),
      // loaded before anything is measured, so every set runs on the same blocks.
      const all = benchProfiles(max, workloads);
      tiles = await ensureTiles(prom, backfill, { days, workloads, seed }, ruleGroups(all, { tiles: true }).groups, log);
      log(
        `tiles ${tiles.action} in ${tiles.seconds.toFixed(0)} s (promtool ${tiles.promtoolSeconds.toFixed(0)} s): ${tiles.sourceRules} tile series evaluated, ` +
          `${tiles.copiedRules} copied, ${new Date(tiles.startS * 1000).toISOString()} to ${new Date(tiles.endS * 1000).toISOString()}`,
      );
      const sources = sourceProfiles(all, (p) => ruleGroups([p], { tiles: true }).groups);
      accuracy = await measureAccuracy(prom, sources, new Date(tiles.endS * 1000), log);
    }
    for (const n of profileCounts) {
      const profiles = benchProfiles(n, workloads);
      for (const entry of entries) {
        const r = entry.kind === "rules" ? await measureRules(prom, entry, profiles, at, ctx, log) : await measureDirect(prom, entry, profiles, at, log);
        results.push(r);
      }
    }
  } finally {
    await prom?.stop();
  }

  const at_ = (entry: string) => results.find((r) => r.entry === entry && r.profiles === max);
  const after = at_(TILES_ENTRY);
  const sloth = at_("sloth");
  process.stdout.write(`${tables(results)}\n\n`);
  process.stdout.write(`Sets:\n${entries.map((e) => `  ${e.label} (${e.name}): ${e.description}`).join("\n")}\n\n`);
  if (accuracy && tiles) process.stdout.write(`${accuracyTable(accuracy, tiles)}\n\n`);
  process.stdout.write(`${ratioLine(results, max)}\n`);
  const round = (n: number | undefined, digits: number) => (n === undefined || !Number.isFinite(n) ? null : Number(n.toFixed(digits)));
  process.stdout.write(
    `${JSON.stringify({
      profiles: max,
      ruleEvalMsPerCycle: round(engineMs(after), 1),
      samplesPerProfilePerCycle: round(after?.samplesPerProfile, 0),
      slothRuleEvalMsPerCycle: round(engineMs(sloth), 1),
      slothSamplesPerProfilePerCycle: round(sloth?.samplesPerProfile, 0),
      maxWindowErrorPercent: round(accuracy?.maxErrorRatioPercent, 4),
    })}\n`,
  );
}

exitOnSignals();
main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
