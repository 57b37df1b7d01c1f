// The bench's tables, as Markdown that also reads aligned in a terminal.

/** A cell that reads as a figure ("1,234", "0.5", "-" or empty) is right-aligned; text is left-aligned. */
function isFigure(cell: string): boolean {
  return /^(-|[-+]?[\d,]*\.?\d+)?$/.test(cell);
}

export function markdown(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const right = header.map((_, i) => rows.every((r) => isFigure(r[i] ?? "")));
  const pad = (c: string, i: number) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0));
  const line = (cells: readonly string[]) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = widths.map((w, i) => (right[i] ? `${"-".repeat(w + 1)}:` : `:${"-".repeat(w + 1)}`));
  return [line(header), `|${rule.join("|")}|`, ...rows.map(line)].join("\n");
}
