import { describe, expect, it } from "vitest";
import { add, compare, div, floor, fromNumber, mul, rational, sub, toNumber } from "./rational.ts";

describe("rational", () => {
  it("reads a number as the decimal it prints as", () => {
    expect(fromNumber(0.1)).toEqual({ num: 1n, den: 10n });
    expect(fromNumber(0.95)).toEqual({ num: 19n, den: 20n });
    expect(fromNumber(1.5e-7)).toEqual({ num: 3n, den: 20_000_000n });
    expect(fromNumber(1e21)).toEqual({ num: 10n ** 21n, den: 1n });
    expect(fromNumber(-2.5)).toEqual({ num: -5n, den: 2n });
    expect(fromNumber(0)).toEqual({ num: 0n, den: 1n });
  });

  it("rejects non-finite numbers", () => {
    expect(() => fromNumber(Number.NaN)).toThrow(RangeError);
    expect(() => fromNumber(Infinity)).toThrow(RangeError);
  });

  it("does arithmetic without rounding", () => {
    // 0.9 × 0.95 × 1000 in doubles is 854.9999999999999; exactly it is 855.
    const v = mul(mul(sub(rational(1n), fromNumber(0.1)), fromNumber(0.95)), rational(1000n));
    expect(v).toEqual({ num: 855n, den: 1n });
    expect(add(fromNumber(0.1), fromNumber(0.2))).toEqual(fromNumber(0.3));
    expect(div(rational(1n), rational(3n))).toEqual({ num: 1n, den: 3n });
    expect(rational(2n, -4n)).toEqual({ num: -1n, den: 2n });
  });

  it("floors toward negative infinity", () => {
    expect(floor(rational(7n, 2n))).toBe(3n);
    expect(floor(rational(-7n, 2n))).toBe(-4n);
    expect(floor(rational(-4n, 2n))).toBe(-2n);
  });

  it("compares and converts", () => {
    expect(compare(rational(1n, 3n), rational(1n, 2n))).toBe(-1);
    expect(compare(rational(2n, 4n), rational(1n, 2n))).toBe(0);
    expect(toNumber(rational(3n, 4n))).toBe(0.75);
  });
});
