import { describe, expect, it } from "vitest";
import type { Notification as Receiver } from "../../api/notifications.ts";
import type { OutboxEntry, ProfileStatus } from "../../api/status.ts";
import type { ActContext, Actuators } from "../../kube/actuators/actuator.ts";
import type { Action } from "../../kube/actuators/actions.ts";
import { silentLogger } from "../../log.ts";
import type { DeliveryResult } from "../../notify/notifier.ts";
import type { Notification } from "../../notify/messages.ts";
import { act, DeliveredMemory, MAX_DELIVERY_ATTEMPTS, retryDelayMs, type ActDeps } from "./act.ts";
import { outboxEntries } from "./outbox.ts";
import { NS, profile } from "./test-builders.ts";
import { gameSpec } from "../../policy/test-builders.ts";

const NOW = new Date("2026-11-22T08:00:00Z");
const freeze: Action = { kind: "deployment", op: "freeze", name: "game-service", reason: "BudgetExhausted", message: "104 %" };
const rules: Action = { kind: "rules", op: "ensure" };
const hpa: Action = { kind: "hpa", op: "delete", name: "game-service" };
const receivers: Receiver[] = [
  { name: "pager", type: "webhook", url: "http://127.0.0.1:1/pager", events: ["Frozen"] },
  { name: "chat", type: "webhook", url: "http://127.0.0.1:1/chat", events: ["Frozen", "Warning"] },
];
const outbox = (): OutboxEntry[] =>
  outboxEntries("uid-game", NOW, [
    { action: "event", type: "Warning", reason: "BudgetExhausted", message: "frozen" },
    { action: "notify", event: "Frozen", severity: "critical", summary: "frozen", dedupKey: "tollgate/games/game/x", details: { consumedPercent: 104 } },
  ]);

/** A cluster, an event sink and receivers in memory: every call is logged in order. */
function fakes(opts: { failOn?: (a: Action) => boolean; answer?: (receiver: string, attempt: number) => Pick<DeliveryResult, "ok" | "permanent" | "error"> } = {}) {
  const log: string[] = [];
  const sent: Array<{ receiver: string; id: string }> = [];
  const tries = new Map<string, number>();
  const actuator = {
    act: async (a: Action) => {
      if (opts.failOn?.(a)) throw new Error(`refused: ${a.kind}`);
      log.push(a.kind === "deployment" ? `${a.op} ${"name" in a ? a.name : ""}` : `${a.kind} ${a.op}`);
      return true;
    },
  };
  const deps: ActDeps = {
    actuators: { finalizer: actuator, deployment: actuator, istio: actuator, hpa: actuator, rules: actuator } as Actuators,
    events: { record: async (_obj, _type, reason, _message, o) => void log.push(`event ${reason} ${o?.id ?? ""}`) },
    notifier: {
      deliver: async (list, n: Notification, o) =>
        list
          .filter((r) => r.events.includes(n.event) && !(o?.skip ?? []).includes(r.name))
          .map((r) => {
            const attempt = (tries.get(r.name) ?? 0) + 1;
            tries.set(r.name, attempt);
            const a = opts.answer?.(r.name, attempt) ?? { ok: true, permanent: false };
            if (a.ok) sent.push({ receiver: r.name, id: n.id });
            log.push(`notify ${n.event} ${r.name}`);
            return { receiver: r.name, type: r.type, event: n.event, attempts: 1, ...a };
          }),
    },
    metrics: { actions: { inc: () => undefined } as unknown as ActDeps["metrics"]["actions"] },
  };
  return { deps, log, sent };
}

function ctx(signal = new AbortController().signal): ActContext {
  return {
    namespace: NS,
    profile: profile("game", gameSpec()),
    deployments: new Map(),
    replicaSets: [],
    current: { virtualService: () => undefined, destinationRule: () => undefined, hpa: () => undefined },
    signal,
    log: silentLogger(),
  };
}

const recorded = (entries = outbox()): ProfileStatus => ({ phase: "Frozen", outbox: entries });

describe("act", () => {
  it("carries out the actions in order, then the Events, then the notifications, and empties the outbox", async () => {
    const f = fakes();
    const done = await act(f.deps, ctx(), [rules, freeze], recorded(), receivers, NOW);
    expect(f.log).toEqual(["rules ensure", "freeze game-service", `event BudgetExhausted ${outbox()[0]!.id}`, "notify Frozen pager", "notify Frozen chat"]);
    expect(done.outbox).toEqual([]);
    expect(done.failed).toBeUndefined();
    expect(done.notifications).toEqual([{ event: "Frozen", sentAt: NOW.toISOString(), receivers: ["pager", "chat"] }]);
  });

  it("stops at the first failed action: nothing after it runs, and nothing is told", async () => {
    const f = fakes({ failOn: (a) => a.kind === "deployment" });
    const done = await act(f.deps, ctx(), [rules, freeze, hpa], recorded(), receivers, NOW);
    expect(f.log).toEqual(["rules ensure"]);
    expect(done.failed?.action).toBe("freeze Deployment game-service");
    expect(done.outbox).toEqual(outbox());
    expect(f.sent).toEqual([]);
  });

  it("after a crash between two actions, the retried pass repeats the actions and tells each transition once", async () => {
    let crashed = false;
    const f = fakes({ failOn: (a) => a.kind === "hpa" && !crashed });
    const first = await act(f.deps, ctx(), [freeze, hpa], recorded(), receivers, NOW);
    expect(first.failed).toBeDefined();
    crashed = true;
    // The new pass plans from the recorded status: the same level-triggered actions, the same outbox.
    const second = await act(f.deps, ctx(), [freeze, hpa], recorded(first.outbox), receivers, NOW);
    expect(second.outbox).toEqual([]);
    expect(f.log.filter((l) => l.startsWith("freeze"))).toHaveLength(2);
    expect(f.sent.map((s) => s.receiver)).toEqual(["pager", "chat"]);
    expect(new Set(f.sent.map((s) => s.id))).toEqual(new Set([outbox()[1]!.id]));
  });

  it("keeps a notification a receiver did not take, and next time sends it only to that receiver", async () => {
    const f = fakes({ answer: (r, attempt) => (r === "chat" && attempt === 1 ? { ok: false, permanent: false, error: "HTTP 503" } : { ok: true, permanent: false }) });
    const first = await act(f.deps, ctx(), [], recorded(), receivers, NOW);
    expect(first.outbox).toEqual([{ ...outbox()[1], attempts: 1, notBefore: "2026-11-22T08:00:05.000Z", delivered: ["pager"], lastError: "chat: HTTP 503" }]);
    // A pass before notBefore (another event brought the profile back) leaves it be.
    const early = await act(f.deps, ctx(), [], recorded(first.outbox), receivers, new Date(NOW.getTime() + 1_000));
    expect(early.outbox).toEqual(first.outbox);
    expect(f.sent.map((s) => s.receiver)).toEqual(["pager"]);
    const second = await act(f.deps, ctx(), [], recorded(first.outbox), receivers, new Date(NOW.getTime() + 5_000));
    expect(second.outbox).toEqual([]);
    expect(f.sent.map((s) => s.receiver)).toEqual(["pager", "chat"]);
    expect(second.notifications).toEqual([{ event: "Frozen", sentAt: new Date(NOW.getTime() + 5_000).toISOString(), receivers: ["pager", "chat"] }]);
  });

  it("never sends a notification twice to a receiver that took it, even while the status cannot record it", async () => {
    const f = fakes();
    const deps = { ...f.deps, delivered: new DeliveredMemory() };
    await act(deps, ctx(), [], recorded(), receivers, NOW);
    // The status write that would drop the entry failed (the API server is down): the next pass replans
    // from the recorded outbox, which still holds it.
    const again = await act(deps, ctx(), [], recorded(), receivers, NOW);
    expect(again.outbox).toEqual([]);
    expect(f.sent.map((s) => s.receiver)).toEqual(["pager", "chat"]);
  });

  it("finishes a notification a receiver refused for good, with the error in status", async () => {
    const f = fakes({ answer: (r) => (r === "chat" ? { ok: false, permanent: true, error: "HTTP 404" } : { ok: true, permanent: false }) });
    const done = await act(f.deps, ctx(), [], recorded(), receivers, NOW);
    expect(done.outbox).toEqual([]);
    expect(done.notifications).toEqual([{ event: "Frozen", sentAt: NOW.toISOString(), receivers: ["pager"], error: "chat: HTTP 404" }]);
  });

  it(`gives a notification up after ${MAX_DELIVERY_ATTEMPTS} passes`, async () => {
    const f = fakes({ answer: () => ({ ok: false, permanent: false, error: "HTTP 503" }) });
    let status = recorded();
    let now = NOW;
    for (let pass = 1; pass < MAX_DELIVERY_ATTEMPTS; pass++) {
      const done = await act(f.deps, ctx(), [], status, receivers, now);
      expect(done.outbox.map((e) => e.attempts)).toEqual([pass]);
      const next = new Date(done.outbox[0]!.notBefore!);
      expect(next.getTime() - now.getTime()).toBe(retryDelayMs(pass));
      now = next;
      status = recorded(done.outbox);
    }
    expect(now.getTime() - NOW.getTime()).toBeGreaterThan(10 * 60_000);
    const last = await act(f.deps, ctx(), [], status, receivers, now);
    expect(last.outbox).toEqual([]);
    expect(last.notifications?.[0]?.error).toContain("HTTP 503");
  });

  it("removes the finalizer only after the outbox is done", async () => {
    const f = fakes({ answer: () => ({ ok: false, permanent: false, error: "HTTP 503" }) });
    const remove: Action = { kind: "finalizer", op: "remove" };
    const waiting = await act(f.deps, ctx(), [rules, remove], recorded(), receivers, NOW);
    expect(f.log).not.toContain("finalizer remove");
    expect(waiting.outbox).toHaveLength(1);
    const g = fakes();
    await act(g.deps, ctx(), [rules, remove], recorded(), receivers, NOW);
    expect(g.log.at(-1)).toBe("finalizer remove");
  });

  it("does nothing once the leadership term has ended", async () => {
    const f = fakes();
    const term = new AbortController();
    term.abort(new Error("leadership lost"));
    await expect(act(f.deps, ctx(term.signal), [freeze], recorded(), receivers, NOW)).rejects.toThrow("leadership lost");
    expect(f.log).toEqual([]);
  });
});
