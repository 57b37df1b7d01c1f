import { stringify } from "yaml";
import { InputError, UsageError } from "../cli/flags.ts";
import { Resources } from "../kube/resources.ts";
import type { KubeObject } from "../kube/types.ts";
import { OVERRIDE_ANNOTATION, OVERRIDE_MAX, parseOverride } from "../policy/override.ts";
import { CLUSTER_OPTIONS, HELP_OPTION, namespaceFlag, oneName, output, parse } from "./args.ts";
import { apiFailure, connect, getProfile, PLUGIN_FIELD_MANAGER, whoAmI } from "./kube.ts";
import { overrideClearedText, overridePatch, overrideSetText, overrideValue } from "./override-value.ts";

export const OVERRIDE_USAGE = `Usage: kubectl tollgate override NAME --reason TEXT --for DURATION [-n NS] [-o json|yaml]
       kubectl tollgate override NAME --clear [-n NS] [-o json|yaml]

Break glass: sets the ${OVERRIDE_ANNOTATION} annotation on the PerformanceProfile, which lifts its
freeze until the override expires (the operator records it in status.freeze.override and an event;
at expiry the freeze applies again if the budget still warrants it). "by" is who the API server says
you are (a SelfSubjectReview), "expires" is now plus --for. An override may last at most ${OVERRIDE_MAX}:
a longer --for is refused here, as the operator would refuse it. --clear removes the annotation.

Flags:
      --reason TEXT       why: an incident, a hotfix (required to set)
      --for DURATION      how long, e.g. 30m, 2h, 1d; at most ${OVERRIDE_MAX} (required to set)
      --clear             remove the override instead
  -n, --namespace NS      the profile's namespace (default: the context's, else default)
  -o, --output FORMAT     json or yaml: {namespace, name, override: {by, reason, expires} | null}
      --kubeconfig PATH   kubeconfig (default: KUBECONFIG, else ~/.kube/config)
      --context NAME      kubeconfig context

Needs: patch on performanceprofiles.tollgate.dev in the namespace, and create on
selfsubjectreviews.authentication.k8s.io (every authenticated user has it by default).
Exit codes: 0 set or cleared; 1 the profile does not exist, the API server refused, or the override
would not be honoured (past the cap); 2 a flag is wrong.
`;

export interface OverrideIo {
  out(text: string): void;
  now(): Date;
}

const OPTIONS = {
  ...CLUSTER_OPTIONS,
  ...HELP_OPTION,
  reason: { type: "string" },
  for: { type: "string" },
  clear: { type: "boolean" },
  output: { type: "string", short: "o" },
} as const;

export function parseOverrideArgs(argv: readonly string[]) {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return "help" as const;
  const name = oneName("override", positionals);
  const clear = values.clear ?? false;
  if (clear && (values.reason !== undefined || values.for !== undefined)) throw new UsageError("override takes --clear, or --reason and --for, not both");
  if (!clear && (values.reason === undefined || values.for === undefined)) throw new UsageError("override needs --reason TEXT and --for DURATION (or --clear)");
  return {
    name,
    clear,
    reason: values.reason ?? "",
    duration: values.for ?? "",
    namespace: namespaceFlag(values.namespace),
    output: output(values.output),
    kubeconfig: values.kubeconfig,
    context: values.context,
  };
}

interface Profile extends KubeObject {
  status?: { freeze?: unknown };
}

/** `kubectl tollgate override`. */
export async function overrideCommand(argv: readonly string[], io: OverrideIo): Promise<void> {
  const args = parseOverrideArgs(argv);
  if (args === "help") return io.out(OVERRIDE_USAGE);
  const { client, namespace } = connect(args);
  const target = `PerformanceProfile ${namespace}/${args.name}`;
  const PP = Resources.PerformanceProfile;
  const profile = await getProfile<Profile>(client, namespace, args.name, target);
  const print = (override: unknown, text: string) => {
    const doc = { namespace, name: args.name, override };
    if (args.output === "json") io.out(`${JSON.stringify(doc, null, 2)}\n`);
    else if (args.output === "yaml") io.out(stringify(doc, { lineWidth: 0 }));
    else io.out(text);
  };

  if (args.clear) {
    const had = profile.metadata?.annotations?.[OVERRIDE_ANNOTATION] !== undefined;
    if (had) {
      try {
        await client.patch(PP, namespace, args.name, overridePatch(null), { fieldManager: PLUGIN_FIELD_MANAGER });
      } catch (err) {
        throw apiFailure(err, target);
      }
    }
    return print(null, overrideClearedText(target, had));
  }

  const by = await whoAmI(client, 'the override records as "by"');
  const now = io.now();
  const value = overrideValue({ by, reason: args.reason, duration: args.duration, now });
  if (!value.ok) throw new InputError(`${target}: ${value.problem}`);
  const previous = parseOverride(profile.metadata?.annotations?.[OVERRIDE_ANNOTATION], now);
  try {
    await client.patch(PP, namespace, args.name, overridePatch(value.value), { fieldManager: PLUGIN_FIELD_MANAGER });
  } catch (err) {
    throw apiFailure(err, target);
  }
  const replaced = previous?.ok ? `Replaced the override by ${previous.override.by} until ${previous.override.expires}.\n` : "";
  print(value.override, overrideSetText(target, value.override, profile.status?.freeze !== undefined) + replaced);
}
