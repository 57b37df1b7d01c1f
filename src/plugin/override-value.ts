import { durationMillis, formatDuration } from "../api/duration.ts";
import { OVERRIDE_ANNOTATION, OVERRIDE_MAX, parseOverride, type FreezeOverride } from "../policy/override.ts";

/**
 * `kubectl tollgate override`: the tollgate.dev/override-freeze annotation written for a person, with
 * `expires` counted from now and `by` from who the API server says they are. The value is checked by
 * the operator's own parser (policy/override.ts) before it is written, so what this writes is what the
 * operator honours, and what it refuses (past the cap) is refused here first with the same reason.
 */

export type OverrideValue = { ok: true; value: string; override: FreezeOverride } | { ok: false; problem: string };

export function overrideValue(input: { by: string; reason: string; duration: string; now: Date }): OverrideValue {
  const ms = durationMillis(input.duration);
  if (ms === undefined || ms <= 0) return { ok: false, problem: `--for must be a duration such as 30m, 2h or 1d, not ${JSON.stringify(input.duration)}` };
  if (input.reason.trim() === "") return { ok: false, problem: "--reason must say why, e.g. --reason 'hotfix INC-42'" };
  const expires = new Date(input.now.getTime() + ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  const value = JSON.stringify({ by: input.by, reason: input.reason.trim(), expires });
  const parsed = parseOverride(value, input.now);
  if (parsed === undefined) return { ok: false, problem: "no override value" };
  if (!parsed.ok) {
    const capped = parsed.problem.includes(`at most ${OVERRIDE_MAX}`);
    return {
      ok: false,
      problem: capped
        ? `--for ${formatDuration(ms)} is longer than the ${OVERRIDE_MAX} an override may last, and the operator would refuse it (OverrideInvalid): ask for ${OVERRIDE_MAX} or less, and renew it if the fix takes longer`
        : `the override would not be honoured: ${parsed.problem}`,
    };
  }
  return { ok: true, value, override: parsed.override };
}

/** The merge patch that sets (a value) or removes (null) the annotation and nothing else. */
export function overridePatch(value: string | null): { metadata: { annotations: Record<string, string | null> } } {
  return { metadata: { annotations: { [OVERRIDE_ANNOTATION]: value } } };
}

/** What the command says it did, with the profile's freeze state so an override of nothing is noticed. */
export function overrideSetText(target: string, o: FreezeOverride, frozen: boolean): string {
  const lines = [`${target}: freeze override by ${o.by} until ${o.expires}: ${o.reason}`];
  lines.push(
    frozen
      ? "The operator lifts the freeze on its next evaluation and records the override in status.freeze.override and an event."
      : "The profile is not frozen now; the override lifts a freeze that begins before it expires.",
  );
  return `${lines.join("\n")}\n`;
}

export function overrideClearedText(target: string, had: boolean): string {
  return had
    ? `${target}: freeze override removed; the freeze applies again on the next evaluation if the budget still warrants it.\n`
    : `${target}: had no freeze override; nothing changed.\n`;
}
