import { describe, expect, it } from "vitest";
import { kubeApiRateFlags, UsageError } from "./flags.ts";

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
