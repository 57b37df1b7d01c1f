// BENCH_VARIANTS: ways to launch the operator that the scale bench compares at each size, on the same
// profiles, so V8 and allocator settings are chosen from measurements. Variants are separated by ";",
// each a space-separated list of Node flags (--optimize-for-size) and environment settings
// (MALLOC_ARENA_MAX=2), added to the image's own, and optionally entry=PATH, another build of the CLI to
// run instead of the image's bundle (entry=dist/cli/main.js: tsc's output, module by module); "image" (or
// nothing) is the image as it ships.
import { fixed, type SizeFigures } from "./report.ts";

export interface Variant {
  label: string;
  nodeArgs: string[];
  env: Record<string, string>;
  /** The CLI to run, relative to the repository's root; the image's by default. */
  entry?: string;
}

export const IMAGE_VARIANT: Variant = { label: "image", nodeArgs: [], env: {} };

export function parseVariants(raw: string | undefined): Variant[] {
  if (!raw?.trim()) return [IMAGE_VARIANT];
  return raw.split(";").map((part) => {
    const tokens = part.trim().split(/\s+/).filter((t) => t && t !== "image");
    const variant: Variant = { label: tokens.length ? tokens.join(" ") : "image", nodeArgs: [], env: {} };
    for (const token of tokens) {
      const setting = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(token);
      const entry = /^entry=(.+)$/.exec(token);
      if (setting) variant.env[setting[1]!] = setting[2]!;
      else if (entry) variant.entry = entry[1]!;
      else if (token.startsWith("--")) variant.nodeArgs.push(token);
      else throw new Error(`BENCH_VARIANTS: "${token}" is neither a Node flag (--…), a setting (NAME=value) nor entry=PATH`);
    }
    return variant;
  });
}

/** Each variant against the first at one size: resident memory, heap, reconcile p99 and CPU, as ratios. */
export function variantLines(results: ReadonlyArray<{ variant: Variant; figures: SizeFigures }>): string[] {
  const [base, ...others] = results;
  if (!base) return [];
  const r = (value: number, of: number) => (of > 0 && Number.isFinite(value) ? `${(value / of).toFixed(2)}x` : "n/a");
  const line = (v: Variant, f: SizeFigures) =>
    `  ${v.label}: RSS steady ${fixed(f.rssSteadyMiB, 0)} MiB (${r(f.rssSteadyMiB, base.figures.rssSteadyMiB)}), ` +
    `peak ${fixed(f.rssPeakMiB, 0)} MiB (${r(f.rssPeakMiB, base.figures.rssPeakMiB)}), ` +
    `heap used ${fixed(f.memory.heapUsedMiB, 0)} of ${fixed(f.memory.heapTotalMiB, 0)} MiB, ` +
    `reconcile p99 ${fixed(f.reconcileP99Ms, 1)} ms (${r(f.reconcileP99Ms, base.figures.reconcileP99Ms)}), ` +
    `CPU ${fixed(f.cpuCores, 2)} cores (${r(f.cpuCores, base.figures.cpuCores)})`;
  return [`variants at ${base.figures.profiles} profiles, against ${base.variant.label}:`, line(base.variant, base.figures), ...others.map((o) => line(o.variant, o.figures))];
}
