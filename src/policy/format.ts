/**
 * Numbers as status and messages show them. Values are truncated, not rounded, so a shown number is at
 * or above a threshold exactly when the real one is: 99.96 % consumed reads "99.9 %", never a
 * "100.0 %" that did not freeze.
 */
export function truncate(x: number, decimals: number): number {
  const scale = 10 ** decimals;
  // toPrecision first: 104.2 * 100 is 10420.000000000002 and 0.29 * 100 is 28.999999999999996.
  const t = Math.trunc(Number((x * scale).toPrecision(12))) / scale;
  return t === 0 ? 0 : t;
}

/** "104.2 %". */
export function percent(x: number): string {
  return `${truncate(x, 1).toFixed(1)} %`;
}

/** A threshold as the user wrote it: "100 %". */
export function threshold(x: number): string {
  return `${x} %`;
}

/** A burn rate: "12.1x". */
export function rate(x: number): string {
  return `${truncate(x, 1).toFixed(1)}x`;
}
