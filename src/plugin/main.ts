#!/usr/bin/env node
import { InputError, UsageError } from "../cli/flags.ts";
import { VERSION } from "../version.ts";
import { canaryCommand } from "./canary.ts";
import { evaluateCommand } from "./evaluate.ts";
import { explainCommand } from "./explain.ts";
import { lintCommand } from "./lint.ts";
import { overrideCommand } from "./override.ts";
import { budgetSparklines } from "./prometheus.ts";
import { statusCommand } from "./status.ts";
import { readInput } from "../cli/read-input.ts";

/**
 * `kubectl-tollgate`: kubectl runs any `kubectl-<name>` on the PATH as `kubectl <name>`, with the
 * arguments after the name. Exit codes for scripts: 0 done, 1 an error (not found, refused, invalid
 * input), 2 a wrong flag or command.
 */

const USAGE = `kubectl tollgate ${VERSION}: Tollgate's error budgets from kubectl

Usage: kubectl tollgate <command> [flags]

Commands:
  status     profiles' phase, budget, freeze, override, canary and last decision; with a name, each SLO
  explain    the PromQL Tollgate runs for each SLO and window, with the values now (--prometheus)
  lint       check profile files as the API server and the operator would
  evaluate   what the budget policy would decide now for a profile file, from Prometheus, no cluster
  override   set or clear the break-glass override of a freeze (tollgate.dev/override-freeze)
  canary     promote, abort or retry the current canary run (tollgate.dev/canary-command)
  version    print the version

Run 'kubectl tollgate <command> --help' for a command's flags.
Exit codes: 0 done; 1 an error (not found, refused, invalid input); 2 a wrong flag or command.
`;

/** The commands, for the usage hint after a wrong flag. */
const COMMANDS = ["status", "explain", "lint", "evaluate", "override", "canary", "version"];

const io = {
  out: (text: string) => void process.stdout.write(text),
  err: (text: string) => void process.stderr.write(text),
  now: () => new Date(),
  sparklines: budgetSparklines,
  read: readInput,
};


async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "status":
      return statusCommand(rest, io);
    case "explain":
      return explainCommand(rest, io);
    case "lint":
      return lintCommand(rest, io);
    case "evaluate":
      return evaluateCommand(rest, io);
    case "override":
      return overrideCommand(rest, io);
    case "canary":
      return canaryCommand(rest, io);
    case "version":
    case "--version":
      io.out(`${VERSION}\n`);
      return;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      io.out(USAGE);
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError) {
      const command = process.argv[2];
      const help = command !== undefined && COMMANDS.includes(command) ? `kubectl tollgate ${command} --help` : "kubectl tollgate --help";
      io.err(`kubectl tollgate: ${err.message}\nRun '${help}' for usage.\n`);
      process.exit(2);
    }
    if (err instanceof InputError) {
      io.err(`kubectl tollgate: ${err.message}\n`);
      process.exit(1);
    }
    io.err(`kubectl tollgate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
