// `npm run bench:prometheus`: what Tollgate costs a real Prometheus holding 30 days of Istio metrics.
// Backfills 30 days of 100 workloads' istio_requests_total and istio_request_duration_milliseconds (15 s
// scrape, seeded model, cached as TSDB blocks), starts a Prometheus of its own on loopback on a copy of
// them, and for each profile count loads each rule set alone (Tollgate's recording rules, Sloth's for
// the same SLOs) or asks Tollgate's Direct-mode queries, reading what Prometheus says it spent. The
// last line is one JSON object.
//
//   node scripts/bench-prometheus.ts [--profiles 100,1000] [--days 30] [--workloads 100] [--seed 1] [--sets tollgate,sloth,direct]

import { parseArgs } from "node:util";
import { exitOnSignals } from "../e2e/support/processes.ts";
import { ensureBackfill } from "./bench-prometheus/backfill.ts";
import { measureDirect, measureRules, type Result } from "./bench-prometheus/measure.ts";
import { SCRAPE_SECONDS } from "./bench-prometheus/model.ts";
import { benchProfiles } from "./bench-prometheus/profiles.ts";
import { startPrometheus, type BenchPrometheus } from "./bench-prometheus/prometheus.ts";
import { ENTRIES, type RuleSetContext } from "./bench-prometheus/rulesets.ts";
import { ensureSloth } from "./bench-prometheus/sloth.ts";

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

function table(results: readonly Result[]): string {
  const header = [
    "set",
    "profiles",
    "rules",
    "rounds",
    "eval ms/cycle",
    "engine ms/cycle",
    "steady est.",
    "Prom CPU s/cycle",
    "samples/profile/cycle",
    "of which recorded",
    "queries/profile",
    "read ms/profile mean",
    "p99",
    "read cycle s",
    "Prom RSS MiB",
    "took s",
  ];
  const rows = results.map((r) => [
    r.entry,
    fmt(r.profiles),
    fmt(r.rules),
    fmt(r.rounds),
    fmt(r.evalMs),
    fmt(r.queryMs),
    r.queryMsSteadyEstimate !== undefined ? fmt(r.queryMsSteadyEstimate) : "",
    fmt(r.cpuSecondsPerCycle, 2),
    fmt(r.samplesPerProfile),
    r.recordedPerProfile ? fmt(r.recordedPerProfile) : "",
    fmt(r.queriesPerProfile),
    fmt(r.readMsMean, 1),
    fmt(r.readMsP99, 1),
    fmt(r.cycleSeconds, 1),
    fmt(r.rssMiB),
    fmt(r.seconds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const notes = results.flatMap((r) => r.notes.map((n) => `  ${r.entry} × ${r.profiles}: ${n}`));
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line), ...notes].join("\n");
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

  const results: Result[] = [];
  let prom: BenchPrometheus | undefined;
  try {
    prom = await startPrometheus(backfill.blocksDir, log);
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

  const max = profileCounts.at(-1) ?? 0;
  const at_ = (entry: string) => results.find((r) => r.entry === entry && r.profiles === max);
  const tollgate = at_("tollgate");
  const sloth = at_("sloth");
  process.stdout.write(`${table(results)}\n`);
  const round = (n: number | undefined, digits: number) => (n === undefined || !Number.isFinite(n) ? null : Number(n.toFixed(digits)));
  process.stdout.write(
    `${JSON.stringify({
      profiles: max,
      ruleEvalMsPerCycle: round(tollgate?.evalMs, 1),
      samplesPerProfilePerCycle: round(tollgate?.samplesPerProfile, 0),
      slothRuleEvalMsPerCycle: round(sloth?.evalMs, 1),
      slothSamplesPerProfilePerCycle: round(sloth?.samplesPerProfile, 0),
      maxWindowErrorPercent: null,
    })}\n`,
  );
}

exitOnSignals();
main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
