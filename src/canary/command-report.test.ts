import { describe, expect, it } from "vitest";
import { COMMAND_INVALID, reportCommand, type CanaryCondition } from "./command-report.ts";
import { parseCanaryCommand, type CanaryCommand, type CanaryCommandAnnotation } from "./command.ts";
import { iso, NEWER, running } from "./test-builders.ts";
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
    const r = reportCommand(progressing, bad(value), { reason: "Progressing" });
    expect(r.condition.reason).toBe(COMMAND_INVALID);
    expect(r.condition.message).toMatch(new RegExp(`^The tollgate\\.dev/canary-command annotation is ignored: .*${problem.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*; expected JSON like \\{`));
  });

  it("keeps the canary's status and says what it does meanwhile, so nothing the condition told is lost", () => {
    const r = reportCommand(failed, bad("abort!"), { reason: "Failed" });
    expect(r.condition.status).toBe("False");
    expect(r.condition.message.endsWith(` ${failed.message}`)).toBe(true);
    const active = reportCommand(progressing, bad("abort!"), undefined);
    expect(active.condition.status).toBe("True");
  });

  it("is told in a Warning event when the condition becomes CanaryCommandInvalid, and not again while it stays so", () => {
    const first = reportCommand(progressing, bad("abort!"), { reason: "Progressing" });
    expect(first.events).toEqual([{ action: "event", type: "Warning", reason: COMMAND_INVALID, message: first.condition.message }]);
    expect(reportCommand(progressing, bad("abort!"), undefined).events).toHaveLength(1);
    expect(reportCommand(progressing, bad("abort!"), { reason: COMMAND_INVALID }).events).toEqual([]);
  });

  it("is told even with no canary run yet", () => {
    const setUp: CanaryCondition = { status: "True", reason: "Initializing", message: "Labelling game-service's pod template as the canary track." };
    expect(reportCommand(setUp, bad("{}"), undefined).condition).toMatchObject({ status: "True", reason: COMMAND_INVALID });
  });
});

describe("reportCommand: a valid command", () => {
  it("changes nothing, for the run it names or for another, which does nothing and is not said", () => {
    const run = running(2);
    expect(reportCommand(progressing, ok({ command: "promote" }, run), undefined)).toEqual({ condition: progressing, events: [] });
    expect(reportCommand(progressing, ok({ command: "abort", startedAt: iso(-30) }, run), { reason: "Progressing" })).toEqual({ condition: progressing, events: [] });
    expect(reportCommand(failed, ok({ command: "retry", templateHash: NEWER }, { ...run, phase: "Failed", weight: 0 }), { reason: "Failed" })).toEqual({ condition: failed, events: [] });
    expect(reportCommand(progressing, undefined, undefined)).toEqual({ condition: progressing, events: [] });
  });
});
