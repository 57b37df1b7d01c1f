import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { profileSpecSchema } from "../api/profile.ts";
import type { SloProfile } from "../slo/plan.ts";
import { RulesFileWriter } from "./rules-file.ts";

const profile = (window: string): SloProfile => ({
  namespace: "games",
  name: "game",
  spec: profileSpecSchema.parse({
    targetRef: { name: "game" },
    slos: [{ name: "availability", objective: 99.5, window, indicator: { istio: { kind: "availability" } } }],
  }),
});

describe("RulesFileWriter", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("writes a file only when its content changes, and asks for one reload per burst", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-rules-"));
    dirs.push(dir);
    const reloads: string[] = [];
    const w = new RulesFileWriter({ dir, logger: pino({ level: "silent" }), reloadDelayMs: 200, reload: async (u) => void reloads.push(u) });
    expect((await w.ensure(profile("1m"), "http://prom:9090")).changed).toBe(true);
    expect((await w.ensure(profile("1m"), "http://prom:9090")).changed).toBe(false);
    expect((await w.ensure(profile("2m"), "http://prom:9090")).changed).toBe(true);
    await w.requestReload("http://prom:9090");
    expect(reloads).toEqual(["http://prom:9090"]);
    expect(readdirSync(dir)).toEqual(["tollgate_games_game.yaml"]); // no tmp file left behind
    expect(readFileSync(join(dir, "tollgate_games_game.yaml"), "utf8")).toContain("record: tollgate_slo:error_ratio:rate");
    await w.remove("games", "game");
    expect(readdirSync(dir)).toEqual([]);
  });
});
