import { stringify } from "yaml";
import { UsageError } from "../cli/flags.ts";
import { isGone } from "../kube/errors.ts";
import { Resources } from "../kube/resources.ts";
import type { KubeObject } from "../kube/types.ts";
import { CLUSTER_OPTIONS, HELP_OPTION, namespaceFlag, output, parse, type Output } from "./args.ts";
import { apiFailure, connect } from "./kube.ts";
import { profileDetail, profilesTable, summarize, type ProfileObject, type ProfileSummary } from "./status-view.ts";

export const STATUS_USAGE = `Usage: kubectl tollgate status [NAME | -A] [-n NS] [-o json|yaml] [--watch]

Prints what Tollgate recorded in each PerformanceProfile's status, one line per profile: phase,
budget consumed and remaining (of the worst SLO), the freeze and since when, a break-glass override
and how long it has left, the canary's phase, step and weight, and the last decision with its reason
(the condition that explains the state now). With NAME, also one line per SLO: verdict, SLI, budget,
events and the burn rate of each window role (5m ... 3d: the SRE Workbook's windows for 30 days,
scaled to the SLO's window; 'explain NAME' lists the windows queried). Nothing is measured here:
the numbers are the operator's last reading.

Flags:
  -n, --namespace NS      the profiles' namespace (default: the context's, else default)
  -A, --all-namespaces    every namespace
  -o, --output FORMAT     json or yaml: {"items": [...]} for a list, the profile itself for NAME;
                          every field always present, null when unknown
  -w, --watch             print again each time a profile changes, until interrupted
      --prometheus URL    with NAME: add each SLO's budget consumed over its window, as a
                          sparkline, from Tollgate's tollgate_slo_budget_consumed_ratio metric
      --kubeconfig PATH   kubeconfig (default: KUBECONFIG, else ~/.kube/config)
      --context NAME      kubeconfig context

Exit codes: 0 printed; 1 the profile does not exist or the API server refused; 2 a flag is wrong.
`;

export interface StatusIo {
  out(text: string): void;
  now(): Date;
  /** Sparklines by SLO for one profile, from Prometheus; absent when --prometheus is not given. */
  sparklines?(url: string, profile: ProfileSummary, now: Date): Promise<Map<string, string>>;
}

const OPTIONS = {
  ...CLUSTER_OPTIONS,
  ...HELP_OPTION,
  "all-namespaces": { type: "boolean", short: "A" },
  output: { type: "string", short: "o" },
  watch: { type: "boolean", short: "w" },
  prometheus: { type: "string" },
} as const;

export interface StatusArgs {
  name: string | undefined;
  namespace: string | undefined;
  all: boolean;
  output: Output;
  watch: boolean;
  prometheus: string | undefined;
  kubeconfig: string | undefined;
  context: string | undefined;
}

export function parseStatusArgs(argv: readonly string[]): StatusArgs | "help" {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return "help";
  if (positionals.length > 1) throw new UsageError(`status takes at most one name, not ${positionals.length}: ${positionals.join(" ")}`);
  const name = positionals[0];
  const all = values["all-namespaces"] ?? false;
  if (all && name !== undefined) throw new UsageError("status takes a NAME or -A, not both");
  if (all && values.namespace !== undefined) throw new UsageError("status takes -n NS or -A, not both");
  if (values.prometheus !== undefined && name === undefined) throw new UsageError("--prometheus draws one profile's sparklines: give a NAME");
  return {
    name,
    namespace: namespaceFlag(values.namespace),
    all,
    output: output(values.output),
    watch: values.watch ?? false,
    prometheus: values.prometheus,
    kubeconfig: values.kubeconfig,
    context: values.context,
  };
}

function render(summaries: readonly ProfileSummary[], args: StatusArgs, now: Date, sparklines?: Map<string, string>): string {
  if (args.output === "json") return `${JSON.stringify(args.name !== undefined ? summaries[0] : { items: summaries }, null, 2)}\n`;
  if (args.output === "yaml") return stringify(args.name !== undefined ? summaries[0] : { items: summaries }, { lineWidth: 0 });
  if (args.name !== undefined && summaries[0]) return profileDetail(summaries[0], now, sparklines);
  return profilesTable(summaries, now, { namespaces: args.all });
}

/** `kubectl tollgate status`. Resolves when printed (with --watch, never: it runs until interrupted). */
export async function statusCommand(argv: readonly string[], io: StatusIo): Promise<void> {
  const args = parseStatusArgs(argv);
  if (args === "help") return io.out(STATUS_USAGE);
  const { client, namespace } = connect(args);
  const ns = args.all ? undefined : namespace;
  const where = args.name !== undefined ? `PerformanceProfile ${args.name} in namespace ${namespace}` : `PerformanceProfiles in ${ns ?? "all namespaces"}`;
  const PP = Resources.PerformanceProfile;

  const show = async (objects: readonly ProfileObject[], opts: { deleted?: boolean; header?: boolean } = {}) => {
    const now = io.now();
    const summaries = objects.map((o) => ({ ...summarize(o, now), ...(opts.deleted ? { phase: "Deleted" } : {}) }));
    const first = summaries[0];
    const sparklines = args.prometheus !== undefined && first && io.sparklines ? await io.sparklines(args.prometheus, first, now) : undefined;
    const text = render(summaries, args, now, sparklines);
    // A list's later changes print as rows under the first table, as `kubectl get -w` does.
    io.out(opts.header === false && args.output === "table" && args.name === undefined ? text.slice(text.indexOf("\n") + 1) : text);
  };

  let resourceVersion: string | undefined;
  const list = async () => {
    try {
      if (args.name !== undefined) {
        const one = await client.get<KubeObject & ProfileObject>(PP, namespace, args.name);
        resourceVersion = one.metadata?.resourceVersion;
        return [one];
      }
      const all = await client.list<KubeObject & ProfileObject>(PP, ns);
      resourceVersion = all.metadata.resourceVersion;
      return all.items;
    } catch (err) {
      throw apiFailure(err, where);
    }
  };

  const objects = await list();
  if (objects.length === 0 && args.output === "table" && !args.watch) {
    io.out(`No PerformanceProfiles in ${ns === undefined ? "any namespace" : `namespace ${ns}`}.\n`);
    return;
  }
  await show(objects);
  if (!args.watch) return;

  // Each change prints the changed profile again, in order; a deleted one with phase Deleted.
  let printing = Promise.resolve();
  for (;;) {
    try {
      await client.watch<KubeObject & ProfileObject>(PP, ns, { resourceVersion }, (event) => {
        resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
        if (event.type === "BOOKMARK") return;
        if (args.name !== undefined && event.object.metadata?.name !== args.name) return;
        const deleted = event.type === "DELETED";
        printing = printing.then(() => show([event.object], { deleted, header: false }));
      });
      await printing;
    } catch (err) {
      if (isGone(err)) {
        await list();
        continue;
      }
      throw apiFailure(err, where);
    }
  }
}
