import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundle, licensesText } from "./bundle.ts";

const ROOT = resolve(import.meta.dirname, "..");
// Each case starts Node processes, several seconds together on a busy machine.
const SPAWNS_TIMEOUT_MS = 60_000;
const run = (entry: string, args: string[]) => spawnSync(process.execPath, [entry, ...args], { cwd: ROOT, encoding: "utf8" });

describe("the bundled CLI (dist/tollgate.js)", () => {
  // As in the image: dist/ one level below package.json.
  const dir = mkdtempSync(join(tmpdir(), "tollgate-bundle-"));
  let out: Awaited<ReturnType<typeof bundle>>;
  beforeAll(async () => {
    copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
    out = await bundle(join(dir, "dist"));
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the version of the package.json above it", () => {
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
    const r = run(out.script, ["version"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  }, SPAWNS_TIMEOUT_MS);

  it("writes the same CRDs and recording rules as the sources do", () => {
    for (const args of [["crds"], ["rules", "-f", join(ROOT, "examples/game-service.yaml")]]) {
      const bundled = run(out.script, args);
      const source = run(join(ROOT, "src/cli/main.ts"), args);
      expect(bundled.status, bundled.stderr).toBe(0);
      expect(source.status, source.stderr).toBe(0);
      expect(bundled.stdout.length).toBeGreaterThan(1000);
      expect(bundled.stdout).toBe(source.stdout);
    }
  }, SPAWNS_TIMEOUT_MS);

  it("refuses a bad flag as a usage error, exit code 2, naming the flag", () => {
    const r = run(out.script, ["controller", "--workers", "zero"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--workers must be a positive integer, not "zero"');
  }, SPAWNS_TIMEOUT_MS);

  it("names in stack traces the functions the sources name, and links its source map", () => {
    const text = readFileSync(out.script, "utf8");
    expect(text).toContain("function profileReconciler(");
    expect(text.trimEnd().endsWith("//# sourceMappingURL=tollgate.js.map")).toBe(true);
    const map = JSON.parse(readFileSync(out.sourceMap, "utf8")) as { sources: string[] };
    expect(map.sources.some((s) => s.endsWith("src/controllers/profile/reconcile.ts"))).toBe(true);
  });

  it("carries the licence of every package it bundles", () => {
    const names = out.packages.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(["pino", "prom-client", "yaml", "zod"]));
    const text = readFileSync(out.licenses, "utf8");
    for (const p of out.packages) {
      expect(text).toContain(`${p.name}@${p.version} (${p.license})`);
      expect(p.text, `${p.name} has no licence file`).toMatch(/permission|licen[cs]e/i);
    }
  });
});

describe("licensesText", () => {
  it("says when a package ships no licence file", () => {
    expect(licensesText([{ name: "a", version: "1.0.0", license: "MIT" }])).toContain("a@1.0.0 (MIT)\n\n(no licence file in the package)");
  });
});
