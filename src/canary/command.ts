import type { CanaryStatus } from "./types.ts";

/**
 * A person's command to the canary, given by `kubectl tollgate canary promote|abort|retry`: an
 * annotation on the PerformanceProfile, since the profile is what the operator watches and what RBAC
 * already guards. It names the canary run it is for (the revision's template hash and when that run
 * started), so it acts on that run once and never on a later one: no clock is compared, and the
 * annotation may stay after it was honoured.
 *
 *   tollgate.dev/canary-command: {"command":"abort","templateHash":"7c9d4f8a1","startedAt":"2026-11-22T07:58:00.000Z","by":"alice","reason":"INC-42"}
 */
export const CANARY_COMMAND_ANNOTATION = "tollgate.dev/canary-command";

export const CANARY_COMMANDS = ["promote", "abort", "retry"] as const;
export type CanaryCommandName = (typeof CANARY_COMMANDS)[number];

export interface CanaryCommand {
  command: CanaryCommandName;
  /** status.canary.templateHash of the run it is for. */
  templateHash: string;
  /** status.canary.startedAt of that run, exactly as recorded. */
  startedAt: string;
  /** Who asked, for the event. */
  by: string;
  /** Why, for the event; may be empty. */
  reason: string;
}

export type CanaryCommandAnnotation = { ok: true; command: CanaryCommand } | { ok: false; problem: string };

const FIELDS = ["command", "templateHash", "startedAt", "by", "reason"] as const;

/** The annotation's value parsed; undefined when absent. Never throws: a bad value is a problem, not a crash. */
export function parseCanaryCommand(value: string | undefined): CanaryCommandAnnotation | undefined {
  if (value === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return { ok: false, problem: "the value is not JSON" };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, problem: "the value is not a JSON object" };
  const obj = raw as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length) return { ok: false, problem: `unknown field ${unknown.map((k) => JSON.stringify(k)).join(", ")} (fields are ${FIELDS.join(", ")})` };
  const command = obj.command;
  if (typeof command !== "string" || !(CANARY_COMMANDS as readonly string[]).includes(command)) {
    return { ok: false, problem: `"command" must be one of ${CANARY_COMMANDS.join(", ")}` };
  }
  for (const f of ["templateHash", "startedAt", "by"] as const) {
    const v = obj[f];
    if (typeof v !== "string" || v.trim() === "") return { ok: false, problem: `"${f}" must be a non-empty string` };
  }
  const reason = obj.reason ?? "";
  if (typeof reason !== "string") return { ok: false, problem: `"reason" must be a string` };
  if ((obj.by as string).length > 253) return { ok: false, problem: `"by" is longer than 253 characters` };
  if (reason.length > 1024) return { ok: false, problem: `"reason" is longer than 1024 characters` };
  return {
    ok: true,
    command: { command: command as CanaryCommandName, templateHash: obj.templateHash as string, startedAt: obj.startedAt as string, by: (obj.by as string).trim(), reason: reason.trim() },
  };
}

/** The command from a profile's annotations, when it is a valid one. */
export function canaryCommandFromAnnotations(annotations: Readonly<Record<string, string>> | undefined): CanaryCommand | undefined {
  const parsed = parseCanaryCommand(annotations?.[CANARY_COMMAND_ANNOTATION]);
  return parsed?.ok ? parsed.command : undefined;
}

/** The annotation's value for a command: the one spelling both sides read. */
export function canaryCommandValue(c: CanaryCommand): string {
  return JSON.stringify({ command: c.command, templateHash: c.templateHash, startedAt: c.startedAt, by: c.by, reason: c.reason });
}

/** Whether `command` names the canary run `s` records. */
export function commandFor(command: CanaryCommand | undefined, name: CanaryCommandName, s: CanaryStatus): command is CanaryCommand {
  return command !== undefined && command.command === name && s.templateHash === command.templateHash && s.startedAt === command.startedAt;
}

/** "by alice (INC-42)": who asked and why, for messages. */
export function askedBy(c: CanaryCommand): string {
  return `by ${c.by}${c.reason ? ` (${c.reason})` : ""}`;
}
