import { stringify } from "yaml";
import { InputError, UsageError } from "../cli/flags.ts";
import { profilesFromYaml } from "../cli/rules.ts";
import { validateSpec } from "../api/validate.ts";
import type { KubeObject } from "../kube/types.ts";
import { PrometheusError } from "../prometheus/client.ts";
import { answerOf } from "../prometheus/slo-reader.ts";
import type { SloProfile } from "../slo/plan.ts";
import { CLUSTER_OPTIONS, HELP_OPTION, namespaceFlag, output, parse } from "./args.ts";
import { explainJson, explainProfile, explainText, type Explained, type QueryValue } from "./explain-view.ts";
import { connect, getProfile } from "./kube.ts";
import { prometheusAt, prometheusFailure } from "./prometheus.ts";

export const EXPLAIN_USAGE = `Usage: kubectl tollgate explain NAME [-n NS] [--prometheus URL] [-o json|yaml]
       kubectl tollgate explain -f FILE [NAME] [--prometheus URL] [-o json|yaml]

Prints the PromQL Tollgate runs for each SLO of a PerformanceProfile: the error ratio over every
burn-rate window (the SRE Workbook's 5m ... 3d, scaled to the SLO window) and the SLO window itself,
the events over the SLO window, and for ratio indicators the series count of errors and total; each
with the series RecordingRules mode records it as. Built by the operator's own planner, so it is
what runs. With --prometheus, each query is run once, now, and its value printed with the burn rate.

Flags:
  -n, --namespace NS      the profile's namespace (default: the context's, else default)
  -f, --filename FILE     read profiles from FILE instead of the cluster (- for stdin); NAME picks one
      --prometheus URL    run each query against this Prometheus and print the values
  -o, --output FORMAT     json or yaml; a query's value is null without --prometheus or data
      --kubeconfig PATH   kubeconfig (default: KUBECONFIG, else ~/.kube/config)
      --context NAME      kubeconfig context

Exit codes: 0 printed; 1 the profile does not exist or is invalid, or Prometheus cannot be reached;
2 a flag is wrong.
`;

export interface ExplainIo {
  out(text: string): void;
  now(): Date;
  read(path: string): Promise<string>;
}

const OPTIONS = {
  ...CLUSTER_OPTIONS,
  ...HELP_OPTION,
  filename: { type: "string", short: "f" },
  prometheus: { type: "string" },
  output: { type: "string", short: "o" },
} as const;

export function parseExplainArgs(argv: readonly string[]) {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return "help" as const;
  if (positionals.length > 1) throw new UsageError(`explain takes one name, not ${positionals.length}: ${positionals.join(" ")}`);
  const name = positionals[0];
  if (name === undefined && values.filename === undefined) throw new UsageError("explain needs the name of a PerformanceProfile, or -f FILE");
  return {
    name,
    file: values.filename,
    namespace: namespaceFlag(values.namespace),
    prometheus: values.prometheus,
    output: output(values.output),
    kubeconfig: values.kubeconfig,
    context: values.context,
  };
}

/** The profiles to explain: from the file, or the one named from the cluster. */
async function profiles(args: Exclude<ReturnType<typeof parseExplainArgs>, "help">, io: ExplainIo): Promise<SloProfile[]> {
  if (args.file !== undefined) {
    const source = args.file === "-" ? "stdin" : args.file;
    let text: string;
    try {
      text = await io.read(args.file);
    } catch (err) {
      throw new InputError(`cannot read ${source}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const found = profilesFromYaml(text, source, args.namespace ?? "default").map((d) => d.profile);
    const picked = args.name === undefined ? found : found.filter((p) => p.name === args.name);
    if (picked.length === 0) throw new InputError(`${source}: no PerformanceProfile${args.name === undefined ? "" : ` named ${args.name}`} in it`);
    return picked;
  }
  const { client, namespace } = connect(args);
  const name = args.name ?? "";
  const what = `PerformanceProfile ${name} in namespace ${namespace}`;
  const obj = await getProfile<KubeObject & { spec?: unknown }>(client, namespace, name, what);
  const spec = validateSpec(obj.spec);
  if (!spec.ok) throw new InputError(`${what}: ${spec.message}`);
  return [{ namespace, name, spec: spec.spec }];
}

/** Runs every query of the explanations once, at `now`. Unreachable stops all; other failures are per query. */
async function runQueries(url: string, explained: readonly Explained[], now: Date): Promise<Map<string, QueryValue>> {
  const client = prometheusAt(url);
  const values = new Map<string, QueryValue>();
  for (const e of explained) {
    for (const slo of e.slos) {
      for (const q of slo.queries) {
        if (values.has(q.expr)) continue;
        try {
          values.set(q.expr, { value: answerOf(await client.query(q.expr, now)).value });
        } catch (err) {
          if (err instanceof PrometheusError && err.kind !== "unreachable") values.set(q.expr, { error: err.message });
          else throw prometheusFailure(err, "running the queries");
        }
      }
    }
  }
  return values;
}

export async function explainCommand(argv: readonly string[], io: ExplainIo): Promise<void> {
  const args = parseExplainArgs(argv);
  if (args === "help") return io.out(EXPLAIN_USAGE);
  const explained = (await profiles(args, io)).map(explainProfile);
  const values = args.prometheus !== undefined ? await runQueries(args.prometheus, explained, io.now()) : undefined;
  if (args.output === "table") return io.out(explained.map((e) => explainText(e, values)).join("\n"));
  const docs = explained.map((e) => explainJson(e, values));
  const doc = docs.length === 1 ? docs[0] : { items: docs };
  io.out(args.output === "json" ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0 }));
}
