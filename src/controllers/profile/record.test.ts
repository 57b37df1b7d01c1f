import { describe, expect, it } from "vitest";
import type { PerformanceProfile } from "../../api/types.ts";
import type { KubeClient } from "../../kube/client.ts";
import { ApiError } from "../../kube/errors.ts";
import type { KubeObject } from "../../kube/types.ts";
import { cachedProfile } from "../../kube/cached.ts";
import { StaleProfile, StatusRecorder } from "./record.ts";

/** An API server holding one profile: a status apply that names a resourceVersion must name the current one. */
function apiServer(initial: PerformanceProfile) {
  let current = initial;
  let finds = 0;
  const client = {
    apply: async <T extends KubeObject>(_: unknown, obj: T) => {
      const asked = obj.metadata?.resourceVersion;
      if (asked !== undefined && asked !== current.metadata?.resourceVersion) {
        throw new ApiError("PATCH", "/status", 409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again");
      }
      current = { ...current, status: (obj as unknown as PerformanceProfile).status, metadata: { ...current.metadata, resourceVersion: String(Number(current.metadata?.resourceVersion) + 1) } };
      return current as unknown as T;
    },
    find: async () => {
      finds++;
      return current;
    },
  } as unknown as Pick<KubeClient, "apply" | "find">;
  return { client, current: () => current, finds: () => finds };
}

const profile = (resourceVersion: string, delivered: boolean): PerformanceProfile => ({
  apiVersion: "tollgate.dev/v1alpha1",
  kind: "PerformanceProfile",
  metadata: { name: "game", namespace: "games", resourceVersion },
  spec: {} as PerformanceProfile["spec"],
  status: { phase: "Frozen", ...(delivered ? {} : { outbox: [{ id: "n1", kind: "Notification", reason: "Frozen", message: "frozen", at: "2025-01-01T00:00:00Z" }] }) } as PerformanceProfile["status"],
});

describe("StatusRecorder", () => {
  it("writes over the copy it was given while that copy is current", async () => {
    const api = apiServer(profile("7", false));
    const recorder = new StatusRecorder(api.client);
    const stored = await recorder.record(profile("7", false), { phase: "Healthy" }, { ifUnchanged: true });
    expect(stored.metadata?.resourceVersion).toBe("8");
    expect(api.current().status).toEqual({ phase: "Healthy" });
  });

  it("refuses to write over a newer copy from a stale one, and hands the next pass the current copy", async () => {
    // The last leader recorded the delivery at resourceVersion 9; this replica's cache still has 7.
    const api = apiServer(profile("9", true));
    const recorder = new StatusRecorder(api.client);
    const stale = profile("7", false);
    await expect(recorder.record(stale, { phase: "Frozen" }, { ifUnchanged: true })).rejects.toThrow(StaleProfile);
    expect(api.current().status).toEqual({ phase: "Frozen" });
    expect(api.current().metadata?.resourceVersion).toBe("9");
    expect(api.finds()).toBe(1);
    const next = recorder.freshest("games/game", stale);
    expect(next?.metadata?.resourceVersion).toBe("9");
    expect(next?.status?.outbox).toBeUndefined();
  });

  it("writes without a precondition unless asked: the pass's own later write is over its own copy", async () => {
    const api = apiServer(profile("9", true));
    const recorder = new StatusRecorder(api.client);
    await recorder.record(profile("7", false), { phase: "Healthy" });
    expect(api.current().status).toEqual({ phase: "Healthy" });
  });

  it("remembers its writes cut down as the cache cuts profiles: not the managedFields the API server answers with", async () => {
    const withManaged = { ...profile("7", true), metadata: { ...profile("7", true).metadata, managedFields: [{ manager: "tollgate", operation: "Apply", fieldsV1: { "f:status": {} } }] } } as PerformanceProfile;
    const api = apiServer(withManaged);
    const recorder = new StatusRecorder(api.client, cachedProfile);
    const stored = await recorder.record(withManaged, { phase: "Healthy" } as PerformanceProfile["status"] & object);
    expect(api.current().metadata?.managedFields).toHaveLength(1);
    expect(stored.metadata).not.toHaveProperty("managedFields");
    expect(stored.metadata?.resourceVersion).toBe("8");
    // The cache has not caught up yet: the pass gets the kept copy.
    expect(recorder.freshest("games/game", profile("7", true))).toBe(stored);
  });
});
