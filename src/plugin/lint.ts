import { stringify } from "yaml";
import { InputError, UsageError } from "../cli/flags.ts";
import { HELP_OPTION, namespaceFlag, output, parse } from "./args.ts";
import { lintText, lintYaml, type LintResult } from "./lint-check.ts";

export const LINT_USAGE = `Usage: kubectl tollgate lint -f FILE [-f FILE ...] [-n NS] [-o json|yaml]

Checks the PerformanceProfiles in each FILE (several documents, a kubectl List, other kinds skipped;
- reads stdin) offline, with the checks and messages the API server and the operator share:
  - every CEL rule of the CRD, with the CRD's own message (each is stated twice, in CEL and in
    TypeScript, e.g. unfreezeBelow < warnAt <= freezeAt < rollbackAt);
  - the fields, their types, bounds and formats: the CRD's schema is generated from the zod schema
    the operator validates with, so the same values are refused, though the API server words a
    schema refusal its own way (\`Invalid value: ...: must be ...\`) where this prints zod's words;
  - unknown fields, which kubectl apply refuses (strict field validation);
  - SLOs the API server admits but the operator cannot turn into PromQL (Ready=False, InvalidSpec).

Only the cluster can check: that the CRD installed there is this version's, admission webhooks and
policies, quotas and RBAC, that the namespace and target Deployment exist, that no other profile
governs that Deployment (TargetClaimed), and what the operator's flags allow (spec.prometheus
addresses and headers, canary hosts and gateways). Use kubectl apply --dry-run=server for the first
few, and 'kubectl tollgate explain -f FILE --prometheus URL' for whether the queries return data.

Flags:
  -f, --filename FILE    a file of PerformanceProfiles; repeatable
  -n, --namespace NS     namespace of profiles that name none (default: default)
  -o, --output FORMAT    json or yaml: {"items": [{where, name, namespace, ok, field, message}]}

Exit codes: 0 every profile is valid; 1 a profile is invalid, a file cannot be read or holds no
profile; 2 a flag is wrong.
`;

export interface LintIo {
  out(text: string): void;
  read(path: string): Promise<string>;
}

const OPTIONS = {
  ...HELP_OPTION,
  filename: { type: "string", short: "f", multiple: true },
  namespace: { type: "string", short: "n" },
  output: { type: "string", short: "o" },
} as const;

/** `kubectl tollgate lint`. Resolves when every profile is valid; InputError (exit 1) after printing otherwise. */
export async function lintCommand(argv: readonly string[], io: LintIo): Promise<void> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return io.out(LINT_USAGE);
  if (positionals.length > 0) throw new UsageError(`lint takes files with -f, not ${positionals.join(" ")}`);
  const files = values.filename ?? [];
  if (files.length === 0) throw new UsageError("lint needs -f FILE");
  const format = output(values.output);
  const namespace = namespaceFlag(values.namespace) ?? "default";
  const results: LintResult[] = [];
  for (const file of files) {
    const source = file === "-" ? "stdin" : file;
    let text: string;
    try {
      text = await io.read(file);
    } catch (err) {
      throw new InputError(`cannot read ${source}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const found = lintYaml(text, source, namespace);
    if (found.length === 0) throw new InputError(`${source}: no PerformanceProfile in it`);
    results.push(...found);
  }
  if (format === "json") io.out(`${JSON.stringify({ items: results }, null, 2)}\n`);
  else if (format === "yaml") io.out(stringify({ items: results }, { lineWidth: 0 }));
  else io.out(lintText(results));
  const invalid = results.filter((r) => !r.ok).length;
  if (invalid > 0) throw new InputError(`${invalid} of ${results.length} profile${results.length === 1 ? "" : "s"} invalid`);
}
