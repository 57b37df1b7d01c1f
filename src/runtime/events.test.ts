import { describe, expect, it } from "vitest";
import { ApiError } from "../kube/errors.ts";
import type { ResourceType } from "../kube/resources.ts";
import type { KubeObject } from "../kube/types.ts";
import { silentLogger } from "../log.ts";
import { EventRecorder, type CoreEvent, type EventClient } from "./events.ts";

class FakeEvents implements EventClient {
  created: CoreEvent[] = [];
  patches: Array<{ name: string; patch: unknown }> = [];
  failNextPatchWith: ApiError | undefined;
  async create<T extends KubeObject>(_t: ResourceType, obj: T): Promise<T> {
    this.created.push(obj as unknown as CoreEvent);
    return obj as T;
  }
  async patch<T extends KubeObject>(_t: ResourceType, _ns: string | undefined, name: string, patch: unknown): Promise<T> {
    if (this.failNextPatchWith) {
      const err = this.failNextPatchWith;
      this.failNextPatchWith = undefined;
      throw err;
    }
    this.patches.push({ name, patch });
    return {} as T;
  }
}

const profile = { apiVersion: "tollgate.dev/v1alpha1", kind: "PerformanceProfile", metadata: { name: "game", namespace: "shop", uid: "u1" } };

describe("EventRecorder", () => {
  it("creates an Event on the object with Tollgate as the source", async () => {
    const sink = new FakeEvents();
    const rec = new EventRecorder({ client: sink, instance: "pod-a", logger: silentLogger(), now: () => new Date("2026-01-01T00:00:00Z") });
    await rec.record(profile, "Warning", "BudgetExhausted", "availability consumed 104.2 % of its 30d budget");
    expect(sink.created).toHaveLength(1);
    expect(sink.created[0]).toMatchObject({
      metadata: { namespace: "shop" },
      involvedObject: { kind: "PerformanceProfile", name: "game", namespace: "shop", uid: "u1" },
      type: "Warning",
      reason: "BudgetExhausted",
      count: 1,
      source: { component: "tollgate" },
      reportingInstance: "pod-a",
    });
  });

  it("counts a repeat within ten minutes on the existing Event instead of creating another", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const sink = new FakeEvents();
    const rec = new EventRecorder({ client: sink, instance: "a", logger: silentLogger(), now: () => now });
    await rec.record(profile, "Normal", "Frozen", "m");
    now = new Date("2026-01-01T00:05:00Z");
    await rec.record(profile, "Normal", "Frozen", "m");
    await rec.record(profile, "Normal", "Frozen", "m");
    expect(sink.created).toHaveLength(1);
    expect(sink.patches.map((p) => p.patch)).toEqual([
      { count: 2, lastTimestamp: "2026-01-01T00:05:00.000Z" },
      { count: 3, lastTimestamp: "2026-01-01T00:05:00.000Z" },
    ]);
    // A different message is a different event.
    await rec.record(profile, "Normal", "Frozen", "other");
    expect(sink.created).toHaveLength(2);
    // After the window, the same event is recorded afresh.
    now = new Date("2026-01-01T00:20:00Z");
    await rec.record(profile, "Normal", "Frozen", "m");
    expect(sink.created).toHaveLength(3);
  });

  it("records afresh when the Event it would count has expired, and never throws", async () => {
    const sink = new FakeEvents();
    const rec = new EventRecorder({ client: sink, instance: "a", logger: silentLogger() });
    await rec.record(profile, "Normal", "R", "m");
    sink.failNextPatchWith = new ApiError("PATCH", "/e", 404, "NotFound", "gone");
    await rec.record(profile, "Normal", "R", "m");
    expect(sink.created).toHaveLength(2);
    sink.create = async () => {
      throw new ApiError("POST", "/e", 0, "TransportError", "ECONNREFUSED");
    };
    await expect(rec.record(profile, "Normal", "Other", "m")).resolves.toBeUndefined();
  });
});
