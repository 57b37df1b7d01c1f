/**
 * Columns padded to their widest cell, as `kubectl get` prints them: two spaces between columns, the
 * last column not padded (it holds a sentence that may be long).
 */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  return all
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}

/** A percentage with one decimal, or "-" when unknown (no verdict is never shown as 0 %). */
export function percent(value: number | undefined): string {
  return value === undefined ? "-" : `${value.toFixed(1)}%`;
}

/** A burn rate as "2.4x", or "-" when the window had no verdict. */
export function burn(value: number | undefined): string {
  return value === undefined ? "-" : `${value >= 10 ? value.toFixed(0) : value.toFixed(1)}x`;
}

/** How long ago `iso` was from `now`, kubectl's way (45s, 12m, 3h, 2d); "-" when unknown. */
export function age(iso: string | undefined, now: Date): string {
  if (iso === undefined) return "-";
  const ms = now.getTime() - Date.parse(iso);
  if (!Number.isFinite(ms)) return "-";
  return span(Math.max(0, ms));
}

/** A span of time as its largest unit: 45s, 12m, 3h, 2d. */
export function span(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}
