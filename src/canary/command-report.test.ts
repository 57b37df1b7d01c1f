import { describe, expect, it } from "vitest";
import { COMMAND_INVALID, reportCommand, type CanaryCondition } from "./command-report.ts";
import { parseCanaryCommand, type CanaryCommand, type CanaryCommandAnnotation } from "./command.ts";
import { iso, NEW, NEWER, running } from "./test-builders.ts";
import type { CanaryStatus } from "./types.ts";

const progressing: CanaryCondition = { status: "True", reason: "Progressing", message: "revision 2 (7c9d4f8a1) takes 20 % of traffic (step 2, 0/3 checks failed); next check at 2026-11-22T08:01:00.000Z." };
const failed: CanaryCondition = { status: "False", reason: "Failed", message: "The canary of revision 2 (7c9d4f8a1) failed; change the target's template, or retry it (kubectl tollgate canary retry), to try again." };
const ok = (c: Partial<CanaryCommand> & Pick<CanaryCommand, "command">, run: CanaryStatus): CanaryCommandAnnotation => ({
  ok: true,
  command: { templateHash: run.templateHash ?? "", startedAt: run.startedAt ?? "", by: "alice", reason: "INC-42", ...c },
});
const bad = (value: string): CanaryCommandAnnotation => parseCanaryCommand(value)!;

describe("reportCommand: a value the parser refuses", () => {
  it.each([
    ["not JSON", "promote now", "the value is not JSON"],
    ["an unknown verb", '{"command":"pause","templateHash":"h","startedAt":"t","by":"a"}', '"command" must be one of promote, abort, retry'],
    ["no run to name", '{"command":"abort","by":"a"}', '"templateHash" must be a non-empty string'],
    ["no start of the run", '{"command":"abort","templateHash":"h","by":"a"}', '"startedAt" must be a non-empty string'],
    ["nobody who asked", '{"command":"abort","templateHash":"h","startedAt":"t"}', '"by" must be a non-empty string'],
  ])("is CanaryCommandInvalid, naming the annotation and what is wrong, when it is %s", (_name, value, problem) => {
    const r = reportCommand(progressing, bad(value), running(2), { reason: "Progressing" });
    expect(r.condition.reason).toBe(COMMAND_INVALID);
    expect(r.condition.message).toMatch(new RegExp(`^The tollgate\\.dev/canary-command annotation is ignored: .*${problem.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*; expected JSON like \\{`));
  });

  it("keeps the canary's status and says what it does meanwhile, so nothing the condition told is lost", () => {
    const r = reportCommand(failed, bad("abort!"), { ...running(2), phase: "Failed", weight: 0 }, { reason: "Failed" });
    expect(r.condition.status).toBe("False");
    expect(r.condition.message.endsWith(` ${failed.message}`)).toBe(true);
    const active = reportCommand(progressing, bad("abort!"), running(2), undefined);
    expect(active.condition.status).toBe("True");
  });

  it("is told in a Warning event when the condition becomes CanaryCommandInvalid, and not again while it stays so", () => {
    const first = reportCommand(progressing, bad("abort!"), running(2), { reason: "Progressing" });
    expect(first.events).toEqual([{ action: "event", type: "Warning", reason: COMMAND_INVALID, message: first.condition.message }]);
    expect(reportCommand(progressing, bad("abort!"), running(2), undefined).events).toHaveLength(1);
    expect(reportCommand(progressing, bad("abort!"), running(2), { reason: COMMAND_INVALID }).events).toEqual([]);
  });

  it("is told even with no canary run yet", () => {
    const setUp: CanaryCondition = { status: "True", reason: "Initializing", message: "Labelling game-service's pod template as the canary track." };
    expect(reportCommand(setUp, bad("{}"), undefined, undefined).condition).toMatchObject({ status: "True", reason: COMMAND_INVALID });
  });
});

describe("reportCommand: a valid command", () => {
  it("for the run it was judged against changes nothing", () => {
    const run = running(2);
    expect(reportCommand(progressing, ok({ command: "promote" }, run), run, undefined)).toEqual({ condition: progressing, events: [] });
    expect(reportCommand(progressing, undefined, run, undefined)).toEqual({ condition: progressing, events: [] });
  });

  it("for another run, while this run is one it would act on, is said after the canary's message, with no event and the reason kept", () => {
    const run = running(2);
    const stale = ok({ command: "abort", startedAt: iso(-30) }, run);
    const r = reportCommand(progressing, stale, run, { reason: "Progressing" });
    expect(r.events).toEqual([]);
    expect(r.condition).toEqual({
      ...progressing,
      message: `${progressing.message} The abort by alice (INC-42) in the tollgate.dev/canary-command annotation is for the canary run of ${NEW} started at ${iso(-30)}, not the one of ${NEW} started at ${run.startedAt}, so it does nothing.`,
    });
    // Another template's run, and a retry of a run that is not this failed one.
    expect(reportCommand(progressing, ok({ command: "promote", templateHash: NEWER }, run), run, undefined).condition.message).toContain(`is for the canary run of ${NEWER}`);
    const failedRun: CanaryStatus = { ...run, phase: "Failed", weight: 0 };
    expect(reportCommand(failed, ok({ command: "retry", templateHash: NEWER }, failedRun), failedRun, undefined).condition.message).toContain("The retry by alice (INC-42)");
  });

  it("for another run says nothing while this run is in a phase the command does not act on, as after a command was honoured", () => {
    const retried = running(1);
    // The retry that started this run names the failed run before it.
    const honoured = ok({ command: "retry", startedAt: iso(-30) }, retried);
    expect(reportCommand(progressing, honoured, retried, undefined).condition).toEqual(progressing);
    const succeeded: CanaryStatus = { ...running(5), phase: "Succeeded", weight: 0 };
    const done: CanaryCondition = { status: "False", reason: "Succeeded", message: "Last canary: revision 2 (7c9d4f8a1) Succeeded; no new revision since." };
    expect(reportCommand(done, ok({ command: "promote", templateHash: NEWER }, succeeded), succeeded, undefined).condition).toEqual(done);
  });
});
