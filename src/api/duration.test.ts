import { describe, expect, it } from "vitest";
import { formatDuration, isCelDuration, isDuration, parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["2h15m30s250ms", 8_130_250],
    ["30d", 30 * 86_400_000],
    ["4w", 28 * 86_400_000],
    ["1y", 365 * 86_400_000],
    ["1w2d", 9 * 86_400_000],
    ["0s", 0],
    ["90s", 90_000],
    ["1m1ms", 60_001],
  ])("reads %s as %d ms", (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
  });

  it.each(["", "0", "30", "1.5h", "-5m", "5 m", "30m1h", "1h1h", "5M", "1hour", "PT5M", "ms", "1ms1s", " 1s", "1s "])(
    "refuses %j",
    (s) => {
      expect(isDuration(s)).toBe(false);
      expect(() => parseDuration(s)).toThrow(/not a duration/);
    },
  );

  it("refuses strings longer than the CRD's maxLength", () => {
    expect(isDuration("1".repeat(40) + "s")).toBe(false);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [500, "500ms"],
    [30_000, "30s"],
    [5_400_000, "1h30m"],
    [86_400_000, "1d"],
    [7 * 86_400_000, "1w"],
    [9 * 86_400_000, "9d"],
    [30 * 86_400_000, "30d"],
    [365 * 86_400_000, "1y"],
    [90_061_001, "1d1h1m1s1ms"],
  ])("prints %d ms as %s, largest units first, like Prometheus", (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
  });

  it("round-trips through parseDuration", () => {
    for (const ms of [1, 999, 1_000, 59_999, 3_600_001, 29 * 86_400_000 + 1]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses %d", (ms) => {
    expect(() => formatDuration(ms)).toThrow();
  });
});

describe("isCelDuration", () => {
  it("accepts only the h, m and s units CEL's duration() reads", () => {
    expect(["0s", "30s", "300s", "5m", "1h", "1h30m"].every(isCelDuration)).toBe(true);
    expect(["30d", "500ms", "1w", "", "5"].some(isCelDuration)).toBe(false);
  });
});
