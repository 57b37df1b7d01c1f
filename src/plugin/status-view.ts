import { profileStatusSchema, type Condition, type ProfileStatus } from "../api/status.ts";
import { validateSpec } from "../api/validate.ts";
import { overrideActive, parseOverride, OVERRIDE_ANNOTATION } from "../policy/override.ts";
import { BURN_ROLES } from "../slo/types.ts";
import { canonicalWindow } from "../slo/windows.ts";
import { age, burn, percent, span, table } from "./table.ts";

/**
 * `kubectl tollgate status`: what a profile's status says, one line per profile and, for one profile,
 * one line per SLO. Pure: the shell fetches the objects and prints what this returns.
 */

/** A PerformanceProfile as the API server returns it; spec and status are checked here, not trusted. */
export interface ProfileObject {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string>; creationTimestamp?: string };
  spec?: unknown;
  status?: unknown;
}

/**
 * The JSON `-o json` prints for a profile. Every field is always present (null when unknown), so a
 * script can read `.budget.consumedPercent` without first asking whether it exists.
 */
export interface ProfileSummary {
  namespace: string;
  name: string;
  /** status.phase; Unknown before Tollgate's first pass. */
  phase: string;
  budget: { consumedPercent: number; remainingPercent: number; worstSlo: string; worstBurnRate: number } | null;
  freeze: { since: string; reason: string; slo: string | null; consumedPercent: number | null } | null;
  /** The tollgate.dev/override-freeze annotation as the operator reads it. */
  override: { by: string; reason: string; expires: string; active: boolean } | { problem: string } | null;
  canary: { phase: string; step: number; weight: number; failedChecks: number; revision: number | null; lastVerdict: string | null } | null;
  /** The condition that explains the profile's state now (see lastDecision). */
  lastDecision: { condition: string; status: string; reason: string; message: string; at: string } | null;
  slos: SloSummary[];
  /** Why the status could not be read, when it could not; the other fields are then empty. */
  statusProblem: string | null;
}

export interface SloSummary {
  name: string;
  /** The SLO window from the spec; null when the spec cannot be read. */
  window: string | null;
  verdict: string;
  sli: number | null;
  consumedPercent: number | null;
  remainingPercent: number | null;
  events: number | null;
  /** Burn rate by window role (5m … 3d, the SRE Workbook's for 30d, scaled to the SLO window). */
  burnRates: Record<string, number>;
  lastEvaluated: string | null;
}

/**
 * Conditions that stop everything else come first: an invalid spec or a Prometheus that does not answer
 * is why nothing acts, whatever else changed last. Then the policy's and canary's decisions, latest first.
 */
const BLOCKING = ["Ready", "MetricsAvailable"];
/** Ties (a first pass sets every condition at once) go to the decision that matters most. */
const WEIGHT = ["DeploymentsFrozen", "RolledBack", "RollbackSkipped", "CanaryProgressing", "BudgetHealthy", "MetricsAvailable", "Ready"];

export function lastDecision(conditions: readonly Condition[] | undefined): Condition | undefined {
  const all = conditions ?? [];
  const blocking = BLOCKING.map((t) => all.find((c) => c.type === t && c.status === "False")).find((c) => c !== undefined);
  if (blocking) return blocking;
  const rank = (c: Condition) => {
    const i = WEIGHT.indexOf(c.type);
    return i < 0 ? WEIGHT.length : i;
  };
  return [...all]
    .filter((c) => !BLOCKING.includes(c.type))
    .sort((a, b) => Date.parse(b.lastTransitionTime) - Date.parse(a.lastTransitionTime) || rank(a) - rank(b))[0];
}

function nullable<T>(v: T | undefined): T | null {
  return v === undefined ? null : v;
}

/** The SLO windows of a spec by name; empty when the spec is not valid (status still shows). */
function windows(spec: unknown): Map<string, string> {
  const v = validateSpec(spec);
  return v.ok ? new Map(v.spec.slos.map((s) => [s.name, canonicalWindow(s.window)])) : new Map();
}

export function summarize(obj: ProfileObject, now: Date): ProfileSummary {
  const namespace = obj.metadata?.namespace ?? "";
  const name = obj.metadata?.name ?? "";
  const parsed = obj.status === undefined ? { success: true as const, data: {} as ProfileStatus } : profileStatusSchema.safeParse(obj.status);
  const override = parseOverride(obj.metadata?.annotations?.[OVERRIDE_ANNOTATION], now);
  const overrideView: ProfileSummary["override"] =
    override === undefined ? null : override.ok ? { ...override.override, active: overrideActive(override, now) } : { problem: override.problem };
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ["status", ...(issue?.path ?? [])].map(String).join(".");
    return {
      namespace,
      name,
      phase: "Unknown",
      budget: null,
      freeze: null,
      override: overrideView,
      canary: null,
      lastDecision: null,
      slos: [],
      statusProblem: `${field}: ${issue?.message ?? "not a PerformanceProfile status"}`,
    };
  }
  const s = parsed.data;
  const decision = lastDecision(s.conditions);
  const windowOf = windows(obj.spec);
  return {
    namespace,
    name,
    phase: s.phase ?? "Unknown",
    budget: s.budget ? { ...s.budget } : null,
    freeze: s.freeze ? { since: s.freeze.since, reason: s.freeze.reason, slo: nullable(s.freeze.slo), consumedPercent: nullable(s.freeze.consumedPercent) } : null,
    override: overrideView,
    canary: s.canary
      ? {
          phase: s.canary.phase,
          step: s.canary.step,
          weight: s.canary.weight,
          failedChecks: s.canary.failedChecks,
          revision: nullable(s.canary.revision),
          lastVerdict: s.canary.lastVerdict ? `${s.canary.lastVerdict.verdict}: ${s.canary.lastVerdict.message}` : null,
        }
      : null,
    lastDecision: decision
      ? { condition: decision.type, status: decision.status, reason: decision.reason, message: decision.message, at: decision.lastTransitionTime }
      : null,
    slos: (s.slos ?? []).map((x) => ({
      name: x.name,
      window: windowOf.get(x.name) ?? null,
      verdict: x.verdict,
      sli: nullable(x.sli),
      consumedPercent: nullable(x.consumedPercent),
      remainingPercent: nullable(x.remainingPercent),
      events: nullable(x.events),
      burnRates: { ...(x.burnRates ?? {}) },
      lastEvaluated: nullable(x.lastEvaluated),
    })),
    statusProblem: null,
  };
}

function freezeCell(p: ProfileSummary, now: Date): string {
  return p.freeze ? `${p.freeze.reason} ${age(p.freeze.since, now)}` : "-";
}

function overrideCell(p: ProfileSummary, now: Date): string {
  const o = p.override;
  if (o === null) return "-";
  if ("problem" in o) return "invalid";
  if (!o.active) return `${o.by}, expired`;
  return `${o.by}, ${span(Date.parse(o.expires) - now.getTime())} left`;
}

function canaryCell(p: ProfileSummary): string {
  const c = p.canary;
  if (c === null) return "-";
  return `${c.phase} step ${c.step} ${c.weight}%`;
}

function decisionCell(p: ProfileSummary): string {
  if (p.statusProblem !== null) return `status unreadable: ${p.statusProblem}`;
  const d = p.lastDecision;
  if (d === null) return "-";
  return `${d.condition}=${d.status} ${d.reason}: ${d.message}`;
}

/** One line per profile; NAMESPACE only when the profiles span namespaces (-A), as kubectl does. */
export function profilesTable(profiles: readonly ProfileSummary[], now: Date, opts: { namespaces: boolean }): string {
  const header = ["NAME", "PHASE", "CONSUMED", "REMAINING", "WORST", "FREEZE", "OVERRIDE", "CANARY", "LAST DECISION"];
  const rows = profiles.map((p) => [
    p.name,
    p.phase,
    percent(p.budget?.consumedPercent),
    percent(p.budget?.remainingPercent),
    p.budget?.worstSlo ?? "-",
    freezeCell(p, now),
    overrideCell(p, now),
    canaryCell(p),
    decisionCell(p),
  ]);
  return opts.namespaces ? table(["NAMESPACE", ...header], rows.map((r, i) => [profiles[i]?.namespace ?? "", ...r])) : table(header, rows);
}

/**
 * One profile: its line, then a line per SLO with a burn-rate column per window role (the roles are
 * the SRE Workbook's windows for 30 days; a shorter SLO window reads each scaled down, which `explain`
 * lists), then the override and the canary's last check in words when there are any. `sparklines`, by
 * SLO name, adds the budget consumed over the SLO window.
 */
export function profileDetail(p: ProfileSummary, now: Date, sparklines?: ReadonlyMap<string, string>): string {
  let out = profilesTable([p], now, { namespaces: false });
  if (p.slos.length > 0) {
    const header = ["SLO", "WINDOW", "VERDICT", "SLI", "CONSUMED", "REMAINING", "EVENTS", ...BURN_ROLES.map((r) => `BURN ${r}`)];
    if (sparklines) header.push("BUDGET OVER WINDOW");
    const rows = p.slos.map((s) => {
      const row = [
        s.name,
        s.window ?? "-",
        s.verdict,
        s.sli === null ? "-" : `${s.sli.toFixed(3)}%`,
        percent(s.consumedPercent ?? undefined),
        percent(s.remainingPercent ?? undefined),
        s.events === null ? "-" : String(Math.round(s.events)),
        ...BURN_ROLES.map((r) => burn(s.burnRates[r])),
      ];
      if (sparklines) row.push(sparklines.get(s.name) ?? "-");
      return row;
    });
    out += `\n${table(header, rows)}`;
  }
  const notes: string[] = [];
  const o = p.override;
  if (o !== null) {
    notes.push(
      "problem" in o
        ? `Override: ${OVERRIDE_ANNOTATION} is not honoured: ${o.problem}`
        : `Override: by ${o.by} until ${o.expires}${o.active ? "" : " (expired)"}: ${o.reason}`,
    );
  }
  if (p.canary?.lastVerdict) notes.push(`Canary: last check ${p.canary.lastVerdict}`);
  if (notes.length > 0) out += `\n${notes.map((n) => `${n}\n`).join("")}`;
  return out;
}
