import { describe, expect, it } from "vitest";
import { MAX_OUTBOX } from "../../api/status.ts";
import { appendOutbox, entryDetails, outboxEntries, withOutbox, type Signal } from "./outbox.ts";

const NOW = new Date("2026-11-22T08:00:00Z");
const event = (reason: string): Signal => ({ action: "event", type: "Normal", reason, message: reason });
const note: Signal = { action: "notify", event: "Frozen", severity: "critical", summary: "frozen", dedupKey: "k", details: { consumedPercent: 104.2, slo: "availability" } };

describe("outboxEntries", () => {
  it("gives the same ids to the same pass planned again, and different ids to any two signals", () => {
    const a = outboxEntries("uid", NOW, [event("A"), event("A"), note]);
    expect(outboxEntries("uid", NOW, [event("A"), event("A"), note])).toEqual(a);
    expect(new Set(a.map((e) => e.id)).size).toBe(3);
    expect(outboxEntries("uid", new Date(NOW.getTime() + 1), [event("A")])[0]!.id).not.toBe(a[0]!.id);
    expect(outboxEntries("other", NOW, [event("A")])[0]!.id).not.toBe(a[0]!.id);
  });

  it("keeps a notification's details, numbers as numbers", () => {
    const [entry] = outboxEntries("uid", NOW, [note]);
    expect(entry).toMatchObject({ kind: "Notification", reason: "Frozen", severity: "critical", dedupKey: "k", at: NOW.toISOString() });
    expect(entryDetails(entry!)).toEqual({ consumedPercent: 104.2, slo: "availability" });
    expect(entryDetails({ ...entry!, details: "not json" })).toEqual({});
  });
});

describe("appendOutbox", () => {
  it("keeps what earlier passes left first, and adds an entry already there only once", () => {
    const old = outboxEntries("uid", NOW, [event("Old")]);
    const added = outboxEntries("uid", new Date(NOW.getTime() + 1000), [event("New")]);
    expect(appendOutbox({ outbox: old }, [...old, ...added]).map((e) => e.reason)).toEqual(["Old", "New"]);
  });

  it("stays bounded, dropping the oldest Events before any notification", () => {
    const notes = outboxEntries("uid", NOW, Array.from({ length: 4 }, () => note));
    const events = outboxEntries("uid", NOW, Array.from({ length: MAX_OUTBOX }, (_, i) => event(`E${i}`)));
    const all = appendOutbox({ outbox: notes }, events);
    expect(all).toHaveLength(MAX_OUTBOX);
    expect(all.filter((e) => e.kind === "Notification")).toHaveLength(4);
    expect(all.at(-1)?.reason).toBe(`E${MAX_OUTBOX - 1}`);
  });
});

describe("withOutbox", () => {
  it("leaves the field out when the outbox is empty", () => {
    expect(withOutbox({ phase: "Healthy", outbox: outboxEntries("uid", NOW, [event("A")]) }, [])).toEqual({ phase: "Healthy" });
  });
});
