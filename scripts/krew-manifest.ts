import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { archiveRoot, krewManifest } from "../src/plugin/krew-manifest.ts";
import { VERSION } from "../src/version.ts";

// Prints the krew manifest (plugins/tollgate.yaml in a krew index) for a release archive of the plugin.

const USAGE = `Usage: node scripts/krew-manifest.ts --archive FILE --uri URL --homepage URL

FILE is the release archive as it will be downloaded from URL: a .tar.gz whose one top-level folder,
${archiveRoot(VERSION)}/, holds package.json, dist/ (npm run build), crds/ and the production
node_modules/ (npm ci --omit=dev), with dist/plugin/main.js executable. The manifest carries its sha256.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { archive: { type: "string" }, uri: { type: "string" }, homepage: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return void process.stdout.write(USAGE);
  if (!values.archive || !values.uri || !values.homepage) {
    process.stderr.write(`krew-manifest: --archive, --uri and --homepage are all needed\n\n${USAGE}`);
    process.exit(2);
  }
  const sha256 = createHash("sha256").update(await readFile(values.archive)).digest("hex");
  process.stdout.write(krewManifest({ version: VERSION, uri: values.uri, sha256, homepage: values.homepage }));
}

main().catch((err: unknown) => {
  process.stderr.write(`krew-manifest: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
