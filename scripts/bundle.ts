// `npm run build`'s second step: the CLI with every dependency it loads in one file, dist/tollgate.js,
// which is what the image runs. Node loads one module instead of ~390 (Tollgate's own, zod, yaml,
// prom-client, pino) and keeps one source text instead of all of theirs: the controller's idle resident
// memory fell from 85 to 76 MiB with it (README, Benchmarks).
//
// Identifiers are kept (whitespace and syntax are minified, names are not), so stack traces in logs name
// the functions they pass through; dist/tollgate.js.map maps them to src/ when Node runs with
// --enable-source-maps. The licences of the bundled packages go to dist/tollgate.licenses.txt, since the
// image carries no node_modules/.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Where the bundle's files go: the JavaScript, its source map, and the bundled packages' licences. */
export interface BundleOutput {
  script: string;
  sourceMap: string;
  licenses: string;
}

export function bundlePaths(outDir: string): BundleOutput {
  return { script: join(outDir, "tollgate.js"), sourceMap: join(outDir, "tollgate.js.map"), licenses: join(outDir, "tollgate.licenses.txt") };
}

/**
 * Bundles src/cli/main.ts into `outDir` (dist/ by default). The output is an ES module that, like the
 * unbundled dist/cli/main.js, reads ../package.json for its version: it belongs one level below it.
 */
export async function bundle(outDir = join(ROOT, "dist")): Promise<BundleOutput & { packages: PackageLicense[] }> {
  const out = bundlePaths(outDir);
  const result = await build({
    entryPoints: [join(ROOT, "src/cli/main.ts")],
    outfile: out.script,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22.19",
    // The CommonJS packages (prom-client, pino) require Node's built-ins; an ES module has no `require`.
    banner: { js: 'import { createRequire as __tollgateCreateRequire } from "node:module"; const require = __tollgateCreateRequire(import.meta.url);' },
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: "linked",
    sourcesContent: false,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  const packages = bundledPackages(result.metafile);
  writeFileSync(out.licenses, licensesText(packages));
  return { ...out, packages };
}

export interface PackageLicense {
  name: string;
  version: string;
  license: string;
  /** The package's LICENSE file, if it has one. */
  text?: string;
}

/** The packages under node_modules/ that contributed code to the bundle, by name. */
function bundledPackages(metafile: Metafile): PackageLicense[] {
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m?.[1]) dirs.add(resolve(ROOT, m[1]));
  }
  return [...dirs]
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string; version: string; license?: string };
      const file = readdirSync(dir).find((f) => /^licen[cs]e(\.|$)/i.test(f));
      const text = file ? readFileSync(join(dir, file), "utf8").trim() : undefined;
      return { name: pkg.name, version: pkg.version, license: pkg.license ?? "UNKNOWN", ...(text ? { text } : {}) };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function licensesText(packages: readonly PackageLicense[]): string {
  const header = "Third-party software in dist/tollgate.js (bundled by scripts/bundle.ts), with its licences.\n";
  return [header, ...packages.map((p) => `${"=".repeat(72)}\n${p.name}@${p.version} (${p.license})\n\n${p.text ?? "(no licence file in the package)"}\n`)].join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  bundle().then(
    (out) => process.stderr.write(`bundle: ${relative(process.cwd(), out.script)} with ${out.packages.length} packages (${out.packages.map((p) => p.name).join(", ")})\n`),
    (err: unknown) => {
      process.stderr.write(`bundle: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
