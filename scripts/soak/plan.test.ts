import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../../src/api/profile.ts";
import { FAULT_KINDS, makePlan, QUIET_TAIL_MS, rng } from "./plan.ts";

const opts = { seed: 7, minutes: 5, profiles: 24, receiverUrl: "http://127.0.0.1:1" };

describe("the soak's plan", () => {
  it("is the same for the same seed, and differs for another", () => {
    expect(makePlan(opts)).toEqual(makePlan(opts));
    expect(makePlan({ ...opts, seed: 8 })).not.toEqual(makePlan(opts));
    expect(rng(1).next()).toBe(rng(1).next());
  });

  it("writes profiles the CRD's own schema accepts, of every mode", () => {
    const plan = makePlan(opts);
    expect(new Set(plan.profiles.map((p) => p.mode))).toEqual(new Set(["budget", "canary", "guard"]));
    for (const p of plan.profiles) expect(profileSpecSchema.safeParse(p.spec).error).toBeUndefined();
  });

  it("gives five minutes every kind of fault once, one after another, none in the quiet tail", () => {
    const plan = makePlan(opts);
    expect(new Set(plan.faults.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    for (let i = 1; i < plan.faults.length; i++) {
      const prev = plan.faults[i - 1]!;
      expect(plan.faults[i]!.offsetMs).toBeGreaterThan(prev.offsetMs + prev.durationMs);
    }
    const last = plan.faults.at(-1)!;
    expect(last.offsetMs + last.durationMs).toBeLessThanOrEqual(5 * 60_000 - QUIET_TAIL_MS);
  });

  it("moves every workload between the four traffic states", () => {
    const plan = makePlan({ ...opts, minutes: 30 });
    expect(new Set(plan.traffic.map((t) => t.state))).toEqual(new Set(["healthy", "slow-burn", "fast-burn", "zero"]));
    expect(plan.pushes.length).toBeGreaterThan(24);
  });
});
