// What the cluster shows once a soak run is over, copied into its run directory so the checker can
// judge (and judge again) without the cluster: the audit log's lines about the run, and the raw samples
// Prometheus stored of the simulator's counters.

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { RawSeries } from "./budget.ts";
import { FILES, toProfile, type Meta, type PrometheusDump } from "./run.ts";

/** The audit log and its rotated backups (audit-<time>.log), oldest first. */
export function auditFiles(auditLog: string): string[] {
  const dir = dirname(auditLog);
  if (!existsSync(dir)) return [];
  const base = basename(auditLog, ".log");
  const rotated = readdirSync(dir)
    .filter((f) => f.startsWith(`${base}-`) && f.endsWith(".log"))
    .sort()
    .map((f) => join(dir, f));
  return [...rotated, ...(existsSync(auditLog) ? [auditLog] : [])];
}

/** Copies the audit lines of the run's namespaces and time into the run directory; returns how many. */
export function collectAudit(runDir: string, meta: Meta, auditLog: string): number {
  const from = Date.parse(meta.activeFrom) - 30 * 60_000;
  const to = Date.parse(meta.operatorsStoppedAt) + 60_000;
  const namespaces = new Set([meta.namespace, meta.lease.namespace]);
  const kept: string[] = [];
  for (const file of auditFiles(auditLog)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (line === "" || !namespaces.has(/"namespace":"([^"]*)"/.exec(line)?.[1] ?? "")) continue;
      try {
        const e = JSON.parse(line) as { objectRef?: { namespace?: string }; stageTimestamp?: string };
        const t = Date.parse(e.stageTimestamp ?? "");
        if (namespaces.has(e.objectRef?.namespace ?? "") && t >= from && t <= to) kept.push(line);
      } catch {
        // A line cut short by a stopped API server.
      }
    }
  }
  writeFileSync(join(runDir, FILES.audit), kept.join("\n") + (kept.length ? "\n" : ""));
  return kept.length;
}

/** The raw samples of `selector` from `fromMs` to `toMs`, read in ten-minute range selectors. */
export async function rawSamples(prometheusUrl: string, selector: string, fromMs: number, toMs: number): Promise<RawSeries[]> {
  const chunkS = 600;
  const series = new Map<string, RawSeries>();
  for (let end = toMs; end > fromMs; end -= chunkS * 1000) {
    const url = new URL("/api/v1/query", prometheusUrl);
    url.searchParams.set("query", `${selector}[${chunkS}s]`);
    url.searchParams.set("time", String(end / 1000));
    const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
    if (body.status !== "success" || body.data?.resultType !== "matrix") throw new Error(`raw samples of ${selector} failed: ${body.error ?? res.status}`);
    for (const r of body.data.result) {
      const key = JSON.stringify(Object.entries(r.metric).sort());
      const s = series.get(key) ?? { metric: r.metric, samples: [] };
      for (const [t, v] of r.values) s.samples.push([Math.round(t * 1000), Number(v)]);
      series.set(key, s);
    }
  }
  for (const s of series.values()) {
    s.samples.sort((a, b) => a[0] - b[0]);
    s.samples = s.samples.filter((p, i, all) => i === 0 || p[0] !== all[i - 1]![0]);
  }
  return [...series.values()];
}

/** Copies the simulator's counters for the run's namespace, as Prometheus stored them, into the run directory. */
export async function collectPrometheus(runDir: string, meta: Meta, prometheusUrl: string): Promise<PrometheusDump> {
  const profiles = meta.profiles.map(toProfile);
  const windowMs = Math.max(...profiles.flatMap((p) => p.slos.map((s) => s.windowMs)));
  const from = Date.parse(meta.activeFrom) - windowMs - 60_000;
  const to = Date.parse(meta.operatorsStoppedAt) + 5_000;
  const thresholds = new Set<number>();
  for (const p of profiles) for (const s of p.slos) if (s.indicator.kind === "latency") thresholds.add(s.indicator.thresholdMs);
  const ns = JSON.stringify(meta.namespace);
  const requests = await rawSamples(prometheusUrl, `istio_requests_total{reporter="destination",destination_workload_namespace=${ns}}`, from, to);
  const les = [...thresholds].flatMap((t) => [String(t), `${t}.0`]).concat(["\\\\+Inf"]).join("|");
  const buckets = thresholds.size
    ? await rawSamples(prometheusUrl, `istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace=${ns},le=~"${les}"}`, from, to)
    : [];
  const dump = { requests, buckets };
  writeFileSync(join(runDir, FILES.prometheus), JSON.stringify(dump));
  return dump;
}
