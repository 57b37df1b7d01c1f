import { parseArgs } from "node:util";
import { parseAllDocuments } from "yaml";
import { KIND } from "../api/meta.ts";
import { DNS_LABEL_PATTERN } from "../api/names.ts";
import { validateSpec } from "../api/validate.ts";
import { exportProfile, openSloYaml } from "../openslo/export.ts";
import { isObject, type Obj } from "../openslo/fields.ts";
import type { OpenSloDocument } from "../openslo/types.ts";
import { InputError, UsageError } from "./flags.ts";
import { converting, readSources, type ConvertIo } from "./import.ts";
import { profilesFromYaml } from "./rules.ts";

/** `tollgate export openslo`: PerformanceProfiles as OpenSLO v1 documents on stdout; the conversion is src/openslo/export.ts. */

export const EXPORT_USAGE = `Usage: tollgate export openslo -f FILE [-f FILE ...] [-n NS]

Prints each PerformanceProfile in FILE (other kinds skipped, a kubectl List too; - reads stdin) as
OpenSLO v1 documents: a Service named after the profile, a Prometheus DataSource when the profile
names its Prometheus (address or connection), and an SLO per SLO (Occurrences, its rolling window,
targetPercent) with its SLI inline, built from the PromQL Tollgate reads:

  istio availability   ratioMetric bad/total of istio_requests_total, as counters
  istio latency        ratioMetric good/total: the duration histogram's bucket at the threshold
                       over its count, as counters
  ratio                ratioMetric bad/total; as counters when each query is
                       sum(rate(<selector>[{{window}}])), else as written with {{window}}, which
                       other OpenSLO tools do not fill in (a note says which)
  latency              thresholdMetric on the histogram, op: lte, value in its unit

What OpenSLO has no field for rides in Tollgate's annotations, so tollgate import openslo brings the
profile back: tollgate.dev/namespace and tollgate.dev/spec (policy, canary, trafficPolicy,
autoscaling, Prometheus options, a targetRef other than the profile's name) on the Service, and
tollgate.dev/indicator on the SLI of an Istio preset (whose queries name the workload, its namespace
and, with a canary, <target>-primary). Other OpenSLO tools read the SLOs and their queries only.
Not kept: durations come back in their shortest spelling (a threshold of 1000ms as 1s, a window of
1h30m as 90m), and fields the operator would ignore.

Flags:
  -f, --filename FILE    a file of PerformanceProfiles; repeatable
  -n, --namespace NS     namespace of profiles that name none (default: default); the Istio
                         presets' queries name it

Exit codes: 0 printed; 1 a file could not be read, a profile is invalid or cannot be written as
OpenSLO (the message names the file, the profile and the field); 2 a flag is wrong.
`;

export interface ExportArgs {
  files: string[];
  namespace: string | undefined;
}

const OPTIONS = {
  filename: { type: "string", short: "f", multiple: true },
  namespace: { type: "string", short: "n" },
  help: { type: "boolean", short: "h" },
} as const;

/** The flags of `tollgate export`; "help" for -h. Throws UsageError. */
export function parseExportArgs(argv: readonly string[]): ExportArgs | "help" {
  const { values, positionals } = (() => {
    try {
      return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
  })();
  if (values.help) return "help";
  const [format, ...extra] = positionals;
  if (format !== "openslo") throw new UsageError(`export needs a format, openslo, not ${JSON.stringify(format ?? null)}`);
  if (extra.length > 0) throw new UsageError(`export openslo takes files with -f, not ${JSON.stringify(extra[0])}`);
  const files = values.filename ?? [];
  if (files.length === 0) throw new UsageError("export openslo needs -f FILE");
  const namespace = values.namespace;
  if (namespace !== undefined && !(namespace.length <= 63 && new RegExp(DNS_LABEL_PATTERN).test(namespace))) {
    throw new UsageError(`-n must be a namespace name, not ${JSON.stringify(namespace)}`);
  }
  return { files, namespace };
}

/**
 * The specs of the file's PerformanceProfiles as written, in the order profilesFromYaml finds them:
 * the annotation carries the user's own spelling of policy, canary and the rest, not every default.
 */
function rawSpecs(text: string): Obj[] {
  const out: Obj[] = [];
  for (const doc of parseAllDocuments(text)) {
    const value: unknown = doc.toJS();
    if (!isObject(value)) continue;
    const objects: unknown[] = value.kind === "List" && Array.isArray(value.items) ? value.items : [value];
    for (const obj of objects) if (isObject(obj) && obj.kind === KIND) out.push(isObject(obj.spec) ? obj.spec : {});
  }
  return out;
}

/** `tollgate export ARGS`. Throws UsageError (exit 2) or InputError (exit 1). */
export async function exportCommand(argv: readonly string[], io: ConvertIo): Promise<void> {
  const args = parseExportArgs(argv);
  if (args === "help") return io.help();
  const documents: OpenSloDocument[] = [];
  for (const { source, text } of await readSources(args.files, io)) {
    // Validated as tollgate rules validates them, with the same messages.
    const profiles = profilesFromYaml(text, source, args.namespace ?? "default");
    if (profiles.length === 0) throw new InputError(`${source}: no ${KIND} in it`);
    const raw = rawSpecs(text);
    profiles.forEach(({ where, profile }, i) => {
      const spec = raw[i] ?? {};
      // profilesFromYaml validated this spec; validating it again gives all of it, Prometheus included.
      const valid = validateSpec(spec);
      if (!valid.ok) throw new InputError(`${where}: ${valid.message}`);
      const out = converting(() => exportProfile({ where, name: profile.name, namespace: profile.namespace, spec: valid.spec, raw: spec }));
      for (const note of out.notes) io.warn(`tollgate: note: ${note}`);
      documents.push(...out.documents);
    });
  }
  io.write(openSloYaml(documents));
}
