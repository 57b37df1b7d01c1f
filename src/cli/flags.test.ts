import { describe, expect, it } from "vitest";
import { kubeApiRateFlags, shardsFlag, UsageError } from "./flags.ts";

describe("kubeApiRateFlags", () => {
  it("takes client-go's forms: a QPS that may be fractional, a whole burst", () => {
    expect(kubeApiRateFlags("20", "30")).toEqual({ qps: 20, burst: 30 });
    expect(kubeApiRateFlags("0.5", "1")).toEqual({ qps: 0.5, burst: 1 });
  });

  it.each([
    ["0", "30", /--kube-api-qps must be a positive number/],
    ["-5", "30", /--kube-api-qps/],
    ["", "30", /--kube-api-qps/],
    ["fast", "30", /--kube-api-qps/],
    ["Infinity", "30", /--kube-api-qps/],
    ["20", "0", /--kube-api-burst must be a positive integer/],
    ["20", "2.5", /--kube-api-burst/],
    ["20", " ", /--kube-api-burst/],
  ])("refuses --kube-api-qps %j --kube-api-burst %j", (qps, burst, message) => {
    expect(() => kubeApiRateFlags(qps, burst)).toThrow(UsageError);
    expect(() => kubeApiRateFlags(qps, burst)).toThrow(message);
  });
});

describe("shardsFlag", () => {
  it("keeps one shard as the one leader Lease, with or without leader election", () => {
    expect(shardsFlag("1", true, "tollgate-leader")).toEqual({ shards: 1 });
    expect(shardsFlag("1", false, "x".repeat(100))).toEqual({ shards: 1 });
  });

  it("ties a sharded replica's member Lease to its Pod when the downward API names it", () => {
    expect(shardsFlag("6", true, "tollgate-leader", "tollgate-abc", "1234")).toEqual({
      shards: 6,
      pod: { apiVersion: "v1", kind: "Pod", name: "tollgate-abc", uid: "1234" },
    });
    expect(shardsFlag("6", true, "tollgate-leader", "tollgate-abc")).toEqual({ shards: 6 });
  });

  it.each([
    ["0", true, "tollgate-leader", /--shards must be a whole number from 1 to 32/],
    ["33", true, "tollgate-leader", /--shards must be a whole number from 1 to 32/],
    ["2.5", true, "tollgate-leader", /--shards/],
    ["", true, "tollgate-leader", /--shards/],
    ["6", false, "tollgate-leader", /needs --leader-elect/],
    ["6", true, "x".repeat(64), /--leader-election-id of at most 63 characters/],
  ])("refuses --shards %j (leader election %j, id %j)", (raw, leaderElect, id, message) => {
    expect(() => shardsFlag(raw, leaderElect, id)).toThrow(UsageError);
    expect(() => shardsFlag(raw, leaderElect, id)).toThrow(message);
  });
});
