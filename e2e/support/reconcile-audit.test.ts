import { describe, expect, it } from "vitest";
import { lastReconciled, overlaps, reconcileSpans } from "./reconcile-audit.ts";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();
const line = (msg: string, key: string, ms: number, extra: Record<string, unknown> = {}) => ({ msg, key, controller: "profile", shard: 1, time: at(ms), ...extra });

describe("reconcileSpans", () => {
  it("pairs each start with the next end of its key, and leaves a start without an end open", () => {
    const spans = reconcileSpans(
      "a",
      [
        line("reconcile started", "ns/p", 0),
        line("reconcile started", "ns/q", 5),
        line("reconcile ended", "ns/p", 10),
        line("status written", "ns/q", 12),
        line("reconcile started", "ns/p", 20),
        line("reconcile ended", "ns/q", 30),
        line("reconcile started", "ns/r", 40, { controller: "other" }),
      ],
      T0 + 100,
    );
    expect(spans.map((s) => [s.key, s.from - T0, s.to - T0, s.open])).toEqual([
      ["ns/p", 0, 10, false],
      ["ns/q", 5, 30, false],
      ["ns/p", 20, 100, true],
    ]);
    expect(spans[0]).toMatchObject({ identity: "a", shard: 1 });
  });
});

describe("overlaps", () => {
  it("finds a key reconciled by two identities at once, and only that", () => {
    const a = reconcileSpans("a", [line("reconcile started", "ns/p", 0), line("reconcile ended", "ns/p", 10), line("reconcile started", "ns/q", 0)], T0 + 50);
    const b = reconcileSpans("b", [line("reconcile started", "ns/p", 11), line("reconcile ended", "ns/p", 20), line("reconcile started", "ns/q", 40), line("reconcile ended", "ns/q", 45)], T0 + 50);
    const found = overlaps([...a, ...b]);
    expect(found.map(([x, y]) => [x.identity, y.identity, x.key, y.from - T0])).toEqual([["a", "b", "ns/q", 40]]);
  });

  it("counts spans that touch as overlapping, and ignores one identity's own spans", () => {
    const a = reconcileSpans("a", [line("reconcile started", "ns/p", 0), line("reconcile ended", "ns/p", 10), line("reconcile started", "ns/p", 5), line("reconcile ended", "ns/p", 8)], T0 + 50);
    const b = reconcileSpans("b", [line("reconcile started", "ns/p", 10), line("reconcile ended", "ns/p", 12)], T0 + 50);
    expect(overlaps(a)).toEqual([]);
    expect(overlaps([...a, ...b])).toHaveLength(1);
  });
});

describe("lastReconciled", () => {
  it("gives each key's last finished reconcile after a moment", () => {
    const spans = reconcileSpans("a", [line("reconcile started", "ns/p", 0), line("reconcile ended", "ns/p", 10), line("reconcile started", "ns/p", 20), line("reconcile ended", "ns/p", 30), line("reconcile started", "ns/q", 40)], T0 + 50);
    expect([...lastReconciled(spans, T0 + 5)].map(([k, t]) => [k, t - T0])).toEqual([["ns/p", 30]]);
  });
});
