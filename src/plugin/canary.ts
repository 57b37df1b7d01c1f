import { stringify } from "yaml";
import { CANARY_COMMAND_ANNOTATION, CANARY_COMMANDS, type CanaryCommandName } from "../canary/command.ts";
import { InputError, UsageError } from "../cli/flags.ts";
import { Resources } from "../kube/resources.ts";
import type { KubeObject } from "../kube/types.ts";
import { CLUSTER_OPTIONS, HELP_OPTION, namespaceFlag, oneName, output, parse } from "./args.ts";
import { canaryRequest, canaryRequestText } from "./canary-request.ts";
import { apiFailure, connect, getProfile, PLUGIN_FIELD_MANAGER, whoAmI } from "./kube.ts";

export const CANARY_USAGE = `Usage: kubectl tollgate canary promote|abort|retry NAME [--reason TEXT] [-n NS] [-o json|yaml]

Asks the operator to act on the profile's current canary run, through the ${CANARY_COMMAND_ANNOTATION}
annotation, which names that run (its template hash and start), so the operator acts on it once and
never on a later run:
  promote   promote the canary in progress now, without its remaining steps and checks; refused
            while rollouts are frozen, as the operator would hold it
  abort     fail the canary in progress now: primary gets the replicas to carry all traffic, then
            takes it, and the canary is scaled to 0 (a CanaryFailed notification goes out)
  retry     run a failed canary of the same template again from its first step; refused while frozen
The operator records each in an event naming who asked (from a SelfSubjectReview) and why.

Flags:
      --reason TEXT       why, for the event
  -n, --namespace NS      the profile's namespace (default: the context's, else default)
  -o, --output FORMAT     json or yaml: {namespace, name, command: {command, templateHash, startedAt, by, reason}}
      --kubeconfig PATH   kubeconfig (default: KUBECONFIG, else ~/.kube/config)
      --context NAME      kubeconfig context

Exit codes: 0 asked; 1 the profile does not exist, its canary is in no state for the command, or the
API server refused; 2 a flag is wrong.
`;

export interface CanaryIo {
  out(text: string): void;
  now(): Date;
}

const OPTIONS = { ...CLUSTER_OPTIONS, ...HELP_OPTION, reason: { type: "string" }, output: { type: "string", short: "o" } } as const;

export function parseCanaryArgs(argv: readonly string[]) {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return "help" as const;
  const [command, ...rest] = positionals;
  if (command === undefined || !(CANARY_COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(`canary needs one of ${CANARY_COMMANDS.join(", ")}${command === undefined ? "" : `, not ${JSON.stringify(command)}`}`);
  }
  return {
    command: command as CanaryCommandName,
    name: oneName(`canary ${command}`, rest),
    reason: values.reason ?? "",
    namespace: namespaceFlag(values.namespace),
    output: output(values.output),
    kubeconfig: values.kubeconfig,
    context: values.context,
  };
}

interface Profile extends KubeObject {
  status?: unknown;
}

/** `kubectl tollgate canary promote|abort|retry NAME`. */
export async function canaryCommand(argv: readonly string[], io: CanaryIo): Promise<void> {
  const args = parseCanaryArgs(argv);
  if (args === "help") return io.out(CANARY_USAGE);
  const { client, namespace } = connect(args);
  const target = `PerformanceProfile ${namespace}/${args.name}`;
  const PP = Resources.PerformanceProfile;
  const profile = await getProfile<Profile>(client, namespace, args.name, target);
  const by = await whoAmI(client, "the canary command records as \"by\"");
  const request = canaryRequest({ command: args.command, status: profile.status, annotations: profile.metadata?.annotations, by, reason: args.reason, now: io.now() });
  if (!request.ok) throw new InputError(`${target}: ${request.problem}`);
  try {
    await client.patch(PP, namespace, args.name, { metadata: { annotations: { [CANARY_COMMAND_ANNOTATION]: request.value } } }, { fieldManager: PLUGIN_FIELD_MANAGER });
  } catch (err) {
    throw apiFailure(err, target);
  }
  const doc = { namespace, name: args.name, command: request.command };
  if (args.output === "json") io.out(`${JSON.stringify(doc, null, 2)}\n`);
  else if (args.output === "yaml") io.out(stringify(doc, { lineWidth: 0 }));
  else io.out(canaryRequestText(namespace, args.name, request));
}
