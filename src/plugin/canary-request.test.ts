import { describe, expect, it } from "vitest";
import { parseCanaryCommand } from "../canary/command.ts";
import { canaryRequest, canaryRequestText } from "./canary-request.ts";

const NOW = new Date("2026-11-30T12:00:00Z");
const run = { phase: "Progressing", weight: 20, step: 2, failedChecks: 0, revision: 4, templateHash: "66c8f4fd5d", startedAt: "2026-11-30T11:50:00.000Z" };
const ask = (command: "promote" | "abort" | "retry", status: unknown, annotations?: Record<string, string>) =>
  canaryRequest({ command, status, annotations, by: "alice", reason: " INC-42 ", now: NOW });

describe("canaryRequest", () => {
  it("names the run the status shows, in the value the operator parses", () => {
    const r = ask("promote", { canary: run });
    if (!r.ok) throw new Error(r.problem);
    expect(parseCanaryCommand(r.value)).toEqual({
      ok: true,
      command: { command: "promote", templateHash: "66c8f4fd5d", startedAt: "2026-11-30T11:50:00.000Z", by: "alice", reason: "INC-42" },
    });
  });

  it("refuses a command the canary's phase does not allow, saying what it needs", () => {
    expect(ask("retry", { canary: run })).toEqual({ ok: false, problem: expect.stringContaining("retry needs a failed canary (phase Failed)") });
    expect(ask("abort", { canary: { ...run, phase: "Promoting" } })).toEqual({ ok: false, problem: expect.stringContaining("a promotion under way finishes") });
    expect(ask("promote", {})).toEqual({ ok: false, problem: expect.stringContaining("no canary has run") });
    expect(ask("retry", { canary: { ...run, phase: "Failed", weight: 10 } })).toEqual({ ok: false, problem: expect.stringContaining("is Failed at 10 %") });
  });

  it("refuses a promotion or retry while frozen, unless an override is active; an abort goes through", () => {
    const frozen = { canary: run, freeze: { since: "2026-11-30T11:00:00Z", reason: "BudgetExhausted" } };
    expect(ask("promote", frozen)).toEqual({ ok: false, problem: expect.stringContaining("rollouts are frozen (BudgetExhausted since 2026-11-30T11:00:00Z)") });
    expect(ask("abort", frozen).ok).toBe(true);
    const override = { "tollgate.dev/override-freeze": JSON.stringify({ by: "bob", reason: "hotfix", expires: "2026-11-30T13:00:00Z" }) };
    expect(ask("promote", frozen, override).ok).toBe(true);
  });

  it("refuses a run without a start to name it by", () => {
    const { startedAt: _, ...old } = run;
    expect(ask("abort", { canary: old })).toEqual({ ok: false, problem: expect.stringContaining("no templateHash or startedAt") });
  });
});

describe("canaryRequestText", () => {
  it("says what the operator will do and how to follow it", () => {
    const r = ask("abort", { canary: run });
    if (!r.ok) throw new Error(r.problem);
    const text = canaryRequestText("shop", "game", r);
    expect(text).toContain("aborts the canary of revision 4 (66c8f4fd5d) at 20 % and returns all traffic to primary");
    expect(text).toContain("kubectl tollgate status game -n shop --watch");
  });
});
