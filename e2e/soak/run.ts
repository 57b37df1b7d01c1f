// What a soak run leaves in its directory, as the checker reads it. The driver (scripts/soak.ts) writes
// the logs as the run goes; collect.ts adds what the cluster shows at the end (audit log, Prometheus's
// samples, Events). Everything here is what a user of the cluster can see: no Tollgate internals.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAuditLog, type Write } from "./audit.ts";
import { Counters, type Indicator, type RawSeries, type SloDef } from "./budget.ts";

export interface Meta {
  namespace: string;
  seed: number;
  minutes: number;
  /** ISO times: setup done and faults begin; faults over; operators stopped. */
  activeFrom: string;
  activeTo: string;
  operatorsStoppedAt: string;
  /** The user the operators run as (the chart's ServiceAccount). */
  operatorUser: string;
  lease: { namespace: string; name: string };
  /** The profiles as applied: name, mode, and the spec the user wrote. */
  profiles: Array<{ name: string; mode: "budget" | "canary" | "guard"; spec: ProfileSpec }>;
  prometheusUrl?: string;
  auditLog?: string;
}

/** The fields of a PerformanceProfile spec the checker reads (README's API section). */
export interface ProfileSpec {
  targetRef: { name: string };
  slos: Array<{ name: string; objective: number; window?: string; indicator: { istio?: { kind: string; threshold?: string } } }>;
  policy?: { warnAt?: number; freezeAt?: number; rollbackAt?: number; unfreezeBelow?: number; evaluationInterval?: string; minEvents?: number; onNoData?: string };
  canary?: { stepWeight?: number; maxWeight?: number; interval?: string; service?: { name: string } };
}

export type FaultPhase = "begin" | "end" | "note";
export interface FaultRecord {
  at: string;
  fault: string;
  phase: FaultPhase;
  [detail: string]: unknown;
}

export interface ReceiverRecord {
  at: string;
  path: string;
  key?: string;
  status: number;
  body?: Record<string, unknown>;
}

export interface RssSample {
  at: string;
  identity: string;
  pid: number;
  rssKiB: number;
  /** V8's used heap, as the process's /metrics served it at the same moment; absent when it did not answer. */
  heapUsedBytes?: number;
}

export interface StatusSample {
  at: string;
  name: string;
  status?: unknown;
}

/** A profile as the checker judges it, its durations in ms and defaults filled in as README gives them. */
export interface Profile {
  name: string;
  mode: "budget" | "canary" | "guard";
  target: string;
  /** The workloads its budget counts: the target, and `<target>-primary` in canary mode. */
  workloads: string[];
  slos: SloDef[];
  freezeAt: number;
  rollbackAt: number;
  unfreezeBelow: number;
  evaluationIntervalMs: number;
  minEvents: number;
  canary?: { stepWeight: number; maxWeight: number; intervalMs: number; service: string };
}

export interface RunData {
  meta: Meta;
  profiles: Profile[];
  writes: Write[];
  faults: FaultRecord[];
  receiver: ReceiverRecord[];
  rss: RssSample[];
  statuses: StatusSample[];
  counters: Counters;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "1m", "10s", "1h30m", "500ms" to ms. */
export function parseDuration(s: string): number {
  let total = 0;
  let rest = s.trim();
  if (rest === "") throw new Error(`empty duration`);
  while (rest !== "") {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/.exec(rest);
    if (!m) throw new Error(`cannot parse duration ${JSON.stringify(s)}`);
    total += Number(m[1]) * UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** README's defaults: 90 / 100 / 150 / 70 %, 30 s interval, 100 events, 30-day windows. */
export function toProfile(p: Meta["profiles"][number]): Profile {
  const spec = p.spec;
  const target = spec.targetRef.name;
  const slos: SloDef[] = spec.slos.map((s) => {
    const istio = s.indicator.istio;
    if (!istio) throw new Error(`profile ${p.name}: SLO ${s.name} is not an Istio SLO; the soak's checker reads only Istio's metrics`);
    const indicator: Indicator = istio.kind === "latency" ? { kind: "latency", thresholdMs: parseDuration(istio.threshold ?? "500ms") } : { kind: "availability" };
    return { name: s.name, objective: s.objective, windowMs: parseDuration(s.window ?? "30d"), indicator };
  });
  const policy = spec.policy ?? {};
  return {
    name: p.name,
    mode: p.mode,
    target,
    workloads: spec.canary ? [target, `${target}-primary`] : [target],
    slos,
    freezeAt: policy.freezeAt ?? 100,
    rollbackAt: policy.rollbackAt ?? 150,
    unfreezeBelow: policy.unfreezeBelow ?? 70,
    evaluationIntervalMs: parseDuration(policy.evaluationInterval ?? "30s"),
    minEvents: policy.minEvents ?? 100,
    ...(spec.canary
      ? {
          canary: {
            stepWeight: spec.canary.stepWeight ?? 10,
            maxWeight: spec.canary.maxWeight ?? 50,
            intervalMs: parseDuration(spec.canary.interval ?? "1m"),
            service: spec.canary.service?.name ?? target,
          },
        }
      : {}),
  };
}

export function readJsonl<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as T];
      } catch {
        return [];
      }
    });
}

export const FILES = {
  meta: "meta.json",
  audit: "audit.jsonl",
  faults: "faults.jsonl",
  traffic: "traffic.jsonl",
  pushes: "pushes.jsonl",
  receiver: "receiver.jsonl",
  rss: "rss.jsonl",
  statuses: "statuses.jsonl",
  prometheus: "prometheus.json",
} as const;

export interface PrometheusDump {
  requests: RawSeries[];
  buckets: RawSeries[];
}

export function loadRun(dir: string): RunData {
  const meta = JSON.parse(readFileSync(join(dir, FILES.meta), "utf8")) as Meta;
  const prom: PrometheusDump = existsSync(join(dir, FILES.prometheus))
    ? (JSON.parse(readFileSync(join(dir, FILES.prometheus), "utf8")) as PrometheusDump)
    : { requests: [], buckets: [] };
  return {
    meta,
    profiles: meta.profiles.map(toProfile),
    writes: existsSync(join(dir, FILES.audit)) ? parseAuditLog(readFileSync(join(dir, FILES.audit), "utf8")) : [],
    faults: readJsonl<FaultRecord>(join(dir, FILES.faults)),
    receiver: readJsonl<ReceiverRecord>(join(dir, FILES.receiver)),
    rss: readJsonl<RssSample>(join(dir, FILES.rss)),
    statuses: readJsonl<StatusSample>(join(dir, FILES.statuses)),
    counters: new Counters(prom.requests, prom.buckets),
  };
}
