import { describe, expect, it } from "vitest";
import { electionSelector, isLabelValue, leaseLabels, memberLeaseName, shardLeaseName } from "./lease-names.ts";

const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

describe("shard Lease names", () => {
  it("name the shard and the count, so two shard maps never share a Lease", () => {
    expect(shardLeaseName("tollgate-leader", 0, 6)).toBe("tollgate-leader-shard-0-of-6");
    expect(shardLeaseName("tollgate-leader", 5, 6)).not.toBe(shardLeaseName("tollgate-leader", 5, 8));
  });
});

describe("member Lease names", () => {
  it("keep an identity that is a valid name as it is", () => {
    expect(memberLeaseName("tollgate-leader", "tollgate-7d9f8c6b5-x2x4z")).toBe("tollgate-leader-member-tollgate-7d9f8c6b5-x2x4z");
  });

  it("make any other identity a valid name, and keep two identities apart", () => {
    const a = memberLeaseName("tollgate-leader", "Laptop_1a2b3c4d");
    const b = memberLeaseName("tollgate-leader", "laptop-1a2b3c4d");
    expect(a).toMatch(OBJECT_NAME);
    expect(a).toMatch(/^tollgate-leader-member-laptop-1a2b3c4d-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(memberLeaseName("x", "___")).toMatch(OBJECT_NAME);
  });

  it("stay within 253 characters", () => {
    const name = memberLeaseName("tollgate-leader", "p".repeat(300));
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(OBJECT_NAME);
    expect(name).not.toBe(memberLeaseName("tollgate-leader", "p".repeat(301)));
  });
});

describe("labels", () => {
  it("let one list find every shard and member Lease of an election, of any shard count", () => {
    expect(leaseLabels("tollgate-leader", 6, "shard", 2)).toEqual({
      "tollgate.dev/election": "tollgate-leader",
      "tollgate.dev/lease-role": "shard",
      "tollgate.dev/shards": "6",
      "tollgate.dev/shard": "2",
    });
    expect(leaseLabels("tollgate-leader", 6, "member")).not.toHaveProperty("tollgate.dev/shard");
    expect(electionSelector("tollgate-leader")).toBe("tollgate.dev/election=tollgate-leader");
  });

  it("know a label value", () => {
    expect(isLabelValue("tollgate-leader")).toBe(true);
    expect(isLabelValue("a.b_c")).toBe(true);
    expect(isLabelValue("x".repeat(64))).toBe(false);
    expect(isLabelValue("-leader")).toBe(false);
  });
});
