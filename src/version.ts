import { createRequire } from "node:module";

// Read from package.json so the binary, the chart and `npm version` never disagree.
const pkg = createRequire(import.meta.url)("../package.json") as { version: string };
export const VERSION: string = pkg.version;
