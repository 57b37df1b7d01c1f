import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube/types.ts";
import { changedBeyondStatus } from "./predicates.ts";

const base: KubeObject & { status?: unknown } = {
  metadata: { name: "p", namespace: "ns", uid: "u1", generation: 3, resourceVersion: "10", labels: { a: "1" }, annotations: { b: "2" }, finalizers: ["tollgate.dev/finalizer"] },
  status: { phase: "Healthy" },
};
const edit = (meta: Partial<NonNullable<KubeObject["metadata"]>>, status: unknown = base.status) => ({ ...base, metadata: { ...base.metadata, resourceVersion: "11", ...meta }, status });

describe("changedBeyondStatus", () => {
  it("is false for a status write: only the status and resourceVersion moved", () => {
    expect(changedBeyondStatus(base, edit({}, { phase: "Frozen" }))).toBe(false);
  });

  it("is true for a spec change, and for the metadata a controller acts on", () => {
    expect(changedBeyondStatus(base, edit({ generation: 4 }))).toBe(true);
    expect(changedBeyondStatus(base, edit({ annotations: { b: "2", "tollgate.dev/canary-command": "{}" } }))).toBe(true);
    expect(changedBeyondStatus(base, edit({ labels: {} }))).toBe(true);
    expect(changedBeyondStatus(base, edit({ finalizers: [] }))).toBe(true);
    expect(changedBeyondStatus(base, edit({ deletionTimestamp: "2026-11-30T13:00:00Z" }))).toBe(true);
    expect(changedBeyondStatus(base, edit({ ownerReferences: [{ apiVersion: "v1", kind: "X", name: "x", uid: "x" }] }))).toBe(true);
    expect(changedBeyondStatus(base, edit({ uid: "u2" }))).toBe(true);
  });

  it("is true when either copy has no generation: it cannot tell a status write from an edit", () => {
    const { generation: _, ...meta } = base.metadata!;
    expect(changedBeyondStatus({ ...base, metadata: meta }, { ...base, metadata: { ...meta, resourceVersion: "11" } })).toBe(true);
  });
});
