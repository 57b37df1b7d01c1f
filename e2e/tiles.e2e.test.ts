import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BAD_TILE_RECORD, EVENTS_TILE_RECORD, TILES_SINCE_RECORD } from "../src/slo/tiles.ts";
import { EVENTS_RECORD } from "../src/slo/rules.ts";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import { loadClusterEnv } from "./support/env.ts";
import { applyYaml, installCrds, kubectlJson } from "./support/kubectl.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { promQuery } from "./support/prometheus.ts";
import { waitFor } from "./support/wait.ts";
import { deploymentYaml } from "./support/workloads.ts";

// The tiles on the real Prometheus, with a 5 s tile so a window longer than twelve of them (60 s) fits
// in a test: the operator writes the tiles group at once and reads the 90 s SLO window raw, Prometheus
// records the tiles and when their run began, and once they cover the window the operator moves it
// onto them, where it measures the same events as a raw increase() at the same instant.
const TILE_S = 5;
const WINDOW_S = 90;
const WINDOW = "1m30s";

interface RulesFile {
  groups: Array<{ name: string; interval?: string; rules: Array<{ record: string; expr: string; labels: Record<string, string> }> }>;
}

describe("tiles on the test Prometheus", () => {
  const env = loadClusterEnv();
  let ns: string;
  let sim: Simulator;
  let operator: OperatorProcess;
  let file: string;

  const rules = (): RulesFile | undefined => (existsSync(file) ? (parse(readFileSync(file, "utf8")) as RulesFile) : undefined);
  const windowRule = (f: RulesFile | undefined, record: string) => f?.groups.flatMap((g) => g.rules).find((r) => r.record === record && r.labels.window === WINDOW);

  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-tiles");
    file = join(env.PROMETHEUS_RULES_DIR, `tollgate_${ns}_api.yaml`);
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    await sim.setWorkload(ns, "api", { rate: 1000, errorRatio: 0.002 });
    await applyYaml(deploymentYaml("api", "registry.example/api:1.0.0"), ns);
    operator = startOperator([
      "--namespace", ns,
      "--prometheus-url", env.PROMETHEUS_URL,
      "--read-mode", "RecordingRules",
      "--rules-dir", env.PROMETHEUS_RULES_DIR,
      "--tile", `${TILE_S}s`,
    ]);
    await applyYaml(
      `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: api}
spec:
  targetRef: {name: api}
  slos:
    - name: availability
      objective: 99.5
      window: ${WINDOW_S}s
      indicator: {istio: {kind: availability}}
  policy:
    evaluationInterval: 2s
    minEvents: 10
`,
      ns,
    );
  });
  afterAll(async () => {
    await operator?.stop();
    await sim?.stop();
    await deleteOperatorNamespace(ns);
    rmSync(file, { force: true });
    await fetch(`${env.PROMETHEUS_URL}/-/reload`, { method: "POST" }).catch(() => undefined);
  });

  it("writes the tiles group at once, and reads the window raw until the tiles cover it", async () => {
    const first = await waitFor("the rules file", () => rules());
    const tiles = first.groups.find((g) => g.name === `tollgate/${ns}/api/tiles`);
    expect(tiles?.interval).toBe(`${TILE_S}s`);
    expect(tiles?.rules.map((r) => r.record)).toEqual([BAD_TILE_RECORD, EVENTS_TILE_RECORD, TILES_SINCE_RECORD]);
    expect(windowRule(first, EVENTS_RECORD)?.expr).toContain("istio_requests_total");
  });

  it("has Prometheus record when the tiles began", async () => {
    const since = await waitFor("the tiles' start", async () => (await promQuery(`${TILES_SINCE_RECORD}{namespace="${ns}"}`))[0], { timeoutMs: 60_000 });
    expect(since.metric).toMatchObject({ profile: "api", slo: "availability" });
    expect(Math.abs(since.value - Date.now() / 1000)).toBeLessThan(60);
  });

  it("moves the window onto the tiles once they cover it, and measures there what a raw increase() does", { timeout: 240_000 }, async () => {
    await waitFor("the window summed from tiles", () => (windowRule(rules(), EVENTS_RECORD)?.expr.includes(EVENTS_TILE_RECORD) ? true : undefined), { timeoutMs: 180_000 });
    // The recorded tiled figure at the instant Prometheus wrote it, against the raw increase() there.
    const selector = `{namespace="${ns}",profile="api",slo="availability",window="${WINDOW}"}`;
    const [stamp] = await waitFor("a tiled evaluation", async () => {
      const s = await promQuery(`timestamp(${EVENTS_RECORD}${selector})`);
      // The first evaluation after the reload that loaded the tiled rules.
      return s.length > 0 && (s[0]?.value ?? 0) * 1000 > Date.now() - 1_000 ? s : undefined;
    }, { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 10_000));
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const recordedAt = (await promQuery(`timestamp(${EVENTS_RECORD}${selector})`, at))[0]?.value ?? 0;
    expect(recordedAt).toBeGreaterThan(stamp?.value ?? 0);
    const when = new Date(recordedAt * 1000);
    const tiled = (await promQuery(`${EVENTS_RECORD}${selector}`, when))[0]?.value ?? NaN;
    const raw = (await promQuery(`sum(increase(istio_requests_total{destination_workload="api",destination_workload_namespace="${ns}",reporter="destination"}[${WINDOW_S}s]))`, when))[0]?.value ?? NaN;
    const error = Math.abs(tiled - raw) / raw;
    process.stdout.write(`events over ${WINDOW}: tiled ${tiled.toFixed(0)}, raw ${raw.toFixed(0)}, ${(error * 100).toFixed(2)} % apart\n`);
    // A tiled window ends at its last tile and holds whole tiles: off by at most one tile of the window.
    expect(error).toBeLessThanOrEqual(TILE_S / WINDOW_S);

    const status = await kubectlJson<{ status?: { slos?: Array<{ name: string; consumedPercent?: number; events?: number }> } }>(["-n", ns, "get", "pp", "api"]);
    const slo = status.status?.slos?.find((s) => s.name === "availability");
    // 0.2 % errors of a 0.5 % budget.
    expect(slo?.consumedPercent).toBeGreaterThan(40 * (1 - TILE_S / WINDOW_S));
    expect(slo?.consumedPercent).toBeLessThan(40 * (1 + TILE_S / WINDOW_S));
  });
});
