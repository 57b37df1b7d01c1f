// OpenMetrics text of the model's counters, as `promtool tsdb create-blocks-from openmetrics` reads it:
// every sample timestamped, each family's samples together under one TYPE line, each series' samples in
// time order (series after series), and `# EOF` last.

import { cloneState, counterCount, counterIndex, LAYOUT, SCRAPE_SECONDS, simulate, type Layout, type WorkloadIdentity, type WorkloadParams, type WorkloadState } from "./model.ts";

export const REQUESTS_FAMILY = "istio_requests";
export const DURATION_FAMILY = "istio_request_duration_milliseconds";

export interface SeriesDef {
  /** The sample name with its labels, as written before the value. */
  key: string;
  /** Which counter of the workload's state it reports. */
  counter: number;
  /** Whether the value may have a fraction (the latency sum). */
  float: boolean;
}

export interface Family {
  name: string;
  type: "counter" | "histogram";
  help: string;
  series(w: WorkloadIdentity, layout: Layout): SeriesDef[];
}

/** The labels Tollgate's Istio preset selects on, and the source that makes several series per workload. */
function labelBody(w: WorkloadIdentity, source: string, code: string): string {
  return `reporter="destination",source_workload="${source}",destination_workload="${w.name}",destination_workload_namespace="${w.namespace}",response_code="${code}"`;
}

export const FAMILIES: readonly Family[] = [
  {
    name: REQUESTS_FAMILY,
    type: "counter",
    help: "Requests, as Istio's destination proxies count them.",
    series: (w, layout) =>
      layout.sources.flatMap((source, s) =>
        layout.codes.map((code, c) => ({ key: `${REQUESTS_FAMILY}_total{${labelBody(w, source, code)}}`, counter: counterIndex.requests(layout, s, c), float: false })),
      ),
  },
  {
    name: DURATION_FAMILY,
    type: "histogram",
    help: "Request duration in milliseconds, as Istio's destination proxies observe it.",
    series: (w, layout) =>
      layout.sources.flatMap((source, s) =>
        layout.codes.flatMap((code, c) => {
          const body = labelBody(w, source, code);
          const requests = counterIndex.requests(layout, s, c);
          return [
            // Istio writes bounds as integers (le="500"), which Prometheus 2 stores as written.
            ...layout.bucketsMs.map((b, i) => ({ key: `${DURATION_FAMILY}_bucket{${body},le="${b}"}`, counter: counterIndex.bucket(layout, s, c, i), float: false })),
            { key: `${DURATION_FAMILY}_bucket{${body},le="+Inf"}`, counter: requests, float: false },
            { key: `${DURATION_FAMILY}_count{${body}}`, counter: requests, float: false },
            { key: `${DURATION_FAMILY}_sum{${body}}`, counter: counterIndex.sum(layout, s, c), float: true },
          ];
        }),
      ),
  },
];

export function seriesPerWorkload(layout: Layout = LAYOUT): number {
  const w: WorkloadIdentity = { index: 0, name: "x", namespace: "x" };
  return FAMILIES.reduce((n, f) => n + f.series(w, layout).length, 0);
}

export interface Sink {
  write(text: string): void;
}

/** Collects text into pieces of about `size` characters, so a file sink makes few large writes. */
export class Buffered implements Sink {
  private pieces: string[] = [];
  private length = 0;
  private readonly out: Sink;
  private readonly size: number;
  constructor(out: Sink, size = 1 << 22) {
    this.out = out;
    this.size = size;
  }
  write(text: string): void {
    this.pieces.push(text);
    this.length += text.length;
    if (this.length >= this.size) this.flush();
  }
  flush(): void {
    if (this.pieces.length === 0) return;
    this.out.write(this.pieces.join(""));
    this.pieces = [];
    this.length = 0;
  }
}

export interface Workload {
  id: WorkloadIdentity;
  params: WorkloadParams;
}

/**
 * One file's worth: the samples at steps [fromStep, fromStep + steps) of every workload, starting from
 * `states`, which are advanced to the end. Each family is written in its own pass over the workloads,
 * simulating each again from the same state, so no more than one workload's counters are held at once.
 * Returns the number of samples written.
 */
export function writeOpenMetrics(sink: Sink, workloads: readonly Workload[], states: WorkloadState[], fromStep: number, steps: number, layout: Layout = LAYOUT): number {
  const out = new Buffered(sink);
  const buffer = new Float64Array(counterCount(layout) * steps);
  // The same suffixes for every series of the file: formatting the timestamps once saves most of the work.
  const stamps = Array.from({ length: steps }, (_, i) => ` ${(fromStep + i) * SCRAPE_SECONDS}\n`);
  const ends: WorkloadState[] = [];
  let samples = 0;
  for (const family of FAMILIES) {
    out.write(`# TYPE ${family.name} ${family.type}\n# HELP ${family.name} ${family.help}\n`);
    workloads.forEach((w, wi) => {
      const start = states[wi];
      if (!start) throw new Error(`no state for workload ${w.id.name}`);
      const state = cloneState(start);
      simulate(w.params, state, fromStep, steps, buffer, layout);
      ends[wi] = state;
      for (const series of family.series(w.id, layout)) {
        const base = series.counter * steps;
        const lines: string[] = new Array<string>(steps);
        for (let i = 0; i < steps; i++) {
          const v = buffer[base + i] ?? 0;
          lines[i] = series.key + " " + (series.float ? String(Math.round(v * 1000) / 1000) : String(v)) + stamps[i];
        }
        out.write(lines.join(""));
        samples += steps;
      }
    });
  }
  out.write("# EOF\n");
  out.flush();
  ends.forEach((s, i) => (states[i] = s));
  return samples;
}
