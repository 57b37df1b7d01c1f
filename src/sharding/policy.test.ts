import { describe, expect, it } from "vitest";
import { planShards, preference, type MemberSeen, type ShardSeen, type ShardView } from "./policy.ts";

const T0 = 1_000_000;
const RETRY = 2_000;

/** A view of six shards at T0 in which nothing is held, nobody else is a member and nothing is handed over. */
function view(over: Partial<ShardView> & { holders?: Array<string | undefined> } = {}): ShardView {
  const { holders, ...rest } = over;
  const shards = rest.shards ?? 6;
  const leases: ShardSeen[] = Array.from({ length: shards }, (_, shard) => {
    const holder = holders?.[shard];
    return holder === undefined ? { shard, freeSinceMs: T0 } : { shard, holder };
  });
  return {
    identity: "a",
    shards,
    nowMs: T0,
    leases,
    members: [],
    counted: true,
    handingOver: new Set(),
    otherMapHeld: false,
    leaderLeaseHeld: false,
    retryPeriodMs: RETRY,
    renewDeadlineMs: 10_000,
    ...rest,
  };
}

const fresh = (...ids: string[]): MemberSeen[] => ids.map((identity) => ({ identity, renewedAtMs: T0 }));

describe("planShards: the fair share", () => {
  it("takes every shard when it is the only member", () => {
    const plan = planShards(view());
    expect(plan.share).toBe(6);
    expect(plan.acquire.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("takes nothing before its own member Lease is there for the others to count, but keeps what it holds", () => {
    expect(planShards(view({ counted: false }))).toMatchObject({ acquire: [], handOver: [] });
    expect(planShards(view({ counted: false, nowMs: T0 + 60_000, holders: ["a"] }))).toMatchObject({ acquire: [], handOver: [] });
  });

  it("counts itself whether or not its own member Lease was seen", () => {
    expect(planShards(view({ members: fresh("b", "c") })).share).toBe(2);
    expect(planShards(view({ members: fresh("a", "b", "c") })).share).toBe(2);
  });

  it("takes free shards up to ceil(shards / members), the ones it prefers first", () => {
    const plan = planShards(view({ members: fresh("b", "c") }));
    expect(plan.acquire).toHaveLength(2);
    const ranked = [0, 1, 2, 3, 4, 5].sort((x, y) => preference("a", y) - preference("a", x));
    expect(plan.acquire).toEqual(ranked.slice(0, 2));
  });

  it("rounds the share up, so every shard has room: 6 shards over 4 members is 2 each", () => {
    expect(planShards(view({ members: fresh("b", "c", "d") })).share).toBe(2);
  });

  it("leaves a replica with nothing when there are more members than shards", () => {
    const plan = planShards(view({ shards: 2, members: fresh("b", "c"), holders: ["b", "c"] }));
    expect(plan.share).toBe(1);
    expect(plan).toMatchObject({ acquire: [], handOver: [] });
  });

  it("takes nothing more at its share, and nothing that another holds", () => {
    const plan = planShards(view({ members: fresh("b", "c"), holders: ["a", "a", "b", "b", "c", undefined], nowMs: T0 + 1 }));
    expect(plan.acquire).toEqual([]);
    expect(planShards(view({ members: fresh("b", "c"), holders: ["a", "b", "b", "c", "c", "b"] })).acquire).toEqual([]);
  });
});

describe("planShards: no shard left unserved", () => {
  const atShare = { members: fresh("b", "c"), holders: ["a", "a", "b", "b", "c", undefined] };

  it("takes a shard over its share once the shard has stayed free for a whole retry period", () => {
    const seen = view(atShare);
    expect(planShards({ ...seen, nowMs: T0 + RETRY - 1 }).acquire).toEqual([]);
    expect(planShards({ ...seen, nowMs: T0 + RETRY }).acquire).toEqual([5]);
  });

  it("takes its share at once after a member dies: the survivors' share grows as the member's Lease expires", () => {
    // c held 4 and 5; its shard and member Leases expired together (one renewal wrote them all).
    const b = planShards(view({ identity: "b", members: fresh("a"), holders: ["a", "a", "b", "b", undefined, undefined] }));
    const a = planShards(view({ identity: "a", members: fresh("b"), holders: ["a", "a", "b", "b", undefined, undefined] }));
    expect(a.share).toBe(3);
    expect(a.acquire).toHaveLength(1);
    expect(b.acquire).toHaveLength(1);
  });
});

describe("planShards: handing over", () => {
  it("hands its least preferred shard over when over its share and a fresh member is under its share", () => {
    const plan = planShards(view({ members: fresh("b", "c"), holders: ["a", "a", "a", "b", "b", "b"] }));
    const least = [0, 1, 2].sort((x, y) => preference("a", y) - preference("a", x)).at(-1);
    expect(plan.handOver).toEqual([least]);
    expect(plan.acquire).toEqual([]);
  });

  it("evens uneven counts out: at its share of 7 shards, hands one to a member two below, not to one one below", () => {
    const threeThreeOne = planShards(view({ shards: 7, members: fresh("b", "c"), holders: ["a", "a", "a", "b", "b", "b", "c"] }));
    expect(threeThreeOne.share).toBe(3);
    expect(threeThreeOne.handOver).toHaveLength(1);
    const threeTwoTwo = planShards(view({ shards: 7, members: fresh("b", "c"), holders: ["a", "a", "a", "b", "b", "c", "c"] }));
    expect(threeTwoTwo.handOver).toEqual([]);
  });

  it("hands over one shard at a time", () => {
    const plan = planShards(view({ members: fresh("b", "c"), holders: ["a", "a", "a", "a", "b", "b"], handingOver: new Set([3]) }));
    expect(plan.handOver).toEqual([]);
    const next = planShards(view({ members: fresh("b", "c"), holders: ["a", "a", "a", "a", "b", "b"] }));
    expect(next.handOver).toHaveLength(1);
  });

  it("keeps its shards when the only member under its share has not renewed within the renew deadline (it is dying)", () => {
    const stale: MemberSeen[] = [{ identity: "b", renewedAtMs: T0 - 10_000 }, { identity: "c", renewedAtMs: T0 }];
    const plan = planShards(view({ members: stale, holders: ["a", "a", "a", "c", "c", "c"] }));
    expect(plan.share).toBe(2);
    expect(plan.handOver).toEqual([]);
  });

  it("counts a shard being handed over as held: takes no more meanwhile", () => {
    const plan = planShards(view({ members: fresh("b"), holders: ["a", "a", "a", "a", undefined, "b"], handingOver: new Set([0]), nowMs: T0 + 1 }));
    expect(plan.share).toBe(3);
    expect(plan.acquire).toEqual([]);
  });
});

describe("planShards: other shard maps", () => {
  it("takes nothing while a Lease of another map is held, and keeps what it holds", () => {
    const plan = planShards(view({ otherMapHeld: true, holders: ["a", undefined, undefined, undefined, undefined, undefined], nowMs: T0 + 60_000 }));
    expect(plan).toMatchObject({ acquire: [], handOver: [], yieldAll: false });
  });

  it("gives every shard up at once when the leader Lease of --shards 1 is held", () => {
    expect(planShards(view({ leaderLeaseHeld: true, otherMapHeld: true, holders: ["a"] }))).toMatchObject({ acquire: [], yieldAll: true });
    expect(planShards(view({ leaderLeaseHeld: true, otherMapHeld: true }))).toMatchObject({ acquire: [], yieldAll: false });
  });
});

/**
 * Replicas polling one set of Leases in turn, each applying its plan at once: a take succeeds only if
 * the shard is still free (the API server's optimistic concurrency), a handover releases at once (an
 * instant drain). Each replica dates a free shard from the poll it first saw it free in, as the elector
 * does. Returns each replica's shard count after every round.
 */
function simulate(opts: { shards: number; replicas: string[]; rounds: number; join?: { round: number; identity: string } }) {
  const holders = new Array<string | undefined>(opts.shards).fill(undefined);
  const firstSeenFree = new Map<string, Map<number, number>>();
  let live = [...opts.replicas];
  const history: Array<Record<string, number>> = [];
  for (let round = 0, now = T0; round < opts.rounds; round++, now += RETRY) {
    if (opts.join?.round === round) live = [...live, opts.join.identity];
    // A different replica polls first each round.
    const order = live.map((_, i) => live[(i + round) % live.length]!);
    for (const identity of order) {
      const seen = firstSeenFree.get(identity) ?? new Map<number, number>();
      firstSeenFree.set(identity, seen);
      const leases = holders.map((holder, shard): ShardSeen => {
        if (holder !== undefined) {
          seen.delete(shard);
          return { shard, holder };
        }
        if (!seen.has(shard)) seen.set(shard, now);
        return { shard, freeSinceMs: seen.get(shard)! };
      });
      const plan = planShards({
        identity,
        shards: opts.shards,
        nowMs: now,
        leases,
        members: live.map((m) => ({ identity: m, renewedAtMs: now })),
        counted: true,
        handingOver: new Set(),
        otherMapHeld: false,
        leaderLeaseHeld: false,
        retryPeriodMs: RETRY,
        renewDeadlineMs: 10_000,
      });
      for (const s of plan.acquire) if (holders[s] === undefined) holders[s] = identity;
      for (const s of plan.handOver) holders[s] = undefined;
    }
    history.push(Object.fromEntries(live.map((m) => [m, holders.filter((h) => h === m).length])));
  }
  return { holders, history };
}

describe("planShards: replicas converge", () => {
  it("three replicas starting together end with two of six shards each, and stay there", () => {
    const { history, holders } = simulate({ shards: 6, replicas: ["tollgate-0", "tollgate-1", "tollgate-2"], rounds: 12 });
    expect(holders.every((h) => h !== undefined)).toBe(true);
    expect(history.at(-1)).toEqual({ "tollgate-0": 2, "tollgate-1": 2, "tollgate-2": 2 });
    expect(history.at(-6)).toEqual(history.at(-1));
  });

  it("a replica that started alone hands shards on as others join, one per round", () => {
    const { history } = simulate({ shards: 6, replicas: ["tollgate-0"], rounds: 14, join: { round: 3, identity: "tollgate-1" } });
    expect(history[2]).toEqual({ "tollgate-0": 6 });
    expect(history.at(-1)).toEqual({ "tollgate-0": 3, "tollgate-1": 3 });
  });

  it("uneven counts settle within one shard of each other: 7 shards over 3 replicas", () => {
    const { history } = simulate({ shards: 7, replicas: ["r-a", "r-b", "r-c"], rounds: 14 });
    const counts = Object.values(history.at(-1)!).sort();
    expect(counts).toEqual([2, 2, 3]);
    expect(history.at(-4)).toEqual(history.at(-1));
  });
});
