import { describe, expect, it } from "vitest";
import type { PerformanceProfile } from "../../api/types.ts";
import { keyOf } from "../../kube/types.ts";
import { gameSpec } from "../../policy/test-builders.ts";
import type { InformerHandlers } from "../../runtime/informer.ts";
import { deploymentToProfiles, ownerToProfiles, TargetIndex } from "./mappings.ts";
import { deployment, profile } from "./test-builders.ts";

/** A profile informer in memory whose changes are fed to its handlers, as the real one's are. */
function profiles(initial: PerformanceProfile[]) {
  const store = new Map(initial.map((p) => [keyOf(p), p]));
  const handlers: InformerHandlers<PerformanceProfile>[] = [];
  return {
    get: (k: string) => store.get(k),
    list: () => [...store.values()],
    on: (h: InformerHandlers<PerformanceProfile>) => void handlers.push(h),
    put(p: PerformanceProfile) {
      const old = store.get(keyOf(p));
      store.set(keyOf(p), p);
      for (const h of handlers) old ? h.update?.(old, p) : h.add?.(p);
    },
    remove(p: PerformanceProfile) {
      store.delete(keyOf(p));
      for (const h of handlers) h.delete?.(p);
    },
  };
}

describe("TargetIndex and deploymentToProfiles", () => {
  it("brings back the profiles naming a Deployment, by spec.targetRef or status.target, and those of its primary", () => {
    const moved = gameSpec();
    moved.targetRef.name = "game-service-v2";
    const inf = profiles([profile("game", gameSpec()), profile("mover", moved, { status: { target: "game-service" } })]);
    const map = deploymentToProfiles(new TargetIndex(inf));
    expect(map(deployment("game-service")).sort()).toEqual(["games/game", "games/mover"]);
    expect(map(deployment("game-service-primary")).sort()).toEqual(["games/game", "games/mover"]);
    expect(map(deployment("game-service-v2"))).toEqual(["games/mover"]);
    expect(map(deployment("unrelated"))).toEqual([]);
  });

  it("follows profiles as they change and go", () => {
    const inf = profiles([profile("game", gameSpec())]);
    const index = new TargetIndex(inf);
    const map = deploymentToProfiles(index);
    const moved = gameSpec();
    moved.targetRef.name = "other";
    inf.put(profile("game", moved));
    expect(map(deployment("game-service"))).toEqual([]);
    expect(map(deployment("other"))).toEqual(["games/game"]);
    inf.remove(profile("game", moved));
    expect(map(deployment("other"))).toEqual([]);
  });
});

describe("ownerToProfiles", () => {
  it("maps an object to the profiles among its owners", () => {
    const obj = { metadata: { namespace: "games", name: "x", ownerReferences: [{ apiVersion: "tollgate.dev/v1alpha1", kind: "PerformanceProfile", name: "game", uid: "u" }, { apiVersion: "apps/v1", kind: "Deployment", name: "d", uid: "v" }] } };
    expect(ownerToProfiles(obj)).toEqual(["games/game"]);
  });
});
