import { describe, expect, it } from "vitest";
import { initialState, intervalShares, latencyCdf, LAYOUT, SCRAPE_SECONDS, workloadIdentity, workloadParams, type WorkloadState } from "./model.ts";
import { DURATION_FAMILY, REQUESTS_FAMILY, seriesPerWorkload, writeOpenMetrics, type Sink, type Workload } from "./openmetrics.ts";

class StringSink implements Sink {
  text = "";
  write(t: string): void {
    this.text += t;
  }
}

/** Two workloads whose pods restart about every half hour and fail in bursts, so a short run shows both. */
function workloads(): Workload[] {
  return [0, 1].map((i) => ({ id: workloadIdentity(i), params: { ...workloadParams(7, i), restartGapS: 1800, errorBurstGapS: 1200 } }));
}

function generate(from: number, steps: number, states: WorkloadState[]): string {
  const sink = new StringSink();
  writeOpenMetrics(sink, workloads(), states, from, steps);
  return sink.text;
}

const FROM = Math.floor(1_764_000_000 / SCRAPE_SECONDS);
const STEPS = 480;

interface Line {
  key: string;
  value: number;
  ts: number;
}

function samples(text: string): Line[] {
  return text
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const [key = "", value = "", ts = ""] = l.split(" ");
      return { key, value: Number(value), ts: Number(ts) };
    });
}

function bySeries(lines: readonly Line[]): Map<string, Line[]> {
  const out = new Map<string, Line[]>();
  for (const l of lines) out.set(l.key, [...(out.get(l.key) ?? []), l]);
  return out;
}

describe("the OpenMetrics backfill", () => {
  const text = generate(FROM, STEPS, [0, 1].map((i) => initialState(7, i)));
  const lines = samples(text);
  const series = bySeries(lines);

  it("declares each family once, before its samples, and ends with # EOF", () => {
    const comments = text.split("\n").filter((l) => l.startsWith("#"));
    expect(comments).toEqual([
      `# TYPE ${REQUESTS_FAMILY} counter`,
      expect.stringMatching(new RegExp(`^# HELP ${REQUESTS_FAMILY} `)),
      `# TYPE ${DURATION_FAMILY} histogram`,
      expect.stringMatching(new RegExp(`^# HELP ${DURATION_FAMILY} `)),
      "# EOF",
    ]);
    expect(text.endsWith("# EOF\n")).toBe(true);
    const durationType = text.indexOf(`# TYPE ${DURATION_FAMILY}`);
    expect(text.lastIndexOf(`${REQUESTS_FAMILY}_total{`)).toBeLessThan(durationType);
    expect(text.indexOf(`${DURATION_FAMILY}_bucket{`)).toBeGreaterThan(durationType);
  });

  it("writes every series of every workload at every step, timestamped in seconds, each series in one run in time order", () => {
    expect(series.size).toBe(2 * seriesPerWorkload());
    expect(lines).toHaveLength(2 * seriesPerWorkload() * STEPS);
    let previous = "";
    const seen = new Set<string>();
    for (const l of lines) {
      if (l.key !== previous) {
        expect(seen.has(l.key), `${l.key} appears in two runs`).toBe(false);
        seen.add(l.key);
        previous = l.key;
      }
    }
    for (const [key, ls] of series) {
      expect(ls.map((l) => l.ts), key).toEqual(Array.from({ length: STEPS }, (_, i) => (FROM + i) * SCRAPE_SECONDS));
    }
    expect(series.has(`${REQUESTS_FAMILY}_total{reporter="destination",source_workload="frontend",destination_workload="svc-001",destination_workload_namespace="team-1",response_code="500"}`)).toBe(true);
  });

  it("keeps counters monotonic except where the workload's pod restarted, when all of them fall together", () => {
    for (const w of ["svc-000", "svc-001"]) {
      const own = [...series].filter(([k]) => k.includes(`destination_workload="${w}"`));
      const ok = own.find(([k]) => k.startsWith(`${REQUESTS_FAMILY}_total{`) && k.includes('response_code="200"'))?.[1] ?? [];
      const resets = new Set<number>();
      ok.forEach((l, i) => i > 0 && l.value < (ok[i - 1]?.value ?? 0) && resets.add(i));
      expect(resets.size, `${w} restarted`).toBeGreaterThan(0);
      for (const [key, ls] of own) {
        ls.forEach((l, i) => {
          if (i > 0 && l.value < (ls[i - 1]?.value ?? 0)) expect(resets.has(i), `${key} fell at step ${i} without a restart`).toBe(true);
        });
      }
    }
  });

  it("has errors (in bursts) and a histogram whose buckets add up to its count and the requests", () => {
    const errors = [...series].filter(([k]) => k.startsWith(`${REQUESTS_FAMILY}_total{`) && k.includes('response_code="500"'));
    expect(errors.some(([, ls]) => ls.some((l) => l.value > 0))).toBe(true);
    for (const [key, ls] of series) {
      if (!key.startsWith(`${REQUESTS_FAMILY}_total{`)) continue;
      const body = key.slice(key.indexOf("{") + 1, -1);
      const count = series.get(`${DURATION_FAMILY}_count{${body}}`);
      const inf = series.get(`${DURATION_FAMILY}_bucket{${body},le="+Inf"}`);
      const buckets = LAYOUT.bucketsMs.map((b) => series.get(`${DURATION_FAMILY}_bucket{${body},le="${b}"}`));
      ls.forEach((l, i) => {
        expect(count?.[i]?.value).toBe(l.value);
        expect(inf?.[i]?.value).toBe(l.value);
        const cumulative = buckets.map((b) => b?.[i]?.value ?? NaN);
        expect([...cumulative, l.value]).toEqual([...cumulative, l.value].sort((a, b) => a - b));
      });
    }
  });

  it("continues exactly where it stopped: two halves from the carried state are the whole", () => {
    const states = [0, 1].map((i) => initialState(7, i));
    const first = samples(generate(FROM, STEPS / 2, states));
    const second = samples(generate(FROM + STEPS / 2, STEPS / 2, states));
    const halves = bySeries([...first, ...second]);
    for (const [key, ls] of series) expect(halves.get(key), key).toEqual(ls);
  });
});

describe("the latency model", () => {
  it("puts half the requests under the median and shares every request out to one interval", () => {
    expect(latencyCdf(80, 80, 0.7)).toBeCloseTo(0.5, 6);
    const shares = intervalShares(LAYOUT.bucketsMs, 60, 0.7);
    expect(shares).toHaveLength(LAYOUT.bucketsMs.length + 1);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(shares.every((s) => s >= 0)).toBe(true);
  });
});
