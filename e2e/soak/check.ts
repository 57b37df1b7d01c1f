// The soak's invariant checker: node e2e/soak/check.ts RUN_DIR [--collect --prometheus-url URL --audit-log FILE]
//
// Judges a soak run from what a user of the cluster can see: the API server's audit log, the profiles'
// statuses, Prometheus's samples of the simulator's counters, the notification receiver's log, the
// operators' resident memory, and the soak's fault log. It never reads Tollgate's code or internals.
// With --collect it first copies the audit log's lines and Prometheus's samples for the run into
// RUN_DIR (the cluster must still be up); without, it judges what RUN_DIR holds.
//
// Prints each violation with its evidence, a summary, and last exactly one JSON line:
// {"minutes":…,"faults":…,"decisions":…,"violations":…}. Exits 1 when violations > 0.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { collectAudit, collectPrometheus } from "./collect.ts";
import * as C from "./invariants.ts";
import { FILES, loadRun, type Meta } from "./run.ts";

export interface Summary {
  minutes: number;
  faults: number;
  decisions: number;
  violations: number;
}

/** The report as text lines, the last one the JSON summary. */
export function render(report: C.Report, meta: Meta): { lines: string[]; summary: Summary } {
  const minutes = Number(((Date.parse(meta.activeTo) - Date.parse(meta.activeFrom)) / 60_000).toFixed(1));
  const lines: string[] = [];
  for (const v of report.violations) {
    lines.push(`VIOLATION ${v.check}${v.profile ? ` ${v.profile}` : ""}${v.at ? ` at ${v.at}` : ""}: ${v.message}${v.evidence !== undefined ? `\n    evidence: ${JSON.stringify(v.evidence)}` : ""}`);
  }
  for (const n of report.notes) lines.push(`note: ${n}`);
  lines.push(`faults: ${JSON.stringify(report.faultsByKind)}`);
  lines.push(`decisions (recorded in status): ${JSON.stringify(report.decisionsByKind)}`);
  lines.push(`operator Events by reason: ${JSON.stringify(report.eventsByReason)}`);
  lines.push(`lease terms: ${report.terms}`);
  const r = [...report.freezeReactionsMs].sort((a, b) => a - b);
  lines.push(
    `freezes that came after the checker's budget passed freezeAt + ${C.FREEZE_MARGIN_PCT}: ${r.length}${r.length ? ` (median ${(r[Math.floor(r.length / 2)]! / 1000).toFixed(0)} s later, max ${(r.at(-1)! / 1000).toFixed(0)} s; allowed: evaluation interval + ${C.FREEZE_SLACK_MS / 1000} s)` : ""}; rollbacks judged: ${report.rollbacksJudged}`,
  );
  for (const m of report.memory) lines.push(`memory: ${m.identity} (pid ${m.pid}, ${m.role}) ${m.mibPerMin.toFixed(2)} MiB/min over ${m.samples} samples, ${m.firstMiB.toFixed(0)} → ${m.lastMiB.toFixed(0)} MiB${m.heapMiBPerMin !== undefined ? `; heap floor ${m.heapMiBPerMin.toFixed(2)} MiB/min` : ""}`);
  const byCheck: Record<string, number> = {};
  for (const v of report.violations) byCheck[v.check] = (byCheck[v.check] ?? 0) + 1;
  lines.push(`violations by check: ${JSON.stringify(byCheck)}`);
  const summary = { minutes, faults: report.faults, decisions: report.decisions, violations: report.violations.length };
  lines.push(JSON.stringify(summary));
  return { lines, summary };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { collect: { type: "boolean", default: false }, "prometheus-url": { type: "string" }, "audit-log": { type: "string" } },
  });
  const dir = positionals[0];
  if (!dir) {
    process.stderr.write("usage: node e2e/soak/check.ts RUN_DIR [--collect --prometheus-url URL --audit-log FILE]\n");
    return 2;
  }
  if (values.collect) {
    const meta = JSON.parse(readFileSync(join(dir, FILES.meta), "utf8")) as Meta;
    const auditLog = values["audit-log"] ?? meta.auditLog;
    const prometheusUrl = values["prometheus-url"] ?? meta.prometheusUrl;
    if (!auditLog || !prometheusUrl) throw new Error("--collect needs the audit log and Prometheus's URL (flags, or meta.json)");
    const lines = collectAudit(dir, meta, auditLog);
    const dump = await collectPrometheus(dir, meta, prometheusUrl);
    process.stdout.write(`collected ${lines} audit lines, ${dump.requests.length + dump.buckets.length} Prometheus series\n`);
  }
  const run = loadRun(dir);
  const { lines, summary } = render(C.checkRun(run), run.meta);
  process.stdout.write(lines.join("\n") + "\n");
  return summary.violations > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`check failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(2);
    },
  );
}
