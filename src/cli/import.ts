import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { durationWithin, parseDuration } from "../api/duration.ts";
import { API_VERSION, KIND } from "../api/meta.ts";
import { DNS_LABEL_PATTERN } from "../api/names.ts";
import type { SourceText } from "../openslo/documents.ts";
import { ConversionError } from "../openslo/fields.ts";
import { importOpenSlo, type ImportedProfile, type ImportResult } from "../openslo/import.ts";
import { importSloth } from "../openslo/sloth.ts";
import { InputError, UsageError } from "./flags.ts";

/**
 * `tollgate import openslo|sloth`: SLO files of other tools as PerformanceProfiles on stdout. The
 * conversion is src/openslo/ (pure); this is the flags, the reading and the printing.
 */

export const IMPORT_USAGE = `Usage: tollgate import openslo -f FILE [-f FILE ...] [-n NS]
       tollgate import sloth -f FILE [-f FILE ...] [--window DURATION] [-n NS]

Prints a PerformanceProfile for each service in FILE (- reads stdin), valid as the operator
validates it.

openslo: OpenSLO v1 SLO, SLI, DataSource and Service documents. One profile per service (an SLO's
  spec.service), named after it, for the Deployment of that name. Each SLO becomes one of its SLOs,
  named by metadata.name less "<service>-"; its rolling timeWindow the window; its objective's target
  or targetPercent the objective. A ratioMetric good/total or bad/total becomes a ratio indicator:
  counters (a selector or its sum) are read as sum(rate(...[{{window}}])), and queries with
  {{window}} as written. A thresholdMetric on a Prometheus histogram with op: lte becomes a latency
  indicator (each observation an occurrence, good at or below value; unit: seconds|milliseconds
  beside the query when the metric's name does not say). A Prometheus DataSource's url or connection
  becomes spec.prometheus. Tollgate's annotations, which tollgate export openslo writes, bring back
  the namespace and the rest of the spec (on the Service) and Istio presets (on an SLI).
  Refused, naming the document and field: Timeslices and RatioTimeslices budgets, calendar windows,
  months, quarters and years, several or composite objectives, raw ratios, sources other than
  Prometheus. Alerting documents and alertPolicies are left out with a note on stderr.
sloth: Sloth prometheus/v1 specs. One profile per service; each SLO's events (error_query and
  total_query) a ratio indicator. Sloth's files give no window: --window sets it for every SLO, as
  Sloth's --default-slo-period does. Refused: raw SLIs, SLI plugins and SLO plugins. labels and
  alerting are left out with a note on stderr.

Flags:
  -f, --filename FILE    a file to read; repeatable
  -n, --namespace NS     the profiles' namespace, where the OpenSLO Service names none
      --window DURATION  sloth: the SLO window of every SLO (default: 30d)

Exit codes: 0 printed; 1 a file could not be read or holds what cannot be mapped (the message names
the file, the document and the field); 2 a flag is wrong.
`;

export type ImportFormat = "openslo" | "sloth";

export interface ImportArgs {
  format: ImportFormat;
  files: string[];
  namespace: string | undefined;
  window: string;
}

const OPTIONS = {
  filename: { type: "string", short: "f", multiple: true },
  namespace: { type: "string", short: "n" },
  window: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Sloth's default SLO period. */
export const SLOTH_DEFAULT_WINDOW = "30d";

/** The flags of `tollgate import`; "help" for -h. Throws UsageError. */
export function parseImportArgs(argv: readonly string[]): ImportArgs | "help" {
  const parsed = (() => {
    try {
      return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
  })();
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const [format, ...extra] = positionals;
  if (format !== "openslo" && format !== "sloth") throw new UsageError(`import needs a format, openslo or sloth, not ${JSON.stringify(format ?? null)}`);
  if (extra.length > 0) throw new UsageError(`import ${format} takes files with -f, not ${JSON.stringify(extra[0])}`);
  const files = values.filename ?? [];
  if (files.length === 0) throw new UsageError(`import ${format} needs -f FILE`);
  const namespace = values.namespace;
  if (namespace !== undefined && !(namespace.length <= 63 && new RegExp(DNS_LABEL_PATTERN).test(namespace))) {
    throw new UsageError(`-n must be a namespace name, not ${JSON.stringify(namespace)}`);
  }
  if (values.window !== undefined && format !== "sloth") throw new UsageError("--window is for import sloth: an OpenSLO SLO gives its own timeWindow");
  const window = values.window ?? SLOTH_DEFAULT_WINDOW;
  // The bounds of slos[].window, so a wrong window is a flag error rather than every SLO's.
  if (!durationWithin(window, parseDuration("1m"), parseDuration("90d"))) throw new UsageError(`--window must be a duration from 1m to 90d such as 30d or 4w, not ${JSON.stringify(window)}`);
  return { format, files, namespace, window };
}

/** The profiles as YAML documents, each with the namespace when one is known. */
export function renderProfiles(profiles: readonly ImportedProfile[]): string {
  return profiles
    .map((p) =>
      stringify(
        {
          apiVersion: API_VERSION,
          kind: KIND,
          metadata: { name: p.name, ...(p.namespace === undefined ? {} : { namespace: p.namespace }) },
          spec: p.spec,
        },
        { lineWidth: 0 },
      ),
    )
    .join("---\n");
}

export interface ConvertIo {
  /** A file's text; "-" is stdin. */
  read(path: string): Promise<string>;
  write(text: string): void;
  /** A line for stderr. */
  warn(line: string): void;
  help(): void;
}

/** Reads each file, naming it in the error when it cannot be read; "-" is called stdin. */
export async function readSources(files: readonly string[], io: Pick<ConvertIo, "read">): Promise<SourceText[]> {
  const out: SourceText[] = [];
  for (const file of files) {
    try {
      out.push({ source: file === "-" ? "stdin" : file, text: await io.read(file) });
    } catch (err) {
      throw new InputError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

/** Runs a conversion, turning its refusal into InputError (exit 1). */
export function converting<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConversionError) throw new InputError(err.message);
    throw err;
  }
}

/** `tollgate import ARGS`. Throws UsageError (exit 2) or InputError (exit 1). */
export async function importCommand(argv: readonly string[], io: ConvertIo): Promise<void> {
  const args = parseImportArgs(argv);
  if (args === "help") return io.help();
  const sources = await readSources(args.files, io);
  const result: ImportResult = converting(() =>
    args.format === "openslo"
      ? importOpenSlo(sources, args.namespace === undefined ? {} : { namespace: args.namespace })
      : importSloth(sources, { window: args.window, ...(args.namespace === undefined ? {} : { namespace: args.namespace }) }),
  );
  for (const note of result.notes) io.warn(`tollgate: note: ${note}`);
  io.write(renderProfiles(result.profiles));
}
