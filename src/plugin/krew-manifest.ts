import { stringify } from "yaml";

/**
 * The krew plugin manifest of `kubectl tollgate` (krew.googlecontainertools.github.com/v1alpha2). The
 * plugin is the package's compiled JavaScript, so one archive serves every architecture; krew links
 * `kubectl-tollgate` to dist/plugin/main.js, and Node, which resolves a symlinked main module to its
 * real path, loads the rest of dist/ and node_modules/ beside it. Windows is left out: krew runs only
 * .exe entrypoints there.
 */

export interface KrewRelease {
  /** The package version, e.g. 0.1.0 (krew wants it with a leading v, added here). */
  version: string;
  /** Where the release archive is downloaded from. */
  uri: string;
  /** sha256 of that archive, hex. */
  sha256: string;
  /** The project's home page: krew-index uses it to tell who owns the plugin. */
  homepage: string;
}

/**
 * The archive's one top-level folder: `tollgate-<version>/` holding package.json, dist/, crds/ and the
 * production node_modules/, as `npm run build` and `npm ci --omit=dev` leave them.
 */
export function archiveRoot(version: string): string {
  return `tollgate-${version}`;
}

const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** The manifest as YAML; throws naming the field that cannot go into one. */
export function krewManifest(r: KrewRelease): string {
  if (!SEMVER.test(r.version)) throw new Error(`version must be a semantic version such as 0.1.0, not ${JSON.stringify(r.version)}`);
  if (!/^[0-9a-f]{64}$/i.test(r.sha256)) throw new Error(`sha256 must be 64 hex digits, not ${JSON.stringify(r.sha256)}`);
  for (const [field, url] of [["uri", r.uri], ["homepage", r.homepage]] as const) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`${field} must be a URL, not ${JSON.stringify(url)}`);
    }
    if (parsed.protocol !== "https:") throw new Error(`${field} must be an https URL, not ${JSON.stringify(url)}`);
  }
  if (!/\.(tar\.gz|tgz|zip)$/.test(new URL(r.uri).pathname)) throw new Error(`uri must name a .tar.gz or .zip archive, not ${JSON.stringify(r.uri)}`);
  const manifest = {
    apiVersion: "krew.googlecontainertools.github.com/v1alpha2",
    kind: "Plugin",
    metadata: { name: "tollgate" },
    spec: {
      version: `v${r.version}`,
      homepage: r.homepage,
      shortDescription: "Error budgets, freezes and canaries of Tollgate",
      description:
        "Shows what Tollgate, an operator that lets the error budget decide what ships, recorded for each\n" +
        "PerformanceProfile: budget, burn rates, freeze, override, canary and the last decision. Explains\n" +
        "the PromQL it runs, checks and evaluates profile files offline, and sets or clears the\n" +
        "break-glass override of a freeze.\n",
      caveats: "Needs Node.js 22.19 or later as `node` on the PATH. The override command needs patch on\nperformanceprofiles.tollgate.dev in the profile's namespace.\n",
      platforms: [
        {
          selector: { matchExpressions: [{ key: "os", operator: "In", values: ["darwin", "linux"] }] },
          uri: r.uri,
          sha256: r.sha256.toLowerCase(),
          files: [{ from: `${archiveRoot(r.version)}/*`, to: "." }],
          bin: "dist/plugin/main.js",
        },
      ],
    },
  };
  return stringify(manifest, { lineWidth: 0 });
}
