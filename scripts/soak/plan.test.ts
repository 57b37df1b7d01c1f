import { describe, expect, it } from "vitest";
import { profileSpecSchema } from "../../src/api/profile.ts";
import { FAULT_KINDS, LEASE_FAULT_KINDS, makePlan, QUIET_TAIL_MS, rng, type Fault } from "./plan.ts";

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

  it("keeps the CI smoke's five-minute schedule as it was before leader faults were kept to the first half", () => {
    const plan = makePlan({ ...opts, seed: 1 });
    expect(plan.faults.map((f) => [f.kind, f.offsetMs])).toEqual([
      ["prometheus-stop", 20000],
      ["leader-term", 47320],
      ["prometheus-drop", 59072],
      ["receiver-fail", 80133],
      ["prometheus-slow", 96888],
      ["apiserver-stop", 122161],
      ["leader-kill", 139325],
      ["prometheus-hang", 149128],
      ["prometheus-slow", 166545],
      ["prometheus-stop", 202903],
      ["apiserver-stop", 231614],
      ["prometheus-hang", 248560],
    ]);
  });

  it("kills and stops the leader and the API server only in the first half of runs of 20 minutes or more, and keeps every other kind in the second", () => {
    const isLeader = (f: Fault) => LEASE_FAULT_KINDS.includes(f.kind);
    const others = FAULT_KINDS.filter((k) => !LEASE_FAULT_KINDS.includes(k));
    for (const minutes of [20, 30, 60]) {
      for (let seed = 1; seed <= 20; seed++) {
        const plan = makePlan({ ...opts, seed, minutes });
        const half = (minutes * 60_000) / 2;
        const first = plan.faults.filter((f) => f.offsetMs + f.durationMs <= half);
        const second = plan.faults.filter((f) => f.offsetMs >= half);
        expect(plan.faults.filter(isLeader).every((f) => f.offsetMs + f.durationMs <= half)).toBe(true);
        expect(new Set(first.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
        expect(new Set(second.map((f) => f.kind))).toEqual(new Set(others));
        for (let i = 1; i < plan.faults.length; i++) expect(plan.faults[i]!.offsetMs).toBeGreaterThan(plan.faults[i - 1]!.offsetMs + plan.faults[i - 1]!.durationMs);
      }
    }
    // Just under the threshold the leader and the API server are still stopped throughout.
    expect(makePlan({ ...opts, seed: 1, minutes: 19 }).faults.filter((f) => isLeader(f) && f.offsetMs > 19 * 30_000).length).toBeGreaterThan(0);
  });

  it("moves every workload between the four traffic states", () => {
    const plan = makePlan({ ...opts, minutes: 30 });
    expect(new Set(plan.traffic.map((t) => t.state))).toEqual(new Set(["healthy", "slow-burn", "fast-burn", "zero"]));
    expect(plan.pushes.length).toBeGreaterThan(24);
  });
});
