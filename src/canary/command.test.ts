import { describe, expect, it } from "vitest";
import { canaryCommandFromAnnotations, canaryCommandValue, parseCanaryCommand, type CanaryCommand } from "./command.ts";
import { stepCanary } from "./step.ts";
import { FROZEN, input, iso, NEW, running, T0 } from "./test-builders.ts";
import type { CanaryAction, CanaryStatus } from "./types.ts";

const command = (name: CanaryCommand["command"], s: CanaryStatus, over: Partial<CanaryCommand> = {}): CanaryCommand => ({
  command: name,
  templateHash: s.templateHash ?? "",
  startedAt: s.startedAt ?? "",
  by: "alice",
  reason: "INC-42",
  ...over,
});
const events = (actions: CanaryAction[]) => actions.filter((a) => a.action === "event").map((a) => (a.action === "event" ? a.reason : ""));

describe("parseCanaryCommand", () => {
  it("reads the value canaryCommandValue writes", () => {
    const c = command("abort", running(2));
    expect(parseCanaryCommand(canaryCommandValue(c))).toEqual({ ok: true, command: c });
    expect(canaryCommandFromAnnotations({ "tollgate.dev/canary-command": canaryCommandValue(c) })).toEqual({ ok: true, command: c });
    expect(canaryCommandFromAnnotations({ other: "x" })).toBeUndefined();
  });

  it.each([
    ["promote now", "the value is not JSON"],
    ['{"command":"pause","templateHash":"h","startedAt":"t","by":"a"}', '"command" must be one of promote, abort, retry'],
    ['{"command":"abort","templateHash":"","startedAt":"t","by":"a"}', '"templateHash" must be a non-empty string'],
    ['{"command":"abort","templateHash":"h","startedAt":"t","by":"a","when":"now"}', 'unknown field "when"'],
    [JSON.stringify({ command: "abort", templateHash: "h".repeat(64), startedAt: "t", by: "a" }), '"templateHash" is longer than 63 characters'],
    [JSON.stringify({ command: "abort", templateHash: "h", startedAt: "t", by: "a", reason: 42 }), '"reason" must be a string'],
  ])("refuses %s with a problem naming the field and the shape it expects", (value, problem) => {
    expect(parseCanaryCommand(value)).toEqual({ ok: false, problem: expect.stringContaining(problem) });
    expect(parseCanaryCommand(value)).toEqual({ ok: false, problem: expect.stringContaining('; expected JSON like {"command":"abort","templateHash":') });
    expect(canaryCommandFromAnnotations({ "tollgate.dev/canary-command": value })).toMatchObject({ ok: false });
  });
});

describe("stepCanary with a person's command", () => {
  it("promotes the run it names at once, before its remaining checks, saying who asked", () => {
    const prev = running(2);
    const d = stepCanary(input({ status: prev, command: command("promote", prev), now: new Date(T0.getTime() + 10_000) }));
    expect(d.status).toMatchObject({ phase: "Promoting", weight: 20, templateHash: NEW });
    expect(d.actions).toContainEqual({ action: "promote", templateHash: NEW, revision: 2 });
    const promoting = d.actions.find((a) => a.action === "event" && a.reason === "CanaryPromoting");
    expect(promoting && "message" in promoting ? promoting.message : "").toContain("is promoted by alice (INC-42) at 20 % (step 2), without its remaining checks");
  });

  it("ignores a command for another run of the same revision", () => {
    const prev = running(2);
    const stale = command("abort", prev, { startedAt: iso(-30) });
    const d = stepCanary(input({ status: prev, command: stale, now: new Date(T0.getTime() + 10_000) }));
    expect(d.status).toEqual(prev);
    expect(events(d.actions)).toEqual([]);
  });

  it("holds a promotion while frozen, keeps checking, and says why in the summary", () => {
    const prev = running(2);
    const d = stepCanary(input({ status: prev, command: command("promote", prev), frozen: FROZEN, now: new Date(T0.getTime() + 60_000) }));
    expect(d.status?.phase).toBe("Progressing");
    expect(d.actions.some((a) => a.action === "promote")).toBe(false);
    expect(d.summary).toMatchObject({ active: true, reason: "PromotionFrozen" });
    expect(d.summary.message).toContain("asked by alice (INC-42) waits: rollouts are frozen");
  });

  it("aborts the run it names: traffic back on primary, the canary scaled to 0, an event and a notification", () => {
    const prev = running(3);
    const d = stepCanary(input({ status: prev, command: command("abort", prev), now: new Date(T0.getTime() + 10_000) }));
    expect(d.status).toMatchObject({ phase: "Failed", weight: 0, templateHash: NEW, startedAt: prev.startedAt });
    expect(d.actions).toContainEqual({ action: "setWeights", primary: 100, canary: 0 });
    expect(d.actions).toContainEqual({ action: "scaleCanary", replicas: 0 });
    expect(events(d.actions)).toEqual(["CanaryAborted", "CanaryRolledBack"]);
    const notify = d.actions.find((a) => a.action === "notify");
    expect(notify).toMatchObject({ event: "CanaryFailed" });
    expect(notify && "summary" in notify ? notify.summary : "").toContain("was aborted by alice (INC-42) at 30 % (step 3)");
  });

  it("keeps traffic on an aborted canary until primary can carry it all", () => {
    const prev = running(3);
    const d = stepCanary(input({ status: prev, command: command("abort", prev), primary: { templateHash: "6d8f9c7b5", desiredReplicas: 3, readyReplicas: 1, rolloutComplete: true } }));
    expect(d.status).toMatchObject({ phase: "Aborting", weight: 30 });
    expect(d.actions).toContainEqual({ action: "scalePrimary", replicas: 3 });
  });

  it("retries a failed run once: a new run starts, and the same command does not restart it again", () => {
    const failed: CanaryStatus = { ...running(2), phase: "Failed", weight: 0, failedChecks: 3 };
    const retry = command("retry", failed);
    const d = stepCanary(input({ status: failed, command: retry }));
    expect(d.status).toMatchObject({ phase: "Progressing", step: 1, weight: 10, failedChecks: 0, templateHash: NEW, startedAt: T0.toISOString() });
    expect(events(d.actions)).toEqual(["CanaryRetried"]);
    // The new run fails too: the old command names the old run, so it stays failed.
    const again: CanaryStatus = { ...d.status!, phase: "Failed", weight: 0, failedChecks: 3 };
    const after = stepCanary(input({ status: again, command: retry, now: new Date(T0.getTime() + 600_000) }));
    expect(after.status).toEqual(again);
    expect(after.summary.reason).toBe("Failed");
  });

  it("a retry while frozen waits for the freeze to lift instead of starting", () => {
    const failed: CanaryStatus = { ...running(2), phase: "Failed", weight: 0, failedChecks: 3 };
    const d = stepCanary(input({ status: failed, command: command("retry", failed), frozen: FROZEN }));
    expect(d.status).toMatchObject({ phase: "Waiting", weight: 0, templateHash: NEW });
    expect(events(d.actions)).toEqual(["CanaryBlocked"]);
  });

  it("does nothing for a promote or abort once the run is over, or a retry of a run that did not fail", () => {
    const succeeded: CanaryStatus = { ...running(5), phase: "Succeeded", weight: 0 };
    const over = { primary: { templateHash: NEW, desiredReplicas: 3, readyReplicas: 3, rolloutComplete: true } };
    for (const name of ["promote", "abort", "retry"] as const) {
      const d = stepCanary(input({ ...over, status: succeeded, command: command(name, succeeded) }));
      expect(d.status).toEqual(succeeded);
    }
    const progressing = running(2);
    expect(stepCanary(input({ status: progressing, command: command("retry", progressing), now: new Date(T0.getTime() + 10_000) })).status).toEqual(progressing);
  });
});
