import type { PrometheusClient } from "./client.ts";

export type SyntaxVerdict = { ok: true } | { ok: false; message: string } | { ok: "unknown"; error: string };

const MAX_CACHED = 10_000;

/**
 * Checks PromQL with Prometheus's own parser and remembers the verdicts, so a profile's queries are
 * parsed once, not on every reconcile. An unreachable Prometheus gives "unknown" (not cached): the
 * query is neither blamed nor cleared until Prometheus can say.
 */
export class SyntaxChecker {
  private readonly verdicts = new Map<string, { ok: true } | { ok: false; message: string }>();

  async check(client: Pick<PrometheusClient, "checkSyntax">, expr: string): Promise<SyntaxVerdict> {
    const cached = this.verdicts.get(expr);
    if (cached) return cached;
    try {
      const verdict = await client.checkSyntax(expr);
      if (this.verdicts.size >= MAX_CACHED) this.verdicts.clear();
      this.verdicts.set(expr, verdict);
      return verdict;
    } catch (err) {
      return { ok: "unknown", error: err instanceof Error ? err.message : String(err) };
    }
  }
}
