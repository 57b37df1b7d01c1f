import { annotationObject, annotationText, expectedShape } from "../api/annotation-value.ts";
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
const EXAMPLE = `{"command":"abort","templateHash":"7c9d4f8a1","startedAt":"2026-11-22T07:58:00.000Z","by":"alice","reason":"INC-42"}`;

/**
 * The annotation's value parsed; undefined when absent. Never throws: a bad value is a problem naming
 * the field, for the CanaryProgressing condition, not a crash. The run's fields are bounded like what
 * status.canary records (a pod-template-hash, a time), so a problem or message quoting them stays short.
 */
export function parseCanaryCommand(value: string | undefined): CanaryCommandAnnotation | undefined {
  if (value === undefined) return undefined;
  const problem = (what: string): CanaryCommandAnnotation => ({ ok: false, problem: expectedShape(what, EXAMPLE) });
  const read = annotationObject(value, FIELDS);
  if (!read.ok) return problem(read.problem);
  const command = read.value.command;
  if (typeof command !== "string" || !(CANARY_COMMANDS as readonly string[]).includes(command)) {
    return problem(`"command" must be one of ${CANARY_COMMANDS.join(", ")}`);
  }
  const templateHash = annotationText(read.value, "templateHash", { max: 63 });
  if (!templateHash.ok) return problem(templateHash.problem);
  const startedAt = annotationText(read.value, "startedAt", { max: 64 });
  if (!startedAt.ok) return problem(startedAt.problem);
  const by = annotationText(read.value, "by", { max: 253 });
  if (!by.ok) return problem(by.problem);
  const reason = annotationText(read.value, "reason", { max: 1024, optional: true });
  if (!reason.ok) return problem(reason.problem);
  return {
    ok: true,
    command: { command: command as CanaryCommandName, templateHash: templateHash.value, startedAt: startedAt.value, by: by.value, reason: reason.value },
  };
}

/** The command from a profile's annotations, parsed: a problem too, for the condition to tell. */
export function canaryCommandFromAnnotations(annotations: Readonly<Record<string, string>> | undefined): CanaryCommandAnnotation | undefined {
  return parseCanaryCommand(annotations?.[CANARY_COMMAND_ANNOTATION]);
}

/** The annotation's value for a command: the one spelling both sides read. */
export function canaryCommandValue(c: CanaryCommand): string {
  return JSON.stringify({ command: c.command, templateHash: c.templateHash, startedAt: c.startedAt, by: c.by, reason: c.reason });
}

/** Whether `command` is `name` for the canary run `s` records. */
export function commandFor(command: CanaryCommand | undefined, name: CanaryCommandName, s: CanaryStatus): command is CanaryCommand {
  return command !== undefined && command.command === name && namesRun(command, s);
}

/** Whether the command names the canary run `s` records (its template hash and start). */
export function namesRun(command: CanaryCommand, s: CanaryStatus): boolean {
  return s.templateHash === command.templateHash && s.startedAt === command.startedAt;
}

/** "by alice (INC-42)": who asked and why, for messages. */
export function askedBy(c: CanaryCommand): string {
  return `by ${c.by}${c.reason ? ` (${c.reason})` : ""}`;
}
