// Who reconciled what when, from the operators' own debug lines: the manager logs "reconcile started" and
// "reconcile ended" around every reconcile, with the key, its shard and (from the operator's logger) the
// identity. Sharding's promise is that no key is ever reconciled by two processes at overlapping times.

/** One reconcile of one key by one process, in epoch ms. */
export interface ReconcileSpan {
  identity: string;
  key: string;
  shard: number | undefined;
  from: number;
  to: number;
  /** No "reconcile ended" line: the process was still in it, or died in it; `to` is the bound given. */
  open: boolean;
}

type LogLine = Record<string, unknown>;

const time = (l: LogLine) => Date.parse(String(l.time));

/**
 * The spans of `identity`'s reconciles of `controller` (default "profile"), from its log lines: each
 * start paired with the next end of the same key. A start with no end is open until `openUntil`: the
 * moment the process was killed, or the audit's now.
 */
export function reconcileSpans(identity: string, lines: readonly LogLine[], openUntil: number, controller = "profile"): ReconcileSpan[] {
  const spans: ReconcileSpan[] = [];
  const running = new Map<string, ReconcileSpan[]>();
  for (const l of lines) {
    if (l.controller !== controller || typeof l.key !== "string") continue;
    if (l.msg === "reconcile started") {
      const span: ReconcileSpan = { identity, key: l.key, shard: typeof l.shard === "number" ? l.shard : undefined, from: time(l), to: openUntil, open: true };
      spans.push(span);
      running.set(l.key, [...(running.get(l.key) ?? []), span]);
    } else if (l.msg === "reconcile ended") {
      const span = running.get(l.key)?.shift();
      if (span) {
        span.to = time(l);
        span.open = false;
      }
    }
  }
  return spans;
}

/** Every pair of spans of one key, by two different identities, that overlap in time (touching counts). */
export function overlaps(spans: readonly ReconcileSpan[]): Array<[ReconcileSpan, ReconcileSpan]> {
  const byKey = new Map<string, ReconcileSpan[]>();
  for (const s of spans) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
  const found: Array<[ReconcileSpan, ReconcileSpan]> = [];
  for (const list of byKey.values()) {
    const sorted = [...list].sort((a, b) => a.from - b.from);
    let active: ReconcileSpan[] = [];
    for (const s of sorted) {
      active = active.filter((a) => a.to >= s.from);
      for (const a of active) if (a.identity !== s.identity) found.push([a, s]);
      active.push(s);
    }
  }
  return found;
}

/** The last time each key of the spans finished a reconcile, if after `since`. */
export function lastReconciled(spans: readonly ReconcileSpan[], since: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of spans) if (!s.open && s.to > since) out.set(s.key, Math.max(out.get(s.key) ?? 0, s.to));
  return out;
}
