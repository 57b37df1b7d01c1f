import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse as parseYaml } from "yaml";
import { profileSpecSchema } from "../api/profile.ts";
import type { SloProfile } from "../slo/plan.ts";
import { ABSENT_ALERT, BURN_ALERT } from "../slo/alerts.ts";
import { profileRuleSet } from "../slo/profile-rules.ts";
import { BAD_TILE_RECORD, EVENTS_TILE_RECORD, TILES_SINCE_RECORD } from "../slo/tiles.ts";
import { RulesFileWriter, stashFileName, type ReloadOutcome } from "./rules-file.ts";

// Rendering counted, not changed: one test asks how often a profile's rules are rendered.
vi.mock("../slo/profile-rules.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../slo/profile-rules.ts")>();
  return { ...actual, profileRuleSet: vi.fn(actual.profileRuleSet) };
});

// A Prometheus on 127.0.0.1 as the writer meets it: /api/v1/format_query runs a parser (comments run to
// the end of the line, parentheses must balance, as Prometheus's do), and /-/reload loads every
// *.yaml of the rules directory as a whole or not at all, answering 500 "failed to reload config: ..."
// and keeping what it had when one rule fails. `refuseAtLoad` stands for what only loading reveals.
interface FakePrometheus {
  url: string;
  /** Rule files (name → content) as of the last good reload. */
  loaded: Map<string, string>;
  reloads: Array<"ok" | "refused">;
  formatQueries: number;
  lastReloadOk(): boolean;
  /** format_query answers 503. */
  down: boolean;
  /**
   * /-/reload answers this status and loads nothing: 403 as Prometheus without --web.enable-lifecycle,
   * 503 as a proxy in front of one that is down.
   */
  reloadStatus: number | undefined;
  close(): Promise<void>;
}

const servers: Server[] = [];

function parseError(expr: string): string | undefined {
  const code = expr.split("\n").map((l) => l.replace(/#.*$/, "")).join("\n");
  let depth = 0;
  for (const c of code) {
    if (c === "(") depth++;
    if (c === ")" && --depth < 0) return `1:${code.indexOf(")") + 1}: parse error: unexpected right parenthesis ')'`;
  }
  return depth > 0 ? `1:${code.length + 1}: parse error: unclosed left parenthesis` : undefined;
}

async function fakePrometheus(dir: string, refuseAtLoad: (expr: string) => boolean = () => false): Promise<FakePrometheus> {
  const fake = { loaded: new Map<string, string>(), reloads: [] as Array<"ok" | "refused">, formatQueries: 0, down: false, reloadStatus: undefined } as FakePrometheus;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const json = (status: number, value: unknown) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(value));
      if (req.url === "/api/v1/format_query" && req.method === "POST") {
        fake.formatQueries++;
        if (fake.down) return json(503, { status: "error", errorType: "unavailable", error: "not ready" });
        const query = new URLSearchParams(body).get("query") ?? "";
        const error = parseError(query);
        if (error) return json(400, { status: "error", errorType: "bad_data", error: `invalid parameter "query": ${error}` });
        return json(200, { status: "success", data: query });
      }
      if (req.url === "/-/reload" && req.method === "POST") {
        if (fake.reloadStatus !== undefined) {
          res.writeHead(fake.reloadStatus, { "Content-Type": "text/plain" }).end(fake.reloadStatus === 403 ? "Lifecycle API is not enabled.\n" : "upstream unavailable\n");
          return;
        }
        const files = new Map<string, string>();
        let refused = false;
        for (const name of readdirSync(dir).filter((n) => n.endsWith(".yaml"))) {
          const content = readFileSync(join(dir, name), "utf8");
          files.set(name, content);
          const doc = parseYaml(content) as { groups?: Array<{ rules?: Array<{ expr: string }> }> } | null;
          for (const rule of (doc?.groups ?? []).flatMap((g) => g.rules ?? [])) {
            if (parseError(rule.expr) !== undefined || refuseAtLoad(rule.expr)) refused = true;
          }
        }
        fake.reloads.push(refused ? "refused" : "ok");
        if (refused) {
          res.writeHead(500, { "Content-Type": "text/plain" }).end('failed to reload config: one or more errors occurred while applying the new configuration (--config.file="/etc/prometheus/prometheus.yml")\n');
          return;
        }
        fake.loaded = files;
        res.writeHead(200).end();
        return;
      }
      json(404, { status: "error", errorType: "not_found", error: "no such endpoint" });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  servers.push(server);
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.lastReloadOk = () => fake.reloads.at(-1) !== "refused";
  fake.close = () => new Promise<void>((r) => server.close(() => r()));
  return fake;
}

const availability = (name: string, window = "1m"): SloProfile => ({
  namespace: "games",
  name,
  spec: profileSpecSchema.parse({
    targetRef: { name },
    slos: [{ name: "availability", objective: 99.5, window, indicator: { istio: { kind: "availability" } } }],
  }),
});

const ratio = (name: string, errors: string): SloProfile => ({
  namespace: "games",
  name,
  spec: profileSpecSchema.parse({
    targetRef: { name },
    slos: [
      { name: "latency", objective: 99, window: "1m", indicator: { istio: { kind: "availability" } } },
      { name: "errors", objective: 99.5, window: "1m", indicator: { ratio: { errors, total: "sum(rate(http_requests_total[{{window}}]))" } } },
    ],
  }),
});

const GOOD = 'sum(rate(http_requests_total{code=~"5.."}[{{window}}]))';
// Parses on its own (the comment runs to the end), but not inside sum(...): the comment eats the ")".
const COMMENTED = 'sum(rate(http_requests_total{code=~"5.."}[{{window}}])) # server errors';
// Parses everywhere; only loading the file fails (the fake's stand-in for what format_query cannot see).
const LOAD_REFUSED = 'sum(rate(refused_at_load_total{code=~"5.."}[{{window}}]))';

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe("RulesFileWriter", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  });
  const setup = async (refuseAtLoad?: (expr: string) => boolean, reloadDelayMs = 50) => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-rules-"));
    dirs.push(dir);
    const prom = await fakePrometheus(dir, refuseAtLoad);
    const writer = new RulesFileWriter({ dir, logger: pino({ level: "silent" }), reloadDelayMs });
    const file = (name: string) => join(dir, `tollgate_games_${name}.yaml`);
    return { dir, prom, writer, file };
  };

  it("writes a file only when its content changes, and asks for one reload per burst", async () => {
    // The burst is the three ensures below; a reload delay well past their duration, even on a loaded
    // machine, makes them one burst.
    const { dir, prom, writer, file } = await setup(undefined, 2_000);
    expect((await writer.ensure(availability("game", "1m"), prom.url)).changed).toBe(true);
    expect((await writer.ensure(availability("game", "1m"), prom.url)).changed).toBe(false);
    expect((await writer.ensure(availability("game", "2m"), prom.url)).changed).toBe(true);
    await writer.requestReload(prom.url);
    expect(prom.reloads).toEqual(["ok"]);
    expect(readdirSync(dir)).toEqual(["tollgate_games_game.yaml"]); // no tmp file left behind
    expect(readFileSync(file("game"), "utf8")).toContain("record: tollgate_slo:error_ratio:rate");
    expect(prom.loaded.get("tollgate_games_game.yaml")).toContain("window: 2m");
    await writer.remove("games", "game");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("asks Prometheus's parser about a profile's rules a few at a time, not one after another", async () => {
    const { dir, prom } = await setup();
    let inFlight = 0;
    let most = 0;
    let asked = 0;
    const checkSyntax = async (): Promise<{ ok: true }> => {
      asked++;
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { ok: true };
    };
    const writer = new RulesFileWriter({ dir, logger: pino({ level: "silent" }), reloadDelayMs: 50, client: () => ({ checkSyntax }) });
    expect((await writer.ensure(ratio("shop", GOOD), prom.url)).changed).toBe(true);
    expect(asked).toBeGreaterThan(8);
    expect(most).toBe(8);
  });

  it("renders a profile's rules only when its spec or the windows its tiles cover change, and forgets them with the profile", async () => {
    const { prom, writer } = await setup();
    const renders = vi.mocked(profileRuleSet);
    const covered = (minutes: number) => ({ tiles: { tile: "5m", coverageMs: { availability: minutes * 60_000 } } });
    const game = availability("game", "1d");
    renders.mockClear();
    expect((await writer.ensure(game, prom.url, covered(0))).changed).toBe(true);
    // Tiles for 10 and 20 minutes cover no window yet (the shortest summed from tiles is over an hour).
    expect((await writer.ensure(game, prom.url, covered(10))).changed).toBe(false);
    expect((await writer.ensure(game, prom.url, covered(20))).changed).toBe(false);
    expect(writer.rejected("games", "game", game)).toBeUndefined();
    expect(renders).toHaveBeenCalledTimes(1);
    // Three hours cover the 2h24m window: other rules.
    expect((await writer.ensure(game, prom.url, covered(180))).changed).toBe(true);
    expect(renders).toHaveBeenCalledTimes(2);
    expect((await writer.ensure(availability("game", "2d"), prom.url, covered(180))).changed).toBe(true);
    expect(renders).toHaveBeenCalledTimes(3);
    await writer.remove("games", "game");
    expect((await writer.ensure(availability("game", "2d"), prom.url, covered(180))).changed).toBe(true);
    expect(renders).toHaveBeenCalledTimes(4);
  });

  it("writes a profile's tiles group beside its windows, and moves a window onto the tiles once they cover it", async () => {
    const { prom, writer, file } = await setup();
    const game = availability("game", "1d");
    const none = await writer.ensure(game, prom.url, { tiles: { tile: "5m", coverageMs: {} } });
    expect(none.changed).toBe(true);
    const first = parseYaml(readFileSync(file("game"), "utf8")) as { groups: Array<{ name: string; interval: string; rules: Array<{ record: string; expr: string; labels: Record<string, string> }> }> };
    // No tiles yet: the tiles are recorded, and no window is summed from them.
    expect(first.groups.map((g) => [g.name, g.interval])).toEqual([
      ["tollgate/games/game/tiles", "5m"],
      ["tollgate/games/game", "30s"],
      ["tollgate/games/game/alerts", "30s"],
    ]);
    expect(first.groups[0]?.rules.map((r) => r.record)).toEqual([BAD_TILE_RECORD, EVENTS_TILE_RECORD, TILES_SINCE_RECORD]);
    expect(first.groups[1]?.rules.some((r) => r.expr.includes(BAD_TILE_RECORD))).toBe(false);
    // Every rule went through the parser, the tiles' too: one per distinct expression.
    const expressions = new Set(first.groups.flatMap((g) => g.rules.map((r) => r.expr)));
    expect(prom.formatQueries).toBe(expressions.size);

    // Tiles for 3 hours: the 3d role's window, scaled to 2h24m for a 1d SLO, is summed from them; the
    // 1d window is not yet. More coverage that tiles no other window changes nothing.
    expect((await writer.ensure(game, prom.url, { tiles: { tile: "5m", coverageMs: { availability: 3 * 3_600_000 } } })).changed).toBe(true);
    const second = parseYaml(readFileSync(file("game"), "utf8")) as typeof first;
    const sums = second.groups.find((g) => g.name === "tollgate/games/game/sums");
    expect(sums?.rules.map((r) => [r.labels.window, r.expr.includes(BAD_TILE_RECORD)])).toEqual([["2h24m", true]]);
    expect((await writer.ensure(game, prom.url, { tiles: { tile: "5m", coverageMs: { availability: 4 * 3_600_000 } } })).changed).toBe(false);
  });

  it("writes the profile's alerts into its file after its recording rules, each through the parser", async () => {
    const { prom, writer, file } = await setup();
    expect((await writer.ensure(availability("game"), prom.url)).changed).toBe(true);
    await writer.requestReload(prom.url);
    const written = parseYaml(readFileSync(file("game"), "utf8")) as { groups: Array<{ name: string; interval: string; rules: Array<{ alert?: string; expr: string; labels: Record<string, string> }> }> };
    expect(written.groups.map((g) => g.name)).toEqual(["tollgate/games/game", "tollgate/games/game/alerts"]);
    const alerts = written.groups[1]!;
    expect(alerts.interval).toBe(written.groups[0]!.interval);
    expect(new Set(alerts.rules.map((r) => r.alert))).toEqual(new Set([BURN_ALERT, ABSENT_ALERT]));
    expect(alerts.rules.every((r) => r.labels.profile === "game" && r.labels.slo === "availability")).toBe(true);
    expect(prom.formatQueries).toBe(new Set(written.groups.flatMap((g) => g.rules.map((r) => r.expr))).size);
    expect(prom.loaded.get("tollgate_games_game.yaml")).toContain(`alert: ${BURN_ALERT}`);
    // Deleting the profile takes its alerts with its rules.
    await writer.remove("games", "game");
    expect(existsSync(file("game"))).toBe(false);
  });

  it("never writes a file whose alerts Prometheus's parser refuses, and names the alert and its SLO", async () => {
    const { dir, prom } = await setup();
    const parser = {
      checkSyntax: async (expr: string) => (expr.startsWith("absent(") ? { ok: false as const, message: "1:1: parse error: absent() refused here" } : { ok: true as const }),
    };
    const writer = new RulesFileWriter({ dir, logger: pino({ level: "silent" }), reloadDelayMs: 50, client: () => parser });
    const result = await writer.ensure(availability("game"), prom.url);
    expect(result.changed).toBe(false);
    expect(result.rejected).toEqual({
      field: "spec.slos[0].indicator",
      message: `Prometheus cannot parse the alerting rule ${ABSENT_ALERT} of SLO availability: 1:1: parse error: absent() refused here`,
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("withdraws a file Prometheus refuses to load for its alerts alone, and loads the other profiles' files", async () => {
    // Only shop's absent-metrics alert fails to load; its recording rules would load on their own.
    const { prom, writer, file } = await setup((expr) => expr.startsWith("absent(") && expr.includes('profile="shop"'));
    expect((await writer.ensure(availability("game"), prom.url)).changed).toBe(true);
    expect((await writer.ensure(availability("shop"), prom.url)).changed).toBe(true);
    await writer.requestReload(prom.url);
    expect(existsSync(file("shop"))).toBe(false);
    expect(writer.rejected("games", "shop")?.message).toMatch(/^Prometheus refused to load the profile's rules file: failed to reload config/);
    expect(writer.rejected("games", "game")).toBeUndefined();
    expect([...prom.loaded.keys()]).toEqual(["tollgate_games_game.yaml"]);
    expect(prom.loaded.get("tollgate_games_game.yaml")).toContain(`alert: ${ABSENT_ALERT}`);
    expect(prom.lastReloadOk()).toBe(true);
  });

  it("never writes rules Prometheus's parser refuses: the previous file stays, the verdict names the SLO", async () => {
    const { prom, writer, file } = await setup();
    await writer.ensure(ratio("shop", GOOD), prom.url);
    await writer.requestReload(prom.url);
    const good = readFileSync(file("shop"), "utf8");

    const result = await writer.ensure(ratio("shop", COMMENTED), prom.url);
    expect(result.changed).toBe(false);
    expect(result.rejected?.field).toBe("spec.slos[1].indicator");
    expect(result.rejected?.message).toMatch(/^Prometheus cannot parse the recording rule tollgate_slo:\S+ of SLO errors \(window \w+\): invalid parameter "query": 1:\d+: parse error: unclosed left parenthesis$/);
    expect(readFileSync(file("shop"), "utf8")).toBe(good);
    expect(writer.rejected("games", "shop")).toEqual(result.rejected);
    expect(writer.rejected("games", "shop", ratio("shop", COMMENTED))).toEqual(result.rejected);
    // A changed spec is judged afresh; the verdict on the old one does not hold it back meanwhile.
    expect(writer.rejected("games", "shop", ratio("shop", 'sum(rate(http_requests_total{code="500"}[{{window}}]))'))).toBeUndefined();
    // Asking again with the same rules asks Prometheus nothing and writes nothing.
    const asked = prom.formatQueries;
    expect((await writer.ensure(ratio("shop", COMMENTED), prom.url)).rejected).toEqual(result.rejected);
    expect(prom.formatQueries).toBe(asked);
    expect(prom.reloads).toEqual(["ok"]);

    // A new profile that is refused leaves no file at all.
    expect((await writer.ensure(ratio("new", COMMENTED), prom.url)).rejected).toBeDefined();
    expect(existsSync(file("new"))).toBe(false);

    // The fixed rules are written, loaded, and the verdict is over.
    const fixed = ratio("shop", 'sum(rate(http_requests_total{code=~"5.."}[{{window}}])) # server errors\n');
    expect((await writer.ensure(fixed, prom.url)).changed).toBe(true);
    await writer.requestReload(prom.url);
    expect(prom.reloads).toEqual(["ok", "ok"]);
    expect(writer.rejected("games", "shop")).toBeUndefined();
    await writer.remove("games", "new");
    expect(writer.rejected("games", "new")).toBeUndefined();
  });

  it("a spec edited back to its loaded rules ends the verdict on the refused version", async () => {
    const { prom, writer } = await setup();
    await writer.ensure(ratio("shop", GOOD), prom.url);
    await writer.requestReload(prom.url);
    expect((await writer.ensure(ratio("shop", COMMENTED), prom.url)).rejected).toBeDefined();
    expect((await writer.ensure(ratio("shop", GOOD), prom.url)).changed).toBe(false);
    expect(writer.rejected("games", "shop")).toBeUndefined();
  });

  it("withdraws a file Prometheus refuses to load, restores its previous content, and reloads what it accepts", async () => {
    const { prom, writer, file } = await setup((expr) => expr.includes("refused_at_load_total"));
    await writer.ensure(ratio("shop", GOOD), prom.url);
    await writer.requestReload(prom.url);
    const previous = readFileSync(file("shop"), "utf8");

    // In one burst: another profile's new rules, and rules the parser accepts but loading refuses.
    expect((await writer.ensure(availability("game"), prom.url)).changed).toBe(true);
    expect((await writer.ensure(ratio("shop", LOAD_REFUSED), prom.url)).changed).toBe(true);
    await writer.requestReload(prom.url);

    expect(readFileSync(file("shop"), "utf8")).toBe(previous);
    expect(prom.lastReloadOk()).toBe(true);
    expect(prom.loaded.get("tollgate_games_shop.yaml")).toBe(previous);
    expect(prom.loaded.get("tollgate_games_game.yaml")).toBe(readFileSync(file("game"), "utf8"));
    expect(writer.rejected("games", "game")).toBeUndefined();
    expect(writer.rejected("games", "shop")).toEqual({
      field: "spec.slos",
      message: "Prometheus refused to load the profile's rules file: failed to reload config: one or more errors occurred while applying the new configuration (--config.file=\"/etc/prometheus/prometheus.yml\")",
    });
    // Not written again while the spec is unchanged; reloads keep succeeding.
    const reloads = prom.reloads.length;
    expect((await writer.ensure(ratio("shop", LOAD_REFUSED), prom.url)).rejected).toBeDefined();
    expect(readFileSync(file("shop"), "utf8")).toBe(previous);
    expect((await writer.ensure(availability("game", "2m"), prom.url)).changed).toBe(true);
    await writer.requestReload(prom.url);
    expect(prom.reloads.slice(reloads)).toEqual(["ok"]);
    expect(writer.rejected("games", "shop")).toBeDefined();
  });

  it("removes a new profile's file that Prometheus refuses to load", async () => {
    const { prom, writer, file } = await setup((expr) => expr.includes("refused_at_load_total"));
    expect((await writer.ensure(ratio("shop", LOAD_REFUSED), prom.url)).changed).toBe(true);
    await writer.requestReload(prom.url);
    expect(existsSync(file("shop"))).toBe(false);
    expect(prom.reloads).toEqual(["refused", "ok"]);
    expect(writer.rejected("games", "shop")?.field).toBe("spec.slos");
    await writer.remove("games", "shop");
    expect(writer.rejected("games", "shop")).toBeUndefined();
  });

  it("finds the one refused file among many changed together, with a few reloads", async () => {
    const { prom, writer, file } = await setup((expr) => expr.includes("refused_at_load_total"), 1_000);
    const names = Array.from({ length: 9 }, (_, i) => `svc${i}`);
    for (const n of names) await writer.ensure(n === "svc6" ? ratio(n, LOAD_REFUSED) : availability(n), prom.url);
    await writer.requestReload(prom.url);
    expect(names.filter((n) => writer.rejected("games", n) !== undefined)).toEqual(["svc6"]);
    expect(names.filter((n) => existsSync(file(n)))).toEqual(names.filter((n) => n !== "svc6"));
    expect([...prom.loaded.keys()].sort()).toEqual(names.filter((n) => n !== "svc6").map((n) => `tollgate_games_${n}.yaml`));
    expect(prom.lastReloadOk()).toBe(true);
    expect(prom.reloads.length).toBeLessThanOrEqual(2 + 2 * Math.ceil(Math.log2(names.length)) + 1);
  });

  it("blames no profile when Prometheus refuses its configuration without Tollgate's changes too", async () => {
    const { dir, prom, writer, file } = await setup();
    writeFileSync(join(dir, "someone-else.yaml"), "groups:\n  - name: broken\n    rules:\n      - record: x\n        expr: sum(up\n");
    expect((await writer.ensure(availability("game"), prom.url)).changed).toBe(true);
    await writer.requestReload(prom.url);
    expect(prom.reloads).toEqual(["refused", "refused"]);
    expect(writer.rejected("games", "game")).toBeUndefined();
    expect(readFileSync(file("game"), "utf8")).toContain("tollgate_slo:error_ratio:rate");
  });

  it("writes nothing while Prometheus cannot say whether the rules parse", async () => {
    const { prom, writer, file } = await setup();
    prom.down = true;
    await expect(writer.ensure(availability("game"), prom.url)).rejects.toThrow(/cannot be checked with Prometheus's parser/);
    expect(existsSync(file("game"))).toBe(false);
    expect(writer.rejected("games", "game")).toBeUndefined();
    prom.down = false;
    expect((await writer.ensure(availability("game"), prom.url)).changed).toBe(true);
  });

  it("suspects files found in place after a restart until Prometheus loads them", async () => {
    const { dir, prom, file } = await setup((expr) => expr.includes("refused_at_load_total"));
    // A bad file left by an earlier operator (one that wrote without asking the parser).
    const before = new RulesFileWriter({ dir, logger: pino({ level: "silent" }), reloadDelayMs: 50, reload: async () => ({ ok: true }) });
    await before.ensure(ratio("shop", LOAD_REFUSED), prom.url);
    const writer = new RulesFileWriter({ dir, logger: pino({ level: "silent" }), reloadDelayMs: 50 });
    expect((await writer.ensure(ratio("shop", LOAD_REFUSED), prom.url)).changed).toBe(false);
    expect((await writer.ensure(availability("game"), prom.url)).changed).toBe(true);
    await writer.requestReload(prom.url);
    expect(existsSync(file("shop"))).toBe(false);
    expect(writer.rejected("games", "shop")).toBeDefined();
    expect(writer.rejected("games", "game")).toBeUndefined();
    expect(prom.loaded.has("tollgate_games_game.yaml")).toBe(true);
    expect(prom.lastReloadOk()).toBe(true);
  });

  describe("while Prometheus reloads", () => {
    /** A reload that waits for the test's word (the first `held` of them), then POSTs to the fake; `began` resolves as the first begins. */
    function heldReload(held = Number.POSITIVE_INFINITY) {
      let release: () => void = () => {};
      let started: () => void = () => {};
      const began = new Promise<void>((r) => (started = r));
      let count = 0;
      const reload = async (url: string): Promise<ReloadOutcome> => {
        count++;
        started();
        if (count <= held) await new Promise<void>((r) => (release = r));
        const res = await fetch(`${url}/-/reload`, { method: "POST" });
        return res.ok ? { ok: true } : { ok: false, message: (await res.text()).trim() };
      };
      return { reload, began, release: () => release(), count: () => count };
    }

    it("a profile's rules are written while a reload runs, not after it, and stay a suspect for the next", async () => {
      const { dir, prom, file } = await setup();
      const held = heldReload();
      const writer = new RulesFileWriter({ dir, logger: pino({ level: "silent" }), reloadDelayMs: 10, reload: held.reload });
      await writer.ensure(availability("game", "1m"), prom.url);
      const first = writer.requestReload(prom.url);
      await held.began;
      // Prometheus is reading its files: another profile's change goes in at once.
      expect((await writer.ensure(availability("shop", "1m"), prom.url)).changed).toBe(true);
      expect(existsSync(file("shop"))).toBe(true);
      held.release();
      await first;
      // The reload that was running confirmed what was there when it began, not what came during it.
      expect(writer.awaitingReload(prom.url)).toBe(1);
      const second = writer.requestReload(prom.url);
      await new Promise((r) => setTimeout(r, 30));
      held.release();
      await second;
      expect(writer.awaitingReload(prom.url)).toBe(0);
      expect(held.count()).toBe(2);
    });

    it("rechecks a file that is as it was written without waiting behind a search for a refused file", async () => {
      const { dir, prom, file } = await setup((expr) => expr.includes("refused_at_load_total"));
      const held = heldReload();
      const writer = new RulesFileWriter({ dir, logger: pino({ level: "silent" }), reloadDelayMs: 10, recheckMs: 0, reload: held.reload });
      await writer.ensure(availability("game", "1m"), prom.url);
      const first = writer.requestReload(prom.url);
      await held.began;
      held.release();
      await first;
      // A file Prometheus refuses at load: its reload is refused, and the search for it holds the lock
      // while its own first reload waits.
      await writer.ensure(ratio("shop", LOAD_REFUSED), prom.url);
      const search = writer.requestReload(prom.url);
      await waitUntil(() => held.count() === 2);
      held.release();
      await waitUntil(() => held.count() === 3);
      const recheck = writer.ensure(availability("game", "1m"), prom.url);
      const settled = await Promise.race([recheck.then(() => "rechecked"), new Promise((r) => setTimeout(() => r("waiting"), 1_000))]);
      expect(settled).toBe("rechecked");
      expect(await recheck).toMatchObject({ changed: false });
      for (let i = 0; i < 5 && held.count() >= 3; i++) {
        held.release();
        await new Promise((r) => setTimeout(r, 20));
      }
      await search;
      expect(existsSync(file("game"))).toBe(true);
      expect(writer.rejected("games", "shop")).toBeDefined();
    });

    it("a reload asked for while one runs comes after it, never beside it", async () => {
      const { dir, prom } = await setup();
      const held = heldReload();
      const writer = new RulesFileWriter({ dir, logger: pino({ level: "silent" }), reloadDelayMs: 10, reload: held.reload });
      await writer.ensure(availability("game", "1m"), prom.url);
      const first = writer.requestReload(prom.url);
      await held.began;
      await writer.ensure(availability("game", "2m"), prom.url);
      const second = writer.requestReload(prom.url);
      await new Promise((r) => setTimeout(r, 50));
      expect(held.count()).toBe(1);
      held.release();
      await first;
      await new Promise((r) => setTimeout(r, 30));
      expect(held.count()).toBe(2);
      held.release();
      await second;
      expect(prom.loaded.get("tollgate_games_game.yaml")).toContain("window: 2m");
    });

    it("a file Prometheus refuses, written while a reload ran, is found by the reload after", async () => {
      const { dir, prom, file } = await setup((expr) => expr.includes("refused_at_load_total"));
      const held = heldReload(1);
      const writer = new RulesFileWriter({ dir, logger: pino({ level: "silent" }), reloadDelayMs: 10, reload: held.reload });
      await writer.ensure(ratio("shop", GOOD), prom.url);
      const first = writer.requestReload(prom.url);
      await held.began;
      await writer.ensure(ratio("cart", LOAD_REFUSED), prom.url);
      const second = writer.requestReload(prom.url);
      // The held reload reads cart's file too and is refused: the search, under the lock, finds it.
      held.release();
      await first;
      await second;
      expect(writer.rejected("games", "cart")).toBeDefined();
      expect(writer.rejected("games", "shop")).toBeUndefined();
      expect(existsSync(file("cart"))).toBe(false);
      expect(prom.loaded.has("tollgate_games_shop.yaml")).toBe(true);
    });
  });

  describe("while Prometheus has not confirmed a change", () => {
    const stashes = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".previous") || n.endsWith(".withdrawn")).sort();
    const yamls = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".yaml")).sort();
    const names = Array.from({ length: 40 }, (_, i) => `svc${i}`);

    it("keeps nothing per profile for a Prometheus whose lifecycle API is off (403), however many writes", async () => {
      const { dir, prom, writer } = await setup();
      prom.reloadStatus = 403;
      for (const n of names) await writer.ensure(availability(n, "1m"), prom.url);
      await writer.requestReload(prom.url);
      // The 403 drops what the first burst kept; from then on nothing is kept at all.
      expect(writer.awaitingReload()).toBe(0);
      for (const window of ["2m", "3m", "4m", "5m"]) {
        for (const n of names) expect((await writer.ensure(availability(n, window), prom.url)).changed).toBe(true);
        expect(writer.awaitingReload()).toBe(0);
        expect(stashes(dir)).toEqual([]);
        await writer.requestReload(prom.url);
      }
      expect(yamls(dir)).toEqual(names.map((n) => `tollgate_games_${n}.yaml`).sort());
      expect(readdirSync(dir).length).toBe(names.length); // no tmp or stash file either
      expect(prom.reloads).toEqual([]);

      // Turned on: changes are checked again.
      prom.reloadStatus = undefined;
      expect((await writer.ensure(availability("svc0", "6m"), prom.url)).changed).toBe(true);
      await writer.requestReload(prom.url);
      expect(prom.reloads).toEqual(["ok"]);
      expect((await writer.ensure(availability("svc0", "7m"), prom.url)).changed).toBe(true);
      expect(writer.awaitingReload(prom.url)).toBe(1);
      await writer.requestReload(prom.url);
      expect(writer.awaitingReload()).toBe(0);
      expect(stashes(dir)).toEqual([]);
    });

    it("keeps one suspect per file while Prometheus cannot be reached, with the content to put back on disk, and finds the refused file when it answers", async () => {
      const { dir, prom, writer, file } = await setup((expr) => expr.includes("refused_at_load_total"));
      for (const n of names) await writer.ensure(ratio(n, GOOD), prom.url);
      await writer.requestReload(prom.url);
      expect(writer.awaitingReload()).toBe(0);
      expect(stashes(dir)).toEqual([]);
      const loaded = new Map(names.map((n) => [n, readFileSync(file(n), "utf8")]));

      // Each file changes four times while no reload answers: still one suspect and one copy per file,
      // and the copy is what Prometheus last loaded, not an unconfirmed change in between.
      prom.reloadStatus = 503;
      const errors = ["sum(rate(a_total[{{window}}]))", "sum(rate(b_total[{{window}}]))", "sum(rate(c_total[{{window}}]))"];
      for (const errorsExpr of errors) {
        for (const n of names) expect((await writer.ensure(ratio(n, errorsExpr), prom.url)).changed).toBe(true);
        await writer.requestReload(prom.url);
      }
      for (const n of names) await writer.ensure(ratio(n, n === "svc7" ? LOAD_REFUSED : GOOD.replace("5..", "50.")), prom.url);
      expect(writer.awaitingReload(prom.url)).toBe(names.length);
      expect(stashes(dir)).toEqual(names.map((n) => `.tollgate_games_${n}.yaml.previous`).sort());
      for (const n of names) expect(readFileSync(stashFileName(file(n), "previous"), "utf8")).toBe(loaded.get(n));

      // Back, and refusing svc7's change: it is found, its last loaded content put back from the copy;
      // every other change loads, and no copy is left.
      prom.reloadStatus = undefined;
      await writer.requestReload(prom.url);
      expect(names.filter((n) => writer.rejected("games", n) !== undefined)).toEqual(["svc7"]);
      expect(readFileSync(file("svc7"), "utf8")).toBe(loaded.get("svc7"));
      expect(prom.loaded.get("tollgate_games_svc7.yaml")).toBe(loaded.get("svc7"));
      expect(prom.loaded.get("tollgate_games_svc8.yaml")).toContain('code=~"50."');
      expect(prom.lastReloadOk()).toBe(true);
      expect(writer.awaitingReload()).toBe(0);
      expect(stashes(dir)).toEqual([]);
      expect(yamls(dir).length).toBe(names.length);
    });

    it("puts every unjudged change back when Prometheus stops answering halfway through the search", async () => {
      const { dir, prom, file } = await setup((expr) => expr.includes("refused_at_load_total"));
      let reloads = 0;
      let downAt = 3; // the first reload is refused, the second (everything withdrawn) accepted, the third fails
      const reload = async (url: string): Promise<ReloadOutcome> => {
        if (++reloads === downAt) throw new Error("connect ECONNREFUSED");
        const res = await fetch(`${url}/-/reload`, { method: "POST" });
        return res.ok ? { ok: true } : { ok: false, message: (await res.text()).trim() };
      };
      const writer = new RulesFileWriter({ dir, logger: pino({ level: "silent" }), reloadDelayMs: 50, reload });
      const four = ["a", "b", "c", "d"];
      for (const n of four) await writer.ensure(ratio(n, n === "c" ? LOAD_REFUSED : GOOD), prom.url);
      const written = new Map(four.map((n) => [n, readFileSync(file(n), "utf8")]));
      await writer.requestReload(prom.url);
      expect(reloads).toBe(3);
      for (const n of four) expect(readFileSync(file(n), "utf8")).toBe(written.get(n));
      expect(stashes(dir)).toEqual([]); // new files: nothing before them to keep, and nothing left withdrawn
      expect(writer.awaitingReload()).toBe(4);
      expect(four.filter((n) => writer.rejected("games", n) !== undefined)).toEqual([]);

      downAt = 0;
      await writer.requestReload(prom.url);
      expect(four.filter((n) => writer.rejected("games", n) !== undefined)).toEqual(["c"]);
      expect(four.filter((n) => existsSync(file(n)))).toEqual(["a", "b", "d"]);
      expect(writer.awaitingReload()).toBe(0);
      expect(prom.lastReloadOk()).toBe(true);
    });
  });
});
