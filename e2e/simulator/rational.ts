// Exact fractions over BigInt. The simulator counts requests with these so that a configured
// error ratio of 0.1 is exactly 1/10, not the nearest double, and floor() of an accumulated
// count never lands one short of a hand-computed value.

export interface Rational {
  readonly num: bigint;
  /** Always positive; the fraction is always in lowest terms. */
  readonly den: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function rational(num: bigint, den: bigint = 1n): Rational {
  if (den === 0n) throw new RangeError("rational: zero denominator");
  const sign = den < 0n ? -1n : 1n;
  const g = gcd(num, den) || 1n;
  return { num: (sign * num) / g, den: (sign * den) / g };
}

export const ZERO: Rational = rational(0n);
export const ONE: Rational = rational(1n);

/**
 * The decimal a JSON number was written as, exactly: JavaScript prints the shortest decimal that
 * round-trips, so 0.1 becomes 1/10 rather than 3602879701896397/36028797018963968.
 */
export function fromNumber(x: number): Rational {
  if (!Number.isFinite(x)) throw new RangeError(`rational: ${x} is not finite`);
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (!m) throw new RangeError(`rational: cannot parse ${x}`);
  const [, sign = "", int = "0", frac = "", exp = "0"] = m;
  const scale = frac.length - Number(exp);
  let num = BigInt(sign + int + frac);
  let den = 1n;
  if (scale >= 0) den = 10n ** BigInt(scale);
  else num *= 10n ** BigInt(-scale);
  return rational(num, den);
}

export function add(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function sub(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den - b.num * a.den, a.den * b.den);
}

export function mul(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den);
}

export function div(a: Rational, b: Rational): Rational {
  if (b.num === 0n) throw new RangeError("rational: division by zero");
  return rational(a.num * b.den, a.den * b.num);
}

/** Largest integer <= a (BigInt division truncates toward zero, so negatives need a step down). */
export function floor(a: Rational): bigint {
  const q = a.num / a.den;
  return a.num < 0n && q * a.den !== a.num ? q - 1n : q;
}

export function compare(a: Rational, b: Rational): number {
  const d = a.num * b.den - b.num * a.den;
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

export function toNumber(a: Rational): number {
  return Number(a.num) / Number(a.den);
}
