import { describe, expect, it } from "vitest";
import { parseVariants, variantLines } from "./variants.ts";
import type { SizeFigures } from "./report.ts";

describe("parseVariants", () => {
  it("is the image alone by default", () => {
    expect(parseVariants(undefined)).toEqual([{ label: "image", nodeArgs: [], env: {} }]);
    expect(parseVariants(" ")).toEqual([{ label: "image", nodeArgs: [], env: {} }]);
  });

  it("splits variants on ; and each into Node flags and environment settings", () => {
    expect(parseVariants("image; --optimize-for-size ;MALLOC_ARENA_MAX=2 --max-semi-space-size=1")).toEqual([
      { label: "image", nodeArgs: [], env: {} },
      { label: "--optimize-for-size", nodeArgs: ["--optimize-for-size"], env: {} },
      { label: "MALLOC_ARENA_MAX=2 --max-semi-space-size=1", nodeArgs: ["--max-semi-space-size=1"], env: { MALLOC_ARENA_MAX: "2" } },
    ]);
  });

  it("names a token that is neither", () => {
    expect(() => parseVariants("optimize")).toThrow(/"optimize" is neither/);
  });

  it("takes entry=PATH as the build to run instead of the image's", () => {
    expect(parseVariants("image;entry=dist/cli/main.js")).toEqual([
      { label: "image", nodeArgs: [], env: {} },
      { label: "entry=dist/cli/main.js", nodeArgs: [], env: {}, entry: "dist/cli/main.js" },
    ]);
  });
});

describe("variantLines", () => {
  const figures = (rss: number, p99: number, cpu: number) =>
    ({ profiles: 2000, rssSteadyMiB: rss, rssPeakMiB: rss + 10, reconcileP99Ms: p99, cpuCores: cpu, memory: { rssMiB: rss, heapUsedMiB: 50, heapTotalMiB: 60, externalMiB: 3 } }) as SizeFigures;

  it("prints each variant against the first as ratios", () => {
    const lines = variantLines([
      { variant: { label: "image", nodeArgs: [], env: {} }, figures: figures(200, 20, 0.4) },
      { variant: { label: "--optimize-for-size", nodeArgs: ["--optimize-for-size"], env: {} }, figures: figures(150, 30, 0.5) },
    ]);
    expect(lines[0]).toBe("variants at 2000 profiles, against image:");
    expect(lines[1]).toContain("image: RSS steady 200 MiB (1.00x)");
    expect(lines[2]).toContain("--optimize-for-size: RSS steady 150 MiB (0.75x), peak 160 MiB (0.76x)");
    expect(lines[2]).toContain("reconcile p99 30.0 ms (1.50x), CPU 0.50 cores (1.25x)");
  });

  it("says n/a for a figure not measured (no reconciles with no profiles), not NaN", () => {
    const idle = (rss: number) => ({ ...figures(rss, Number.NaN, 0), profiles: 0 }) as SizeFigures;
    const lines = variantLines([
      { variant: { label: "image", nodeArgs: [], env: {} }, figures: idle(85) },
      { variant: { label: "--no-optimize-for-size", nodeArgs: ["--no-optimize-for-size"], env: {} }, figures: idle(91) },
    ]);
    expect(lines[2]).toContain("RSS steady 91 MiB (1.07x)");
    expect(lines[2]).toContain("reconcile p99 n/a ms (n/a), CPU 0.00 cores (n/a)");
    expect(lines.join("\n")).not.toContain("NaN");
  });
});
