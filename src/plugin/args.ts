import { parseArgs, type ParseArgsConfig } from "node:util";
import { DNS_LABEL_PATTERN } from "../api/names.ts";
import { UsageError } from "../cli/flags.ts";

/** Flags every command that talks to the cluster takes, as kubectl spells them. */
export const CLUSTER_OPTIONS = {
  namespace: { type: "string", short: "n" },
  kubeconfig: { type: "string" },
  context: { type: "string" },
} as const;

export const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** node:util's parseArgs with its errors (which name the flag) as UsageError: exit 2. */
export function parse<O extends Options>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

export type Output = "table" | "json" | "yaml";

/** -o: json and yaml for scripts; the table (no -o) for people. */
export function output(raw: string | undefined, allowed: readonly Output[] = ["table", "json", "yaml"]): Output {
  const value = raw ?? "table";
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`-o must be ${allowed.filter((o) => o !== "table").join(" or ")}, not ${JSON.stringify(value)}`);
  }
  return value as Output;
}

/** -n as given; refused early when it cannot be a namespace, so the API server's 404 is not the message. */
export function namespaceFlag(raw: string | undefined): string | undefined {
  if (raw !== undefined && !(raw.length <= 63 && new RegExp(DNS_LABEL_PATTERN).test(raw))) {
    throw new UsageError(`-n must be a namespace name, not ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** The one NAME a command takes; UsageError naming the command when there is none or several. */
export function oneName(command: string, positionals: readonly string[]): string {
  const [name, ...rest] = positionals;
  if (name === undefined) throw new UsageError(`${command} needs the name of a PerformanceProfile`);
  if (rest.length > 0) throw new UsageError(`${command} takes one name, not ${positionals.length}: ${positionals.join(" ")}`);
  return name;
}
