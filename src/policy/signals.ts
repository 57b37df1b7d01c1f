import { createHash } from "node:crypto";
import type { NotificationEvent } from "../api/notifications.ts";
import type { ProfileStatus } from "../api/status.ts";
import { findCondition, type Condition } from "../api/conditions.ts";
import type { EventAction, NotifyAction, PolicyAction, Severity } from "./actions.ts";
import type { BudgetView } from "./budget.ts";
import { BUDGET_HEALTHY, DEPLOYMENTS_FROZEN, METRICS_AVAILABLE, ROLLBACK_SKIPPED, ROLLED_BACK } from "./condition-names.ts";
import { truncate } from "./format.ts";

export interface SignalFacts {
  input: { profile: { namespace: string; name: string }; now: Date };
  prev: ProfileStatus;
  next: ProfileStatus;
  view: BudgetView;
  /** Set in the cycle that decided a rollback (not when a rollback in flight is repeated). */
  rolledBackMessage: string | undefined;
  rollbackCompleted: boolean;
  target: string;
}

/**
 * Events and notifications, derived from the difference between the previous and the next status
 * only. Since that difference is empty once the next status is stored, each transition is told once,
 * and a restarted operator reading the stored status tells nothing twice.
 */
export function signals(f: SignalFacts): PolicyAction[] {
  const { prev, next } = f;
  const was = (t: string) => findCondition(prev.conditions, t);
  const is = (t: string) => findCondition(next.conditions, t);
  const events: EventAction[] = [];
  const event = (c: Condition, type: EventAction["type"], message = c.message) => events.push({ action: "event", type, reason: c.reason, message });

  // Events reuse the condition reasons; a condition appearing in its quiet state tells nothing.
  const df0 = was(DEPLOYMENTS_FROZEN);
  const df = is(DEPLOYMENTS_FROZEN);
  const overrideChanged = df?.reason === "FreezeOverridden" && JSON.stringify(prev.freeze?.override) !== JSON.stringify(next.freeze?.override);
  const dfTold = !!df && (moved(df0, df) || overrideChanged) && !(quiet(df0) && df.status === "False" && df.reason === "NotFrozen");
  if (df && dfTold) event(df, df.status === "True" || df.reason === "FreezeOverridden" ? "Warning" : "Normal");

  const bh0 = was(BUDGET_HEALTHY);
  const bh = is(BUDGET_HEALTHY);
  // The freeze's own event already tells a budget crossing that froze or unfroze.
  if (bh && moved(bh0, bh) && !dfTold && !(quiet(bh0) && bh.status !== "False")) event(bh, bh.status === "False" ? "Warning" : "Normal");

  const ma0 = was(METRICS_AVAILABLE);
  const ma = is(METRICS_AVAILABLE);
  if (ma && moved(ma0, ma) && !(quiet(ma0) && ma.status === "True")) event(ma, ma.status === "False" ? "Warning" : "Normal");

  const rb = is(ROLLED_BACK);
  if (rb?.status === "True" && moved(was(ROLLED_BACK), rb)) event(rb, "Warning", f.rolledBackMessage ?? rb.message);
  const rs0 = was(ROLLBACK_SKIPPED);
  const rs = is(ROLLBACK_SKIPPED);
  if (rs?.status === "True" && moved(rs0, rs)) event(rs, "Warning");
  if (f.rollbackCompleted && next.lastKnownGood) {
    const stays = df?.status === "True" ? "; rollouts stay frozen" : "";
    events.push({
      action: "event",
      type: "Normal",
      reason: "RollbackComplete",
      message: `Deployment ${f.target} finished rolling back to the last known good template ${next.lastKnownGood.templateHash}${stays}.`,
    });
  }

  // Notifications: one per transition. A jump from Healthy to Frozen is a Frozen, not a Warning as well;
  // an unfreeze is an Unfrozen, not a Recovered as well.
  const notes: NotifyAction[] = [];
  const trigger = incidentStart(next) ?? incidentStart(prev);
  const resolve = incidentStart(prev) ?? incidentStart(next);
  const note = (event: NotificationEvent, severity: Severity, summary: string, start: string | undefined) =>
    notes.push({ action: "notify", event, severity, summary, dedupKey: dedupKey(f, start), details: details(f) });
  const frozen = df0?.status !== "True" && df?.status === "True";
  const unfrozen = df0?.status === "True" && df?.status === "False";
  if (bh0?.status !== "False" && bh?.status === "False" && !frozen) note("Warning", "warning", bh.message, trigger);
  if (frozen && df) note("Frozen", "critical", df.message, trigger);
  if (f.rolledBackMessage !== undefined) note("RolledBack", "critical", f.rolledBackMessage, trigger);
  if (rs0?.status !== "True" && rs?.status === "True") note("RollbackSkipped", "critical", rs.message, trigger);
  if (unfrozen && df) note("Unfrozen", "info", df.message, resolve);
  if (bh0?.status === "False" && bh?.status === "True" && !unfrozen) note("Recovered", "info", bh.message, resolve);
  return [...events, ...notes];
}

function moved(before: Condition | undefined, after: Condition): boolean {
  return !before || before.status !== after.status || before.reason !== after.reason;
}

function quiet(before: Condition | undefined): boolean {
  return !before || before.status === "Unknown";
}

/**
 * When the current budget incident began: the earlier of the freeze's since and the moment BudgetHealthy
 * turned False. Both survive in status while the incident lasts, so the key is the same on every
 * notification of the incident, before and after a restart.
 */
export function incidentStart(s: ProfileStatus): string | undefined {
  const times: string[] = [];
  if (s.freeze) times.push(s.freeze.since);
  const bh = findCondition(s.conditions, BUDGET_HEALTHY);
  if (bh?.status === "False") times.push(bh.lastTransitionTime);
  return times.sort((a, b) => Date.parse(a) - Date.parse(b))[0];
}

/** PagerDuty caps dedup_key at 255 characters; a long namespace and name pair is hashed to fit. */
export function dedupKey(f: Pick<SignalFacts, "input">, start: string | undefined): string {
  const { namespace, name } = f.input.profile;
  const key = `tollgate/${namespace}/${name}/${start ?? f.input.now.toISOString()}`;
  return key.length <= 255 ? key : `tollgate/${createHash("sha256").update(key).digest("hex")}`;
}

function details(f: SignalFacts): Record<string, string | number> {
  const w = f.view.worst;
  return {
    target: f.target,
    phase: f.next.phase ?? "Unknown",
    ...(w ? { slo: w.name, window: w.window, consumedPercent: truncate(w.consumed, 2) } : {}),
  };
}
