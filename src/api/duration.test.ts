import { describe, expect, it } from "vitest";
import { celMillis, durationMillis, durationWithin, formatDuration, isCelDuration, isDuration, MAX_TIMER_DELAY_MS, parseDuration, timerDelay } from "./duration.ts";

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

describe("durationWithin", () => {
  const [min, max] = [parseDuration("1m"), parseDuration("90d")];
  it.each([
    ["1m", true],
    ["60s", true],
    ["59s999ms", false],
    ["90d", true],
    ["12w6d", true],
    ["2160h", true],
    ["90d1ms", false],
    ["13w", false],
    ["1y", false],
  ])("reads %s as %s for 1m..90d, both ends included", (s, within) => {
    expect(durationWithin(s, min, max)).toBe(within);
  });

  it("is false for anything that is no duration, and for a sum past safe integers, without throwing", () => {
    for (const s of ["", "90 d", "1.5h", "99999999999999999999y"]) expect(durationWithin(s, 0, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(durationMillis("99999999999999999999y")).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
    expect(durationMillis("nope")).toBeUndefined();
  });
});

describe("celMillis", () => {
  it("finds one component per unit, minutes apart from milliseconds", () => {
    const cel = celMillis("self");
    expect(cel.split(/ \+ (?=double)/)).toHaveLength(7);
    expect(cel).toContain("self.find('[0-9]+m([0-9]|$)')");
    expect(cel).toContain("self.find('[0-9]+ms')");
    expect(cel).toContain("* 31536000000.0");
  });

  // The API server evaluates the CEL; this replays its finds with JavaScript regular expressions (RE2's
  // leftmost-first search agrees with them on these patterns), so a wrong pattern fails here first.
  it.each(["1m", "1m1ms", "5m500ms", "1h30m15s", "500ms", "2w3d4h5m6s7ms", "1y", "12w6d", "0s", "90s", "1m0s"])("sums %s as parseDuration does", (s) => {
    const sum = celMillis("self")
      .split(/ \+ (?=double)/)
      .map((term) => {
        const m = /^double\('0' \+ self\.find\('(.+)'\)\.find\('\[0-9\]\+'\)\) \* (\d+)\.0$/.exec(term);
        if (!m) throw new Error(`unexpected term ${term}`);
        const [, re, unit] = m as unknown as [string, string, string];
        const component = new RegExp(re).exec(s)?.[0] ?? "";
        return Number(`0${/[0-9]+/.exec(component)?.[0] ?? ""}`) * Number(unit);
      })
      .reduce((a, b) => a + b, 0);
    expect(sum).toBe(parseDuration(s));
  });
});

describe("timerDelay", () => {
  it.each([
    [30_000, 30_000],
    [0, 0],
    [-5, 0],
    [MAX_TIMER_DELAY_MS, MAX_TIMER_DELAY_MS],
    [parseDuration("25d"), MAX_TIMER_DELAY_MS],
    [parseDuration("100y"), MAX_TIMER_DELAY_MS],
    [Number.POSITIVE_INFINITY, MAX_TIMER_DELAY_MS],
    [Number.NaN, MAX_TIMER_DELAY_MS],
  ])("gives %d ms as %d ms", (ms, delay) => {
    expect(timerDelay(ms)).toBe(delay);
  });

  it("is setTimeout's limit, 2^31 - 1 ms", () => {
    expect(MAX_TIMER_DELAY_MS).toBe(2_147_483_647);
  });

  // Why the clamp exists: Node fires a timer set past its limit after 1 ms. A 25d requeue unclamped
  // comes straight back; clamped, it waits.
  it("keeps a 25d delay from firing at once", async () => {
    const firesWithin = (delay: number, ms: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), delay);
        setTimeout(() => {
          clearTimeout(timer);
          resolve(false);
        }, ms);
      });
    const quiet = process.emitWarning;
    process.emitWarning = () => {}; // the TimeoutOverflowWarning this deliberately provokes
    try {
      expect(await firesWithin(parseDuration("25d"), 50)).toBe(true);
    } finally {
      process.emitWarning = quiet;
    }
    expect(await firesWithin(timerDelay(parseDuration("25d")), 50)).toBe(false);
  });
});
