import { describe, expect, it, vi } from "vitest";
import type { KubeClient } from "./client.ts";
import { ApiError } from "./errors.ts";
import { pino } from "pino";
import { profileSpecSchema } from "../api/profile.ts";
import type { SloProfile } from "../slo/plan.ts";
import { prometheusRule, type PrometheusRuleObject } from "../slo/profile-rules.ts";
import { BAD_TILE_RECORD } from "../slo/tiles.ts";
import type { ActContext } from "./actuators/actuator.ts";
import { RulesActuator } from "./actuators/rules.ts";
import { PrometheusRuleApplier } from "./rules.ts";
import type { KubeObject } from "./types.ts";

// Rendering counted, not changed: one test asks how often a profile's object is rendered.
vi.mock("../slo/profile-rules.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../slo/profile-rules.ts")>();
  return { ...actual, prometheusRule: vi.fn(actual.prometheusRule) };
});

/** A client whose CRD lookups answer from a script, counting the requests. */
function scripted(...answers: Array<() => Promise<unknown>>): { client: KubeClient; calls: () => number } {
  let calls = 0;
  const client = {
    find: () => {
      const answer = answers[Math.min(calls, answers.length - 1)]!;
      calls++;
      return answer();
    },
  } as unknown as KubeClient;
  return { client, calls: () => calls };
}

const served = async () => ({ metadata: { name: "prometheusrules.monitoring.coreos.com" }, spec: { versions: [{ name: "v1", served: true }] } });

describe("PrometheusRuleApplier.crdServed", () => {
  it("asks once when the CRD is served", async () => {
    const { client, calls } = scripted(served);
    const applier = new PrometheusRuleApplier(client);
    expect(await applier.crdServed()).toBe(true);
    expect(await applier.crdServed()).toBe(true);
    expect(calls()).toBe(1);
  });

  it("takes a refusal to read CRDs as absent, and does not ask again", async () => {
    const { client, calls } = scripted(async () => {
      throw new ApiError("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x", 403, "Forbidden", "forbidden");
    });
    const applier = new PrometheusRuleApplier(client);
    expect(await applier.crdServed()).toBe(false);
    expect(await applier.crdServed()).toBe(false);
    expect(calls()).toBe(1);
  });

  it("asks again after the API was unreachable", async () => {
    const { client, calls } = scripted(async () => {
      throw ApiError.transport("GET", "/x", new Error("ECONNREFUSED"));
    }, served);
    const applier = new PrometheusRuleApplier(client);
    await expect(applier.crdServed()).rejects.toThrow(/TransportError/);
    expect(await applier.crdServed()).toBe(true);
    expect(calls()).toBe(2);
  });
});

describe("PrometheusRuleApplier.ensure through the rules actuator", () => {
  it("applies the tiles group, and the windows the action's tiles cover summed from it", async () => {
    const applied: KubeObject[] = [];
    const client = { apply: async (_: unknown, body: KubeObject) => void applied.push(body) } as unknown as KubeClient;
    const actuator = new RulesActuator({ prometheusRules: new PrometheusRuleApplier(client) });
    const slo: SloProfile = {
      namespace: "games",
      name: "game",
      spec: profileSpecSchema.parse({
        targetRef: { name: "game-service" },
        slos: [{ name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } }],
      }),
    };
    const ctx = { namespace: "games", profile: { metadata: { name: "game", uid: "u1" } }, slo, log: pino({ level: "silent" }) } as unknown as ActContext;
    const changed = await actuator.act({ kind: "rules", op: "ensure", tiles: { tile: "5m", coverageMs: { availability: 7 * 86_400_000 } } }, ctx);
    expect(changed).toBe(true);
    const groups = (applied[0] as unknown as PrometheusRuleObject).spec.groups;
    // The sums change once per tile: evaluated twice per tile, not every 30 s.
    expect(groups.map((g) => [g.name, g.interval])).toEqual([
      ["tollgate/games/game/tiles", "5m"],
      ["tollgate/games/game/sums", "2m30s"],
      ["tollgate/games/game", "30s"],
      ["tollgate/games/game/alerts", "30s"],
    ]);
    const tiled = (g: (typeof groups)[number] | undefined) => g?.rules.filter((r) => r.expr.includes(BAD_TILE_RECORD)).map((r) => r.labels.window);
    expect(tiled(groups[1])).toEqual(["2h", "6h", "1d", "3d"]);
    expect(groups[1]?.rules.length).toBe(4);
    expect(tiled(groups[2])).toEqual([]);
  });

  it("renders and applies a profile's object again only when its spec or owner changed, and forgets it with the profile", async () => {
    const applied: KubeObject[] = [];
    const client = { apply: async (_: unknown, body: KubeObject) => void applied.push(body) } as unknown as KubeClient;
    const applier = new PrometheusRuleApplier(client);
    const renders = vi.mocked(prometheusRule);
    const slo = (objective: number): SloProfile => ({
      namespace: "games",
      name: "game",
      spec: profileSpecSchema.parse({ targetRef: { name: "game-service" }, slos: [{ name: "availability", objective, window: "30d", indicator: { istio: { kind: "availability" } } }] }),
    });
    renders.mockClear();
    expect((await applier.ensure(slo(99.5), "u1")).changed).toBe(true);
    expect((await applier.ensure(slo(99.5), "u1")).changed).toBe(false);
    expect(renders).toHaveBeenCalledTimes(1);
    expect((await applier.ensure(slo(99.9), "u1")).changed).toBe(true);
    expect((await applier.ensure(slo(99.9), "u2")).changed).toBe(true);
    expect(renders).toHaveBeenCalledTimes(3);
    applier.forget("games", "game");
    await applier.ensure(slo(99.9), "u2");
    expect(renders).toHaveBeenCalledTimes(4);
    expect(applied).toHaveLength(4);
  });
});
