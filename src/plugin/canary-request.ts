import { profileStatusSchema } from "../api/status.ts";
import type { CanaryStatus } from "../canary/types.ts";
import { canaryCommandValue, type CanaryCommand, type CanaryCommandName } from "../canary/command.ts";
import { overrideActive, parseOverride, OVERRIDE_ANNOTATION } from "../policy/override.ts";

/**
 * `kubectl tollgate canary promote|abort|retry`: the tollgate.dev/canary-command annotation for the run
 * the profile's status shows, refused here when the operator would not act on it (no such run, the
 * wrong phase, a freeze), so the person learns why at once rather than from a canary that does nothing.
 */

export type CanaryRequest = { ok: true; value: string; command: CanaryCommand; run: CanaryStatus } | { ok: false; problem: string };

const NEEDS: Record<CanaryCommandName, { phases: readonly string[]; what: string }> = {
  promote: { phases: ["Progressing"], what: "a canary in progress (phase Progressing)" },
  abort: { phases: ["Progressing"], what: "a canary in progress (phase Progressing); a promotion under way finishes" },
  retry: { phases: ["Failed"], what: "a failed canary (phase Failed) with all traffic back on primary" },
};

export function canaryRequest(input: {
  command: CanaryCommandName;
  status: unknown;
  annotations: Readonly<Record<string, string>> | undefined;
  by: string;
  reason: string;
  now: Date;
}): CanaryRequest {
  const parsed = profileStatusSchema.safeParse(input.status ?? {});
  if (!parsed.success) return { ok: false, problem: `the profile's status cannot be read (${parsed.error.issues[0]?.message ?? "invalid"})` };
  const run = parsed.data.canary;
  if (!run) return { ok: false, problem: "no canary has run for this profile (status.canary is empty)" };
  const need = NEEDS[input.command];
  if (!need.phases.includes(run.phase) || (input.command === "retry" && run.weight > 0)) {
    return { ok: false, problem: `${input.command} needs ${need.what}; the canary of revision ${run.revision ?? "?"} is ${run.phase} at ${run.weight} %` };
  }
  if (run.templateHash === undefined || run.startedAt === undefined) {
    return { ok: false, problem: "status.canary has no templateHash or startedAt to name the run by (an operator older than this plugin wrote it)" };
  }
  const freeze = parsed.data.freeze;
  const override = parseOverride(input.annotations?.[OVERRIDE_ANNOTATION], input.now);
  if ((input.command === "promote" || input.command === "retry") && freeze && !overrideActive(override, input.now)) {
    return {
      ok: false,
      problem: `rollouts are frozen (${freeze.reason} since ${freeze.since}), and a freeze holds ${input.command === "promote" ? "promotions" : "new canaries"} whoever asks: lift it with 'kubectl tollgate override' first`,
    };
  }
  const command: CanaryCommand = { command: input.command, templateHash: run.templateHash, startedAt: run.startedAt, by: input.by, reason: input.reason.trim() };
  return { ok: true, value: canaryCommandValue(command), command, run };
}

/** What the command says it asked for. */
export function canaryRequestText(namespace: string, name: string, r: { command: CanaryCommand; run: CanaryStatus }): string {
  const what = `revision ${r.run.revision ?? "?"} (${r.command.templateHash})`;
  const done: Record<CanaryCommandName, string> = {
    promote: `promotes the canary of ${what} from ${r.run.weight} % without its remaining checks`,
    abort: `aborts the canary of ${what} at ${r.run.weight} % and returns all traffic to primary`,
    retry: `runs the canary of ${what} again from its first step`,
  };
  return `PerformanceProfile ${namespace}/${name}: asked by ${r.command.by}; the operator ${done[r.command.command]} on its next pass, and records it in an event.\nFollow it with: kubectl tollgate status ${name} -n ${namespace} --watch\n`;
}
