import type { ChildProcess } from "node:child_process";

// Every operator and simulator a test, the demo or a benchmark starts is registered here, so none
// outlives the process that started it: a failed demo once left its operator reconciling against the
// next cluster on the same ports.
const live = new Set<ChildProcess>();

/** Registers a child to be killed when this process exits, however it exits. */
export function track<T extends ChildProcess>(child: T): T {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** The children still running; for tests of this module. */
export function liveChildren(): number {
  return live.size;
}

// 'exit' runs on a normal end, process.exit() and an uncaught error; only synchronous work is possible
// there, and kill() is synchronous.
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/**
 * For scripts: a signal (Ctrl-C, a CI timeout's SIGTERM) ends the process through process.exit, so the
 * 'exit' hook above runs; Node's default signal handling would skip it. A script that listens for the
 * signal itself (the demo's --keep waits for Ctrl-C) keeps that behaviour.
 */
export function exitOnSignals(): void {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.on(signal, () => {
      if (process.listenerCount(signal) === 1) process.exit(code);
    });
  }
}
