import type { OperatorProcess } from "./operator.ts";
import { sleep } from "./wait.ts";

/** Reconciles the operator has finished so far (every controller, every outcome), from its /metrics. */
export async function reconcilesDone(operator: OperatorProcess): Promise<number> {
  const { body } = await operator.http("/metrics");
  return body
    .split("\n")
    .filter((l) => l.startsWith("tollgate_reconcile_duration_seconds_count"))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

export interface HoldOptions {
  /** The profile's evaluation interval. */
  intervalMs: number;
  /** How many evaluation intervals the observation lasts, at least. */
  intervals: number;
  /** With an operator: the observation also lasts until it finished this many more reconciles. */
  operator?: OperatorProcess;
  reconciles?: number;
  /** How often `check` runs; 250 ms unless told. */
  everyMs?: number;
}

/**
 * For "nothing happens" claims: runs `check` over and over for a measured stretch, at least `intervals`
 * evaluation intervals of wall-clock time and, with an operator, at least `reconciles` more reconciles by
 * its own count, so the time observed is time the operator spent working, not waiting. Throws the first
 * failed check, saying when it failed; gives up when the operator does not reconcile enough in six
 * times the stretch. Resolves to what was observed.
 */
export async function holdsFor(description: string, opts: HoldOptions, check: () => Promise<void>): Promise<{ elapsedMs: number; reconciles: number }> {
  const wantMs = opts.intervals * opts.intervalMs;
  const wantReconciles = opts.operator ? (opts.reconciles ?? opts.intervals) : 0;
  const start = Date.now();
  const before = opts.operator ? await reconcilesDone(opts.operator) : 0;
  let reconciles = 0;
  for (;;) {
    const elapsedMs = Date.now() - start;
    try {
      await check();
    } catch (err) {
      // An assertion's message abbreviates objects; the values it compared say what was seen.
      const seen = typeof err === "object" && err !== null && "actual" in err ? ` (actual ${JSON.stringify(err.actual)})` : "";
      throw new Error(`${description}: failed after ${(elapsedMs / 1000).toFixed(1)} s (${reconciles} reconciles): ${err instanceof Error ? err.message : String(err)}${seen}`);
    }
    if (opts.operator) reconciles = (await reconcilesDone(opts.operator)) - before;
    if (elapsedMs >= wantMs && reconciles >= wantReconciles) {
      process.stdout.write(`${description}: held for ${(elapsedMs / 1000).toFixed(1)} s (${(elapsedMs / opts.intervalMs).toFixed(1)} evaluation intervals, ${reconciles} reconciles)\n`);
      return { elapsedMs, reconciles };
    }
    if (elapsedMs > 6 * wantMs) throw new Error(`${description}: the operator finished only ${reconciles} of ${wantReconciles} reconciles in ${(elapsedMs / 1000).toFixed(1)} s`);
    await sleep(opts.everyMs ?? 250);
  }
}
