// The soak's invariants, each a pure function of what a run left behind (run.ts). Every constant that
// gives Tollgate room (a clock slack, a margin around a threshold) is exported and stated in README's
// "Soak" section; none of them reads Tollgate's code or internals.

import { RESOURCES, succeeded, type Write } from "./audit.ts";
import { burnRate, consumedPercent, roleWindowMs, type Counters } from "./budget.ts";
import { leaseRecords, terms, writesOutsideTerms, type LeaseRecord, type Term } from "./lease.ts";
import type { FaultRecord, Profile, ReceiverRecord, RssSample, RunData, StatusSample } from "./run.ts";

export interface Violation {
  check: string;
  profile?: string;
  at?: string;
  message: string;
  evidence?: unknown;
}

/** Clock slack between a lease term's edges and a write: one server clock, so a second is generous. */
export const LEASE_CLOCK_SLACK_MS = 1_000;
/** A rollback is justified if the checker's budget reached rollbackAt minus this many points... */
export const ROLLBACK_MARGIN_PCT = 5;
/** ...with both role burn rates above 1 minus this... */
export const BURN_MARGIN = 0.1;
/** ...at some instant between one evaluation interval plus this before the RolledBack Event, and the Event. */
export const ROLLBACK_LOOKBACK_SLACK_MS = 5_000;
/** A freeze is due once the checker's budget is at least freezeAt plus this many points... */
export const FREEZE_MARGIN_PCT = 5;
/** ...and missed when it has been due for one evaluation interval plus this, outside the excused windows. */
export const FREEZE_SLACK_MS = 5_000;
/** After Prometheus or the API server is back, this long is excused too (relists, a new lease, a first pass). */
export const RECOVERY_MS = 20_000;
/** After a leader is killed or stopped, until the next lease term begins plus this, is excused. */
export const LEADER_WARMUP_MS = 5_000;
/** A metric-driven action this soon after Prometheus became unreachable came from a pass that read it before. */
export const PROMETHEUS_ACTION_SLACK_MS = 2_000;
/** The fault log's end of an outage is when the soak saw Prometheus answer again (polled every 100 ms): a pass may have read it this much earlier. */
export const PROMETHEUS_BACK_SLACK_MS = 1_000;
/** A transition recorded this close to the operators' stop may still be unsent. */
export const NOTIFY_GRACE_MS = 30_000;
/**
 * Least-squares RSS slope above this is a leak, when the used heap's floor grows too (or the samples
 * carry no heap): V8 keeps the pages of a grown young generation and grows its heap toward
 * --max-old-space-size without retaining anything, which moves RSS by several MiB over the short
 * stretches a soak's role changes leave, while a leak of JavaScript objects raises what is left after
 * each minute's collections...
 */
export const MEMORY_SLOPE_MAX_MIB_PER_MIN = 2;
/**
 * ...fitted per process and role (leader or standby, per the lease terms) over the active run's second
 * half, leaving out the first MEMORY_SETTLE_MS of each (a new leader fills its caches and grows once),
 * on stretches of at least MEMORY_MIN_SPAN_MS and MEMORY_MIN_SAMPLES samples.
 */
export const MEMORY_SETTLE_MS = 120_000;
export const MEMORY_MIN_SPAN_MS = 120_000;
export const MEMORY_MIN_SAMPLES = 10;

const FROZEN_LABEL = "tollgate.dev/frozen";
const iso = (t: number) => new Date(t).toISOString();

export interface Window {
  from: number;
  to: number;
  fault: string;
}

/** Begin/end pairs of the named faults (paired by `id`, else in order); an unended one lasts until `endMs`. */
export function faultWindows(faults: readonly FaultRecord[], names: readonly string[], endMs: number): Window[] {
  const open = new Map<string, { at: number; fault: string }>();
  const out: Window[] = [];
  for (const f of faults) {
    if (!names.includes(f.fault)) continue;
    const key = `${f.fault}/${String(f.id ?? "")}`;
    const at = Date.parse(f.at);
    if (f.phase === "begin") open.set(key, { at, fault: f.fault });
    else if (f.phase === "end") {
      const b = open.get(key);
      if (b) out.push({ from: b.at, to: at, fault: f.fault });
      open.delete(key);
    }
  }
  for (const b of open.values()) out.push({ from: b.at, to: endMs, fault: b.fault });
  return out.sort((a, b) => a.from - b.from);
}

export const PROMETHEUS_FAULTS = ["prometheus-stop", "prometheus-drop", "prometheus-hang"];
export const APISERVER_FAULTS = ["apiserver-stop"];
export const LEADER_FAULTS = ["leader-kill", "leader-term"];

/** From a leader's kill or stop until the next term begins (per the audit log), plus LEADER_WARMUP_MS. */
export function leaderlessWindows(faults: readonly FaultRecord[], allTerms: readonly Term[], endMs: number): Window[] {
  return faults
    .filter((f) => LEADER_FAULTS.includes(f.fault) && f.phase === "begin")
    .map((f) => {
      const from = Date.parse(f.at);
      const next = allTerms.find((t) => t.from > from);
      return { from, to: next ? next.from + LEADER_WARMUP_MS : endMs, fault: f.fault };
    });
}

const within = (t: number, ws: readonly Window[], before = 0, after = 0) => ws.find((w) => w.from - before <= t && t <= w.to + after);

// ---------------------------------------------------------------------------------------------
// What the operator did, as the audit log shows it.

export interface Occurrence {
  at: number;
  profile: string;
  reason: string;
  event: string;
}

/** Each Event the operator wrote on a profile: a create, and each count bump of an existing one. */
export function operatorEvents(writes: readonly Write[], namespace: string, operatorUser: string): Occurrence[] {
  const byName = new Map<string, { reason: string; profile: string }>();
  const out: Occurrence[] = [];
  for (const w of writes) {
    if (w.resource !== RESOURCES.events || w.namespace !== namespace || w.user !== operatorUser || !succeeded(w)) continue;
    const obj = w.requestObject as { metadata?: { name?: string }; reason?: string; involvedObject?: { kind?: string; name?: string } } | undefined;
    if (w.verb === "create") {
      const name = obj?.metadata?.name ?? w.name ?? "";
      if (obj?.involvedObject?.kind !== "PerformanceProfile") continue;
      const e = { reason: obj.reason ?? "", profile: obj.involvedObject.name ?? "" };
      byName.set(name, e);
      out.push({ at: w.at, ...e, event: name });
    } else if (w.verb === "patch" || w.verb === "update") {
      const e = byName.get(w.name ?? "");
      if (e) out.push({ at: w.at, ...e, event: w.name ?? "" });
    }
  }
  return out;
}

export interface StatusWrite {
  at: number;
  user: string;
  /** The token the write was made with (see audit.ts), which tells one operator process from another. */
  credential?: string;
  status: Record<string, unknown>;
}

/** The profile statuses the operator wrote, in order: profile → [(at, status)]. */
export function statusWrites(writes: readonly Write[], namespace: string): Map<string, StatusWrite[]> {
  const out = new Map<string, StatusWrite[]>();
  for (const w of writes) {
    if (w.resource !== RESOURCES.profiles || w.subresource !== "status" || w.namespace !== namespace || !succeeded(w)) continue;
    const status = (w.responseObject as { status?: Record<string, unknown> } | undefined)?.status;
    if (!status) continue;
    const list = out.get(w.name ?? "") ?? [];
    list.push({ at: w.at, user: w.user, ...(w.credential ? { credential: w.credential } : {}), status });
    out.set(w.name ?? "", list);
  }
  return out;
}

export interface Decision {
  at: number;
  profile: string;
  /** What the recorded status says was decided. */
  kind: "freeze" | "unfreeze" | "warning" | "recovered" | "rollback" | "rollback-skipped" | "cpu-target" | "canary-step" | "canary-check-failed" | "canary-weight" | "canary-promoted" | "canary-failed";
  /** Only a reading of Prometheus can decide it: no pass without data may record it. */
  metricDriven: boolean;
  detail: string;
  /** The notifications the same status write queued. */
  notified: string[];
}

type Cond = { type?: string; status?: string; reason?: string; lastTransitionTime?: string };
const cond = (s: Record<string, unknown>, type: string) => ((s.conditions as Cond[] | undefined) ?? []).find((c) => c.type === type);

/** The notification each kind of decision is told by (README: Notifications); a freeze or an unfreeze tells the budget's crossing too. */
export const NOTIFIED_BY: Partial<Record<Decision["kind"], string>> = {
  freeze: "Frozen",
  unfreeze: "Unfrozen",
  warning: "Warning",
  recovered: "Recovered",
  rollback: "RolledBack",
  "rollback-skipped": "RollbackSkipped",
  "canary-promoted": "CanaryPromoted",
  "canary-failed": "CanaryFailed",
};

/**
 * The decisions the operator recorded, from one status write to the next of each profile: the
 * conditions README names (DeploymentsFrozen, BudgetHealthy, RolledBack, RollbackSkipped), the HPA's
 * CPU target, and the canary's weight, failed checks and phase.
 */
export function decisions(statuses: ReturnType<typeof statusWrites>): Decision[] {
  const out: Decision[] = [];
  for (const [profile, list] of statuses) {
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!.status;
      const next = list[i]!.status;
      const at = list[i]!.at;
      const notified = ((next.outbox as Array<{ kind?: string; reason?: string; at?: string }> | undefined) ?? [])
        .filter((e) => e.kind === "Notification" && Math.abs(Date.parse(e.at ?? "") - at) <= 60_000)
        .map((e) => e.reason ?? "");
      const add = (kind: Decision["kind"], metricDriven: boolean, detail: string) => out.push({ at, profile, kind, metricDriven, detail, notified });
      // A condition's first verdict (from Unknown or absent) is no decision unless it is the bad one:
      // a profile first seen over freezeAt is frozen, under warnAt it is not "recovered".
      const flip = (type: string, bad: string) => {
        const a = cond(prev, type)?.status ?? "Unknown";
        const b = cond(next, type);
        if (!b || a === b.status || (b.status !== bad && a !== bad)) return undefined;
        return { from: a, to: b };
      };
      const df = flip("DeploymentsFrozen", "True");
      if (df) add(df.to.status === "True" ? "freeze" : "unfreeze", true, `DeploymentsFrozen ${df.from} → ${df.to.status} (${df.to.reason ?? ""})`);
      const bh = flip("BudgetHealthy", "False");
      if (bh) add(bh.to.status === "False" ? "warning" : "recovered", true, `BudgetHealthy ${bh.from} → ${bh.to.status} (${bh.to.reason ?? ""})`);
      for (const [type, kind] of [["RolledBack", "rollback"], ["RollbackSkipped", "rollback-skipped"]] as const) {
        const a = cond(prev, type);
        const b = cond(next, type);
        if (b?.status === "True" && (a?.status !== "True" || a.lastTransitionTime !== b.lastTransitionTime)) add(kind, true, `${type} True (${b.reason ?? ""})`);
      }
      const cpu0 = (prev.autoscaling as { cpuTarget?: number } | undefined)?.cpuTarget;
      const cpu1 = (next.autoscaling as { cpuTarget?: number } | undefined)?.cpuTarget;
      if (cpu0 !== undefined && cpu1 !== undefined && cpu0 !== cpu1) add("cpu-target", true, `HPA CPU target ${cpu0} → ${cpu1} %`);
      type CanaryView = { weight?: number; failedChecks?: number; phase?: string; lastVerdict?: { verdict?: string } };
      const c0 = prev.canary as CanaryView | undefined;
      const c1 = next.canary as CanaryView | undefined;
      if (c0 && c1) {
        // A check fails on Prometheus's numbers (BurnRateExceeded) or on the Deployment's pods
        // (PodsNotReady, a Kubernetes fact the API server gives whether Prometheus answers or not).
        const verdict = c1.lastVerdict?.verdict ?? "";
        if ((c1.failedChecks ?? 0) > (c0.failedChecks ?? 0)) add("canary-check-failed", verdict !== "PodsNotReady", `failed checks ${c0.failedChecks ?? 0} → ${c1.failedChecks} (${verdict})`);
        const w0 = c0.weight ?? 0;
        const w1 = c1.weight ?? 0;
        // A step forward from a weight above 0 is a passed check; a start, a promotion or an abort is not a reading.
        if (w1 !== w0) add(w0 > 0 && w1 > w0 ? "canary-step" : "canary-weight", w0 > 0 && w1 > w0, `canary weight ${w0} → ${w1} %`);
        if (c1.phase !== c0.phase && c1.phase === "Succeeded") add("canary-promoted", false, `canary ${c0.phase} → Succeeded`);
        if (c1.phase !== c0.phase && c1.phase === "Failed") add("canary-failed", false, `canary ${c0.phase} → Failed`);
      }
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/** The canary's weight in a VirtualService: the weight of http[0]'s route to subset "canary" (0 when none). */
export function canaryWeight(vs: unknown): number | undefined {
  const http = (vs as { spec?: { http?: Array<{ route?: Array<{ destination?: { subset?: string }; weight?: number }> }> } } | undefined)?.spec?.http;
  if (!http) return undefined;
  const route = http[0]?.route ?? [];
  const canary = route.find((r) => r.destination?.subset === "canary");
  if (!canary) return 0;
  return canary.weight ?? (route.length === 1 ? 100 : 0);
}

/** Writes of one VirtualService that changed the canary's weight: (at, user, from, to). */
export function weightChanges(writes: readonly Write[], namespace: string, name: string): Array<{ at: number; user: string; from: number; to: number }> {
  const out: Array<{ at: number; user: string; from: number; to: number }> = [];
  let last: number | undefined;
  for (const w of writes) {
    if (w.resource !== RESOURCES.virtualServices || w.namespace !== namespace || w.name !== name || !succeeded(w)) continue;
    if (w.verb === "delete") {
      last = undefined;
      continue;
    }
    const weight = canaryWeight(w.responseObject);
    if (weight === undefined) continue;
    if (last !== undefined && weight !== last) out.push({ at: w.at, user: w.user, from: last, to: weight });
    if (last === undefined && weight !== 0) out.push({ at: w.at, user: w.user, from: 0, to: weight });
    last = weight;
  }
  return out;
}

/** Whether the target Deployment carried the freeze label after each write: [(at, frozen)]. */
export function frozenTimeline(writes: readonly Write[], namespace: string, name: string): Array<{ at: number; frozen: boolean }> {
  const out: Array<{ at: number; frozen: boolean }> = [];
  for (const w of writes) {
    if (w.resource !== RESOURCES.deployments || w.subresource !== undefined || w.namespace !== namespace || w.name !== name || !succeeded(w)) continue;
    if (w.verb === "delete") {
      out.push({ at: w.at, frozen: false });
      continue;
    }
    const labels = (w.responseObject as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels;
    if (labels === undefined && w.responseObject === undefined) continue;
    out.push({ at: w.at, frozen: labels?.[FROZEN_LABEL] !== undefined });
  }
  return out;
}

function frozenAt(timeline: ReadonlyArray<{ at: number; frozen: boolean }>, t: number): boolean {
  let f = false;
  for (const p of timeline) {
    if (p.at > t) break;
    f = p.frozen;
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// The checks.

export function checkLeaseTerms(run: RunData): Violation[] {
  return writesOutsideTerms(run.writes, {
    operatorUser: run.meta.operatorUser,
    namespace: run.meta.namespace,
    lease: run.meta.lease,
    slackMs: LEASE_CLOCK_SLACK_MS,
  }).map((v) => ({
    check: "lease-term",
    at: iso(v.write.at),
    message: `${v.write.verb} ${v.write.resource}${v.write.subresource ? `/${v.write.subresource}` : ""} ${v.write.name ?? ""} by ${v.writer ?? "an unknown writer"} while ${v.holderThen ?? "nobody"} held the lease: ${v.why}`,
    evidence: { credential: v.write.credential, code: v.write.code },
  }));
}

/** The worst SLO's consumption at t, and each SLO's consumption and role burn rates. */
export function budgetAt(c: Counters, namespace: string, p: Profile, t: number) {
  const slos = p.slos.map((slo) => ({
    slo: slo.name,
    consumed: consumedPercent(c, namespace, p.workloads, slo, p.minEvents, t),
    burn5m: burnRate(c, namespace, p.workloads, slo, roleWindowMs(300_000, slo.windowMs), t),
    burn1h: burnRate(c, namespace, p.workloads, slo, roleWindowMs(3_600_000, slo.windowMs), t),
  }));
  const defined = slos.filter((s) => s.consumed !== undefined);
  const worst = defined.length ? Math.max(...defined.map((s) => s.consumed!)) : undefined;
  return { worst, slos };
}

export function checkRollbacks(run: RunData, decided: readonly Decision[]): Violation[] {
  const out: Violation[] = [];
  for (const o of decided.filter((x) => x.kind === "rollback")) {
    const p = run.profiles.find((x) => x.name === o.profile);
    if (!p) continue;
    const from = o.at - p.evaluationIntervalMs - ROLLBACK_LOOKBACK_SLACK_MS;
    let best: { t: number; consumed?: number; burn5m?: number; burn1h?: number; slo?: string } = { t: from };
    let justified = false;
    for (let t = from; t <= o.at && !justified; t += 500) {
      for (const s of budgetAt(run.counters, run.meta.namespace, p, t).slos) {
        if (s.consumed !== undefined && (best.consumed === undefined || s.consumed > best.consumed)) best = { t, consumed: s.consumed, burn5m: s.burn5m, burn1h: s.burn1h, slo: s.slo };
        if (s.consumed !== undefined && s.consumed >= p.rollbackAt - ROLLBACK_MARGIN_PCT && (s.burn5m ?? 0) > 1 - BURN_MARGIN && (s.burn1h ?? 0) > 1 - BURN_MARGIN) justified = true;
      }
    }
    if (!justified) {
      out.push({
        check: "rollback-justified",
        profile: p.name,
        at: iso(o.at),
        message: `rolled back (${o.detail}), but between ${iso(from)} and then the checker's budget never reached rollbackAt ${p.rollbackAt} % (− ${ROLLBACK_MARGIN_PCT}) while burning`,
        evidence: { highest: best.consumed === undefined ? "no verdict" : { ...best, at: iso(best.t) } },
      });
    }
  }
  return out;
}

/** How long each freeze that came took, from when it was due (outside the excused windows), in ms. */
export interface FreezeStats {
  reactionsMs: number[];
}

export function checkFreezes(run: RunData, allTerms: readonly Term[], stats: FreezeStats = { reactionsMs: [] }): Violation[] {
  const start = Date.parse(run.meta.activeFrom);
  const end = Date.parse(run.meta.operatorsStoppedAt);
  const excused = [
    ...faultWindows(run.faults, PROMETHEUS_FAULTS, end).map((w) => ({ ...w, to: w.to + RECOVERY_MS })),
    ...faultWindows(run.faults, APISERVER_FAULTS, end).map((w) => ({ ...w, to: w.to + RECOVERY_MS })),
    ...leaderlessWindows(run.faults, allTerms, end),
  ];
  const out: Violation[] = [];
  for (const p of run.profiles) {
    const timeline = frozenTimeline(run.writes, run.meta.namespace, p.target);
    const allowed = p.evaluationIntervalMs + FREEZE_SLACK_MS;
    let since: number | undefined;
    let reported = false;
    let peak = 0;
    for (let t = start; t <= end; t += 1_000) {
      const worst = budgetAt(run.counters, run.meta.namespace, p, t).worst;
      const due = worst !== undefined && worst >= p.freezeAt + FREEZE_MARGIN_PCT;
      const frozen = frozenAt(timeline, t);
      if (frozen && since !== undefined && !reported) stats.reactionsMs.push(t - since);
      if (!due || frozen || within(t, excused)) {
        since = undefined;
        reported = false;
        peak = 0;
        continue;
      }
      since ??= t;
      peak = Math.max(peak, worst);
      if (!reported && t - since > allowed) {
        reported = true;
        out.push({
          check: "freeze-missed",
          profile: p.name,
          at: iso(since),
          message: `budget at or above freezeAt ${p.freezeAt} % (+ ${FREEZE_MARGIN_PCT}) from ${iso(since)} for over ${allowed / 1000} s, and ${p.target} not frozen`,
          evidence: { peakPercent: Number(peak.toFixed(1)), lastFreezeWrite: lastBefore(timeline, t) },
        });
      }
    }
  }
  return out;
}

function lastBefore(timeline: ReadonlyArray<{ at: number; frozen: boolean }>, t: number) {
  const p = [...timeline].reverse().find((x) => x.at <= t);
  return p ? { at: iso(p.at), frozen: p.frozen } : "none";
}

export function checkNoActionWithoutPrometheus(run: RunData, decided: readonly Decision[]): Violation[] {
  const end = Date.parse(run.meta.operatorsStoppedAt);
  const down = faultWindows(run.faults, PROMETHEUS_FAULTS, end);
  const out: Violation[] = [];
  for (const d of decided) {
    if (!d.metricDriven) continue;
    const w = down.find((x) => x.from + PROMETHEUS_ACTION_SLACK_MS <= d.at && d.at <= x.to - PROMETHEUS_BACK_SLACK_MS);
    if (w) out.push({ check: "no-action-without-prometheus", profile: d.profile, at: iso(d.at), message: `${d.kind} (${d.detail}) recorded while Prometheus was unreachable (${w.fault} ${iso(w.from)} – ${iso(w.to)})` });
  }
  return out;
}

interface RecordedEntry {
  id: string;
  kind: "Event" | "Notification";
  profile: string;
  reason: string;
  /** When the pass decided it (the entry's `at`). */
  decided: number;
  /** When a status write first carried it. */
  recorded: number;
}

/** Every entry the operator ever recorded in a profile's status.outbox, by id. */
export function recordedEntries(statuses: ReturnType<typeof statusWrites>): Map<string, RecordedEntry> {
  const out = new Map<string, RecordedEntry>();
  for (const [profile, list] of statuses) {
    for (const s of list) {
      for (const e of (s.status.outbox as Array<{ id?: string; kind?: string; reason?: string; at?: string }> | undefined) ?? []) {
        if ((e.kind !== "Notification" && e.kind !== "Event") || !e.id || out.has(e.id)) continue;
        out.set(e.id, { id: e.id, kind: e.kind, profile, reason: e.reason ?? "", decided: Date.parse(e.at ?? ""), recorded: s.at });
      }
    }
  }
  return out;
}

/** Repeat acceptances excused by redeliveryExcuse, for the report's notes. */
export interface NotificationStats {
  redeliveredUnrecorded: Array<{ profile: string; reason: string; id: string; sender: string; cause: RedeliveryCause; at: string }>;
}

export type RedeliveryCause = "SIGKILLed" | "cut off from the API server";

/**
 * Why the receiver may take a notification again: an at-least-once sender that cannot record a
 * delivery in status after the receiver's answer leaves it queued for the next leader, and no sender
 * can close that gap. That is so when the lease holder at the acceptance before the repeat was
 * SIGKILLed after that acceptance (and before the repeat), or when the API server was stopped at that
 * acceptance (the sender's last status write went through just before it stopped); and in either case
 * none of that holder's credentials wrote the profile's status between the acceptance and the repeat (a
 * write would have been its chance to record the delivery). A SIGTERM is no excuse: a process told to
 * stop can finish recording first.
 * Returns the sender and the cause, or undefined when the repeat is not excused.
 */
export function redeliveryExcuse(
  previous: number,
  repeat: number,
  profileStatuses: readonly StatusWrite[],
  faults: readonly FaultRecord[],
  leases: readonly LeaseRecord[],
  allTerms: readonly Term[],
): { sender: string; cause: RedeliveryCause } | undefined {
  const holders = [...new Set(allTerms.filter((t) => t.from <= previous && previous <= t.to).map((t) => t.holder))];
  const recorded = (identity: string, until: number) => {
    const credentials = new Set(leases.filter((l) => l.holder === identity && l.credential).map((l) => l.credential));
    return profileStatuses.some((s) => s.credential !== undefined && credentials.has(s.credential) && previous <= s.at && s.at <= until);
  };
  for (const f of faults) {
    if (f.fault !== "leader-kill" || f.phase !== "begin" || f.signal !== "SIGKILL" || typeof f.identity !== "string") continue;
    const killed = Date.parse(f.at);
    if (killed <= previous || killed >= repeat || !holders.includes(f.identity)) continue;
    if (!recorded(f.identity, killed)) return { sender: f.identity, cause: "SIGKILLed" };
  }
  const cutOff = faultWindows(faults, APISERVER_FAULTS, repeat).some((w) => w.from <= previous && previous <= w.to);
  if (cutOff) {
    const sender = holders.find((h) => !recorded(h, repeat));
    if (sender !== undefined) return { sender, cause: "cut off from the API server" };
  }
  return undefined;
}

export function checkNotifications(run: RunData, decided: readonly Decision[], leases: readonly LeaseRecord[], stats: NotificationStats = { redeliveredUnrecorded: [] }): Violation[] {
  const out: Violation[] = [];
  const stop = Date.parse(run.meta.operatorsStoppedAt);
  const statuses = statusWrites(run.writes, run.meta.namespace);
  const entries = recordedEntries(statuses);
  const recorded = new Map([...entries].filter(([, e]) => e.kind === "Notification"));
  const allTerms = terms(leases);
  const accepted = new Map<string, ReceiverRecord[]>();
  for (const r of [...run.receiver].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
    if (r.status < 200 || r.status >= 300) continue;
    const key = r.key ?? "";
    accepted.set(key, [...(accepted.get(key) ?? []), r]);
    const bodyId = r.body?.id;
    if (typeof bodyId === "string" && bodyId !== key) {
      out.push({ check: "notified-once", at: r.at, message: `a notification's Idempotency-Key ${key} differs from its body id ${bodyId}` });
    }
  }
  // Still waiting in the last status each profile had when the operators stopped: not yet due.
  const pendingAtStop = new Set<string>();
  for (const list of statuses.values()) {
    const last = [...list].reverse().find((s) => s.at <= stop);
    for (const e of (last?.status.outbox as Array<{ id?: string; kind?: string }> | undefined) ?? []) if (e.kind === "Notification" && e.id) pendingAtStop.add(e.id);
  }
  for (const n of recorded.values()) {
    const got = accepted.get(n.id) ?? [];
    if (got.length > 1) {
      // Each repeat is judged against the acceptance just before it: that one's sender is the one that
      // must have been killed before recording it, or the repeat is a second send of a known delivery.
      const excused: NotificationStats["redeliveredUnrecorded"] = [];
      for (let i = 1; i < got.length; i++) {
        const excuse = redeliveryExcuse(Date.parse(got[i - 1]!.at), Date.parse(got[i]!.at), statuses.get(n.profile) ?? [], run.faults, leases, allTerms);
        if (excuse === undefined) break;
        excused.push({ profile: n.profile, reason: n.reason, id: n.id, ...excuse, at: got[i]!.at });
      }
      if (excused.length === got.length - 1) {
        stats.redeliveredUnrecorded.push(...excused);
      } else {
        out.push({
          check: "notification-redelivered",
          profile: n.profile,
          at: iso(n.recorded),
          message: `${n.reason} (${n.id}) was accepted ${got.length} times: the receiver got a message it had already taken`,
          evidence: got.map((g) => g.at),
        });
      }
    } else if (got.length === 0 && !pendingAtStop.has(n.id) && n.recorded < stop - NOTIFY_GRACE_MS) {
      const tries = run.receiver.filter((r) => r.key === n.id).map((r) => `${r.at} ${r.status}`);
      out.push({ check: "notified-once", profile: n.profile, at: iso(n.recorded), message: `${n.reason} (${n.id}) was recorded but never accepted by the receiver`, evidence: { attempts: tries } });
    }
  }
  for (const [key, got] of accepted) {
    if (recorded.has(key)) continue;
    out.push({ check: "notified-once", at: got[0]!.at, message: `the receiver accepted notification ${key} that no status ever recorded`, evidence: got[0]!.body });
  }
  // Each notifiable transition queued its notification in the status that recorded it. A freeze also
  // tells the crossing of warnAt it implies, and an unfreeze the recovery, so those need no Warning or
  // Recovered of their own.
  for (const d of decided) {
    const want = NOTIFIED_BY[d.kind];
    if (!want || d.at > stop) continue;
    const sameWrite = decided.filter((x) => x.profile === d.profile && x.at === d.at).map((x) => x.kind);
    if ((d.kind === "warning" && sameWrite.includes("freeze")) || (d.kind === "recovered" && sameWrite.includes("unfreeze"))) continue;
    if (!d.notified.includes(want)) out.push({ check: "notified-once", profile: d.profile, at: iso(d.at), message: `${d.kind} (${d.detail}) recorded with no ${want} notification queued`, evidence: { queued: d.notified } });
  }
  return out;
}

/** Paths under `value` holding null or a NaN/Infinity spelling: what a non-finite number becomes in JSON. */
export function nonFinite(value: unknown, path = "status"): string[] {
  if (value === null) return [`${path} = null`];
  if (typeof value === "number") return Number.isFinite(value) ? [] : [`${path} = ${value}`];
  if (typeof value === "string") return /(^|[^A-Za-z])(NaN|[+-]?Inf(inity)?)([^A-Za-z]|$)/.test(value) ? [`${path} = ${JSON.stringify(value.slice(0, 200))}`] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFinite(v, `${path}[${i}]`));
  if (typeof value === "object") return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => nonFinite(v, `${path}.${k}`));
  return [];
}

export function checkFiniteStatuses(run: RunData): Violation[] {
  const out: Violation[] = [];
  const seen = new Set<string>();
  const judge = (profile: string, at: number, status: unknown, source: string) => {
    for (const bad of nonFinite(status)) {
      const key = `${profile}/${bad}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ check: "finite-status", profile, at: iso(at), message: `${bad} (${source})` });
    }
  };
  for (const [profile, list] of statusWrites(run.writes, run.meta.namespace)) for (const s of list) judge(profile, s.at, s.status, "status write in the audit log");
  for (const s of run.statuses as StatusSample[]) judge(s.name, Date.parse(s.at), s.status ?? {}, "sampled with a list of the profiles");
  return out;
}

/**
 * "Record, then act": a pass acts only on a status the API server stored. A status the server refuses
 * as invalid (422) is a pass that cannot be recorded; reported once per profile and message, with the
 * count and the first time.
 */
export function checkStatusesAccepted(run: RunData): Violation[] {
  const refused = new Map<string, { profile: string; message: string; count: number; first: number }>();
  for (const w of run.writes) {
    if (w.resource !== RESOURCES.profiles || w.subresource !== "status" || w.namespace !== run.meta.namespace || w.user !== run.meta.operatorUser || w.code !== 422) continue;
    const message = String((w.responseObject as { message?: string } | undefined)?.message ?? "422 Invalid");
    const key = `${w.name ?? ""}\u0000${message}`;
    const r = refused.get(key) ?? { profile: w.name ?? "", message, count: 0, first: w.at };
    r.count++;
    refused.set(key, r);
  }
  return [...refused.values()].map((r) => ({
    check: "status-accepted",
    profile: r.profile,
    at: iso(r.first),
    message: `the API server refused ${r.count} status write(s) as invalid: ${r.message.slice(0, 400)}`,
    evidence: (run.writes.find((w) => w.name === r.profile && w.subresource === "status" && w.code === 422 && w.at === r.first)?.requestObject as { status?: { slos?: unknown } } | undefined)?.status?.slos,
  }));
}

/** A weight may stay, go to 0, or move up by one stepWeight (capped at maxWeight). */
export function weightMoveOk(from: number, to: number, step: number, max: number): boolean {
  return to === from || to === 0 || to === Math.min(from + step, max);
}

export function checkCanaryWeights(run: RunData): Violation[] {
  const out: Violation[] = [];
  for (const p of run.profiles) {
    if (!p.canary) continue;
    const { stepWeight, maxWeight } = p.canary;
    for (const c of weightChanges(run.writes, run.meta.namespace, p.canary.service)) {
      if (!weightMoveOk(c.from, c.to, stepWeight, maxWeight)) {
        out.push({ check: "canary-weights", profile: p.name, at: iso(c.at), message: `VirtualService ${p.canary.service}: the canary's weight moved ${c.from} → ${c.to} % (stepWeight ${stepWeight}) by ${c.user}` });
      }
    }
    let last: number | undefined;
    for (const s of statusWrites(run.writes, run.meta.namespace).get(p.name) ?? []) {
      const w = (s.status.canary as { weight?: number } | undefined)?.weight;
      if (typeof w !== "number") continue;
      if (last !== undefined && !weightMoveOk(last, w, stepWeight, maxWeight)) {
        out.push({ check: "canary-weights", profile: p.name, at: iso(s.at), message: `status.canary.weight moved ${last} → ${w} % (stepWeight ${stepWeight})` });
      }
      last = w;
    }
  }
  return out;
}

/** Least-squares slope of y over x. */
export function slope(points: ReadonlyArray<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface MemoryVerdict {
  identity: string;
  pid: number;
  role: "leader" | "standby";
  samples: number;
  mibPerMin: number;
  firstMiB: number;
  lastMiB: number;
  /**
   * Not judged, for reading the RSS slope: the slope of the used heap's lowest value in each minute of
   * the stretch (what is left after the minute's collections), when the samples carry the heap.
   */
  heapMiBPerMin?: number;
}

/** RSS grows faster than the limit, and so does the retained heap where the samples tell it. */
export function leaking(v: MemoryVerdict): boolean {
  return v.mibPerMin > MEMORY_SLOPE_MAX_MIB_PER_MIN && (v.heapMiBPerMin === undefined || v.heapMiBPerMin > 0);
}

/** The used heap's lowest value per minute, as [minutes, MiB] points. */
export function heapFloor(samples: ReadonlyArray<{ t: number; heapMiB: number }>): Array<[number, number]> {
  const byMinute = new Map<number, number>();
  for (const s of samples) {
    const m = Math.floor(s.t);
    byMinute.set(m, Math.min(byMinute.get(m) ?? Infinity, s.heapMiB));
  }
  return [...byMinute].sort(([a], [b]) => a - b).map(([m, v]) => [m + 0.5, v]);
}

/**
 * Per operator process and role stint (leader or standby: whether it was the last to take the lease):
 * the RSS slope over the samples in the active run's second half, once the process has been in that
 * role for MEMORY_SETTLE_MS.
 */
export function memorySlopes(rss: readonly RssSample[], allTerms: readonly Term[], activeFrom: number, activeTo: number): MemoryVerdict[] {
  const mid = (activeFrom + activeTo) / 2;
  const byPid = new Map<number, RssSample[]>();
  for (const s of rss) byPid.set(s.pid, [...(byPid.get(s.pid) ?? []), s]);
  // A process's role is whether it took the lease last: an API server outage ends every term at once,
  // and a leader that renews again afterwards has not changed role (nor has a standby that stayed one).
  const begun = [...allTerms].sort((a, b) => a.from - b.from);
  const leading = (identity: string, t: number) => begun.findLast((x) => x.from <= t)?.holder === identity;
  const out: MemoryVerdict[] = [];
  for (const [pid, list] of byPid) {
    const identity = list[0]!.identity;
    // Stints: runs of samples in one role; each starts at the process's first sample or a role change.
    let stintStart = Date.parse(list[0]!.at);
    let role = leading(identity, stintStart);
    let pts: Array<[number, number]> = [];
    let heap: Array<{ t: number; heapMiB: number }> = [];
    const close = () => {
      const span = pts.length ? (pts.at(-1)![0] - pts[0]![0]) * 60_000 : 0;
      if (pts.length >= MEMORY_MIN_SAMPLES && span >= MEMORY_MIN_SPAN_MS) {
        const floor = heapFloor(heap);
        out.push({
          identity,
          pid,
          role: role ? "leader" : "standby",
          samples: pts.length,
          mibPerMin: slope(pts),
          firstMiB: pts[0]![1],
          lastMiB: pts.at(-1)![1],
          ...(floor.length >= 2 ? { heapMiBPerMin: slope(floor) } : {}),
        });
      }
      pts = [];
      heap = [];
    };
    for (const s of list) {
      const t = Date.parse(s.at);
      const now = leading(identity, t);
      if (now !== role) {
        close();
        role = now;
        stintStart = t;
      }
      if (t >= mid && t <= activeTo && t - stintStart >= MEMORY_SETTLE_MS) {
        pts.push([(t - mid) / 60_000, s.rssKiB / 1024]);
        if (s.heapUsedBytes !== undefined) heap.push({ t: (t - mid) / 60_000, heapMiB: s.heapUsedBytes / 1048576 });
      }
    }
    close();
  }
  return out;
}

export function checkMemory(run: RunData, allTerms: readonly Term[]): { verdicts: MemoryVerdict[]; violations: Violation[] } {
  const verdicts = memorySlopes(run.rss, allTerms, Date.parse(run.meta.activeFrom), Date.parse(run.meta.activeTo));
  return {
    verdicts,
    violations: verdicts
      .filter(leaking)
      .map((v) => ({
        check: "memory-slope",
        message: `operator ${v.identity} (pid ${v.pid}, ${v.role}): RSS grew ${v.mibPerMin.toFixed(2)} MiB/min over the run's second half (${v.firstMiB.toFixed(0)} → ${v.lastMiB.toFixed(0)} MiB, ${v.samples} samples; limit ${MEMORY_SLOPE_MAX_MIB_PER_MIN})${v.heapMiBPerMin !== undefined ? `, and the used heap's floor ${v.heapMiBPerMin.toFixed(2)} MiB/min` : ""}`,
      })),
  };
}

export interface Report {
  violations: Violation[];
  decisions: number;
  decisionsByKind: Record<string, number>;
  eventsByReason: Record<string, number>;
  faults: number;
  faultsByKind: Record<string, number>;
  memory: MemoryVerdict[];
  terms: number;
  freezeReactionsMs: number[];
  rollbacksJudged: number;
  notes: string[];
}

/** Every check over one run. */
export function checkRun(run: RunData): Report {
  const occurrences = operatorEvents(run.writes, run.meta.namespace, run.meta.operatorUser);
  const decided = decisions(statusWrites(run.writes, run.meta.namespace));
  const leases = leaseRecords(run.writes, run.meta.lease.namespace, run.meta.lease.name);
  const allTerms = terms(leases);
  const memory = checkMemory(run, allTerms);
  const freezeStats: FreezeStats = { reactionsMs: [] };
  const notificationStats: NotificationStats = { redeliveredUnrecorded: [] };
  const notes: string[] = [];
  if (run.writes.length === 0) notes.push("the audit log holds no writes for this run: the checks that read it saw nothing");
  if (memory.verdicts.length === 0) notes.push(`memory not judged: no operator process stayed in one role for ${(MEMORY_SETTLE_MS + MEMORY_MIN_SPAN_MS) / 60_000} min within the run's second half`);
  const violations = [
    ...checkLeaseTerms(run),
    ...checkRollbacks(run, decided),
    ...checkFreezes(run, allTerms, freezeStats),
    ...checkNoActionWithoutPrometheus(run, decided),
    ...checkNotifications(run, decided, leases, notificationStats),
    ...checkFiniteStatuses(run),
    ...checkStatusesAccepted(run),
    ...checkCanaryWeights(run),
    ...memory.violations,
  ];
  const unrecorded = notificationStats.redeliveredUnrecorded;
  if (unrecorded.length > 0) {
    const one = unrecorded.length === 1;
    notes.push(
      `${unrecorded.length} notification${one ? " was" : "s were"} taken again after the operator that sent ${one ? "it" : "them"} could not record ${one ? "it" : "them"} (same Idempotency-Key): ${unrecorded.map((e) => `${e.profile} ${e.reason} ${e.id} again at ${e.at}, ${e.sender} ${e.cause}`).join("; ")}`,
    );
  }
  const count = (keys: string[]) => keys.reduce<Record<string, number>>((m, k) => ({ ...m, [k]: (m[k] ?? 0) + 1 }), {});
  const begun = run.faults.filter((f) => f.phase === "begin");
  return {
    violations,
    decisions: decided.length,
    decisionsByKind: count(decided.map((d) => d.kind)),
    eventsByReason: count(occurrences.map((o) => o.reason)),
    faults: begun.length,
    faultsByKind: count(begun.map((f) => f.fault)),
    memory: memory.verdicts,
    terms: allTerms.length,
    freezeReactionsMs: freezeStats.reactionsMs,
    rollbacksJudged: decided.filter((d) => d.kind === "rollback").length,
    notes,
  };
}
