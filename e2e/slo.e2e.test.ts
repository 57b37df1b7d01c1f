import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { profileSpecSchema, type ProfileSpecInput } from "../src/api/profile.ts";
import { PrometheusClient } from "../src/prometheus/client.ts";
import { readDirect, readRecorded, type ProfileReading } from "../src/prometheus/slo-reader.ts";
import type { SloProfile } from "../src/slo/plan.ts";
import { prometheusRule } from "../src/slo/profile-rules.ts";
import { EVENTS_RECORD, ruleGroups, rulesFileYaml } from "../src/slo/rules.ts";
import type { SloMeasurement } from "../src/slo/types.ts";
import { startSimulator, type Simulator, type WorkloadView } from "./simulator/client.ts";
import { kubectl } from "./support/kubectl.ts";
import { loadClusterEnv, type ClusterEnv } from "./support/env.ts";
import { promQuery, promScalar } from "./support/prometheus.ts";
import { sleep, waitFor } from "./support/wait.ts";

const run = promisify(execFile);

// Simulated workloads: names are the Deployments the Istio presets select by destination_workload.
// 10,000 requests a second: the simulator counts whole requests, so at 1,000 the ~150 errors of the first
// 20 s would make one request more or less a full point of consumption.
const RATE = 10_000;
const FAILING = { name: "checkout", errorRatio: 0.0075 }; // 150 % of a 99.5 % budget, 75 % of a 99 % one
const SLOW = { name: "matchmaker", slowShare: 0.05 }; // 5 % of requests at 800 ms, over a 500 ms threshold
const IDLE = "lobby"; // serves no requests: every series at zero
const GHOST = "ghost"; // not simulated at all: no series

describe("SLO measurement against the real Prometheus", () => {
  let env: ClusterEnv;
  let sim: Simulator;
  let client: PrometheusClient;
  let rulesFile: string;
  const ns = `slo-e2e-${process.pid}`;
  const sel = (workload: string) => `destination_workload="${workload}",destination_workload_namespace="${ns}"`;

  const profile = (name: string, input: ProfileSpecInput): SloProfile => ({ namespace: ns, name, spec: profileSpecSchema.parse(input) });
  const profiles: SloProfile[] = [
    profile("checkout", {
      targetRef: { name: FAILING.name },
      slos: [
        { name: "availability", objective: 99.5, window: "2m", indicator: { istio: { kind: "availability" } } },
        {
          // The same errors through the generic ratio indicator, against a looser objective.
          name: "errors",
          objective: 99,
          window: "2m",
          indicator: {
            ratio: {
              errors: `sum(rate(istio_requests_total{${sel(FAILING.name)},response_code=~"5.."}[{{window}}]))`,
              total: `sum(rate(istio_requests_total{${sel(FAILING.name)}}[{{window}}]))`,
            },
          },
        },
      ],
    }),
    profile("matchmaker", {
      targetRef: { name: SLOW.name },
      slos: [
        { name: "latency", objective: 96, window: "2m", indicator: { istio: { kind: "latency", threshold: "500ms" } } },
        {
          name: "latency-histogram",
          objective: 96,
          window: "2m",
          indicator: { latency: { metric: "istio_request_duration_milliseconds", selector: `{${sel(SLOW.name)}}`, threshold: "500ms" } },
        },
      ],
    }),
    profile("lobby", { targetRef: { name: IDLE }, slos: [{ name: "availability", objective: 99.5, window: "2m", indicator: { istio: { kind: "availability" } } }] }),
    profile("ghost", { targetRef: { name: GHOST }, slos: [{ name: "availability", objective: 99.5, window: "2m", indicator: { istio: { kind: "availability" } } }] }),
  ];
  const byName = (readings: ProfileReading[], name: string): ProfileReading => {
    const r = readings.find((x) => x.name === name);
    if (!r) throw new Error(`no reading for ${name}`);
    return r;
  };
  const slo = (r: ProfileReading, name: string): SloMeasurement => {
    const m = r.measurements.slos.find((s) => s.name === name);
    if (!m) throw new Error(`no measurement for ${r.name}/${name}`);
    return m;
  };
  const counters = async (name: string): Promise<WorkloadView["counters"]> => {
    const w = await sim.getWorkload(ns, name);
    if (!w) throw new Error(`no simulated workload ${name}`);
    return w.counters;
  };

  async function reload(): Promise<void> {
    const res = await fetch(new URL("/-/reload", env.PROMETHEUS_URL), { method: "POST" });
    if (!res.ok) throw new Error(`Prometheus reload failed: ${res.status} ${await res.text()}`);
  }

  beforeAll(async () => {
    env = loadClusterEnv();
    client = new PrometheusClient({ url: env.PROMETHEUS_URL, retries: 1, timeoutMs: 10_000 });
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    await sim.setWorkload(ns, FAILING.name, { rate: RATE, errorRatio: FAILING.errorRatio, errorCode: 503 });
    await sim.setWorkload(ns, SLOW.name, {
      rate: RATE,
      latencies: [
        { ms: 50, weight: 1 - SLOW.slowShare },
        { ms: 800, weight: SLOW.slowShare },
      ],
    });
    await sim.setWorkload(ns, IDLE, { rate: 0 });

    // Rules evaluated every second (the test Prometheus's scrape interval), checked by promtool before
    // Prometheus sees them: a broken file would make the reload fail for every suite sharing it.
    const { groups, problems } = ruleGroups(profiles, { interval: "1s" });
    expect(problems).toEqual([]);
    rulesFile = join(env.PROMETHEUS_RULES_DIR, `tollgate-slo-e2e-${process.pid}.yaml`);
    await writeFile(rulesFile, rulesFileYaml(groups));
    await run("promtool", ["check", "rules", rulesFile]);
    await reload();

    await waitFor("the simulator's series in Prometheus", () => promScalar(`sum(istio_requests_total{${sel(FAILING.name)}})`), { timeoutMs: 30_000 });
    await waitFor("the recorded series", async () => ((await promQuery(`${EVENTS_RECORD}{namespace="${ns}"}`)).length >= 5 ? true : undefined), {
      timeoutMs: 30_000,
    });
    // The longest burn window of a 2m SLO is 12s: let it fill, with a margin for the first scrapes.
    await sleep(15_000);
  });

  afterAll(async () => {
    if (rulesFile) {
      await rm(rulesFile, { force: true });
      await reload().catch(() => undefined);
    }
    await sim?.stop();
  });

  it("direct mode measures the simulator's error ratio as burn rate and budget consumption", async () => {
    // What Prometheus saw at its first scrape of the workload: increase() counts from there.
    const firstScraped = await promScalar(`sum(min_over_time(istio_requests_total{${sel(FAILING.name)}}[2m]))`);
    const before = await counters(FAILING.name);
    const readings = await readDirect(client, profiles, new Date());
    const after = await counters(FAILING.name);
    const checkout = byName(readings, "checkout");
    expect(checkout.measurements.error).toBeUndefined();
    expect(checkout.problems).toEqual([]);

    // Hand computation from the simulator's own counters: every request so far lies in the 2m window.
    const ratio = after.errors / after.total;
    const availability = slo(checkout, "availability");
    expect(availability.verdict).toBe("Ok");
    expect(Math.abs(availability.consumedPercent! - (100 * ratio) / 0.005)).toBeLessThan(0.5);
    expect(Math.abs(availability.consumedPercent! - 150)).toBeLessThan(0.5);
    expect(Math.abs(availability.sli! - 100 * (1 - ratio))).toBeLessThan(0.01);
    const errors = slo(checkout, "errors");
    expect(errors.verdict).toBe("Ok");
    expect(Math.abs(errors.consumedPercent! - (100 * ratio) / 0.01)).toBeLessThan(0.5);
    // increase() counts from the first scrape and extrapolates by up to a scrape interval at either end.
    expect(firstScraped).toBeDefined();
    expect(Math.abs(availability.events! - ((before.total + after.total) / 2 - firstScraped!))).toBeLessThan(3 * RATE);
    expect(errors.events).toBeCloseTo(availability.events!, -2);

    // Every burn window, even the 2s ones, sees the same steady ratio.
    for (const b of availability.burnRates) {
      expect(b.value, `${b.role} (${b.window})`).toBeDefined();
      expect(Math.abs(b.value! - 1.5), `${b.role} (${b.window})`).toBeLessThan(0.1);
    }
    expect(availability.burnRates.map((b) => b.window)).toEqual(["10s", "10s", "10s", "10s", "10s", "10s", "12s"]);
  });

  it("a latency SLO with 5 % slow requests consumes what the histogram says", async () => {
    const readings = await readDirect(client, profiles, new Date());
    const c = await counters(SLOW.name);
    const slowShare = 1 - (c.buckets["500"] ?? Number.NaN) / c.total;
    expect(slowShare).toBeCloseTo(SLOW.slowShare, 3);
    const matchmaker = byName(readings, "matchmaker");
    expect(matchmaker.problems).toEqual([]);
    for (const name of ["latency", "latency-histogram"]) {
      const m = slo(matchmaker, name);
      expect(m.verdict, name).toBe("Ok");
      // 5 % slow against a 4 % budget: 125 %.
      expect(Math.abs(m.consumedPercent! - (100 * slowShare) / 0.04), name).toBeLessThan(0.5);
      expect(Math.abs(m.consumedPercent! - 125), name).toBeLessThan(0.5);
    }
  });

  it("zero traffic and missing series give no verdict, never 0 %", async () => {
    for (const read of [readDirect, readRecorded]) {
      const readings = await read(client, profiles, new Date());
      for (const name of ["lobby", "ghost"]) {
        const r = byName(readings, name);
        expect(r.measurements.error).toBeUndefined();
        const m = slo(r, "availability");
        expect(m.verdict, `${read.name} ${name}`).toBe("NoData");
        expect(m.consumedPercent).toBeUndefined();
        expect(m.sli).toBeUndefined();
        expect(m.burnRates.every((b) => b.value === undefined)).toBe(true);
      }
      expect(slo(byName(readings, "lobby"), "availability").events).toBe(0);
    }
    // In rule mode a workload without any series records nothing, and the reader says so.
    const recorded = await readRecorded(client, profiles, new Date());
    expect(byName(recorded, "ghost").problems.map((p) => p.reason)).toEqual(["NotRecorded"]);
  });

  it("the recording rules produce the same numbers as the direct queries", async () => {
    for (const p of profiles.slice(0, 3)) {
      // Each group evaluates at its own offset; reading both ways at the instant the group last ran
      // compares the same data (a direct query at another instant would see other scrapes in its windows).
      const stamp = await promScalar(`max(timestamp(${EVENTS_RECORD}{namespace="${ns}",profile="${p.name}"}))`);
      expect(stamp, p.name).toBeDefined();
      const at = new Date(stamp! * 1000);
      const [direct] = await readDirect(client, [p], at);
      const [recorded] = await readRecorded(client, [p], at);
      expect(recorded?.problems, p.name).toEqual([]);
      direct!.measurements.slos.forEach((d, i) => {
        const r = recorded!.measurements.slos[i]!;
        const label = `${p.name}/${d.name}`;
        expect(r.verdict, label).toBe(d.verdict);
        expect(r.events, label).toBe(d.events);
        if (d.consumedPercent === undefined) expect(r.consumedPercent, label).toBeUndefined();
        else expect(Math.abs(r.consumedPercent! - d.consumedPercent), label).toBeLessThan(0.01);
        d.burnRates.forEach((b, j) => {
          const rb = r.burnRates[j]!;
          expect(rb.window).toBe(b.window);
          if (b.value === undefined) expect(rb.value, `${label} ${b.role}`).toBeUndefined();
          else expect(Math.abs(rb.value! - b.value), `${label} ${b.role}`).toBeLessThan(0.01);
        });
      });
    }
  });

  it("an unreachable Prometheus sets the error and gives no verdict", async () => {
    const port = await closedPort();
    const down = new PrometheusClient({ url: `http://127.0.0.1:${port}`, retries: 0, timeoutMs: 2_000 });
    for (const read of [readDirect, readRecorded]) {
      const readings = await read(down, profiles, new Date());
      expect(readings).toHaveLength(profiles.length);
      for (const r of readings) {
        expect(r.measurements.error, read.name).toMatch(/unreachable/);
        for (const m of r.measurements.slos) {
          expect(m.verdict).toBe("NoData");
          expect(m.consumedPercent).toBeUndefined();
          expect(m.sli).toBeUndefined();
          expect(m.events).toBeUndefined();
          expect(m.burnRates.every((b) => b.value === undefined)).toBe(true);
        }
      }
    }
  });

  it("the generated PrometheusRule is accepted by the prometheus-operator CRD", async () => {
    const { object } = prometheusRule({ ...profiles[0]!, namespace: "default" }, { labels: { release: "prometheus" } });
    const res = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: JSON.stringify(object), env });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/prometheusrule.monitoring.coreos.com\/checkout-tollgate-slos created \(server dry run\)/);
  });
});

/** A port nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
