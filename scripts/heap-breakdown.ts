// `node scripts/heap-breakdown.ts FILE.heapsnapshot [--top N] [--min-kib K]`: where a heap snapshot's
// memory is held. Prints the retained size (what freeing that object would free, from the dominator
// tree) of the largest objects with the path that reaches them, then self sizes by kind. Take a
// snapshot of a running operator with `--heapsnapshot-signal=SIGUSR2` and `kill -USR2 PID`, or let
// bench:scale take one per size (BENCH_HEAP_SNAPSHOTS=DIR).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { dominators, parseSnapshot, type HeapGraph } from "./heap-breakdown/graph.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "40" }, "min-kib": { type: "string", default: "256" } } });
const file = positionals[0];
if (!file) {
  process.stderr.write("usage: node scripts/heap-breakdown.ts FILE.heapsnapshot [--top N] [--min-kib K]\n");
  process.exit(2);
}
const graph: HeapGraph = parseSnapshot(JSON.parse(readFileSync(file, "utf8")));
const { retained, path } = dominators(graph);
const MiB = (bytes: number) => (bytes / 2 ** 20).toFixed(2).padStart(7);

process.stdout.write(`${file}: ${graph.count} objects, ${MiB(retained[0]!).trim()} MiB reachable\n`);
process.stdout.write(`\nlargest retained (MiB, object, path from the roots):\n`);
const minBytes = Number(values["min-kib"]) * 1024;
const holders = [...Array(graph.count).keys()]
  .filter((n) => n > 0 && retained[n]! >= minBytes && ["object", "closure", "array"].includes(graph.type(n)))
  .sort((a, b) => retained[b]! - retained[a]!)
  .slice(0, Number(values.top));
for (const n of holders) process.stdout.write(`${MiB(retained[n]!)} ${graph.label(n).padEnd(40)} ${path(n, 6)}\n`);

process.stdout.write(`\nself size by kind (MiB, count, kind):\n`);
const kinds = new Map<string, { bytes: number; count: number }>();
for (let n = 0; n < graph.count; n++) {
  const type = graph.type(n);
  const key = type === "object" || type === "closure" ? graph.label(n) : type;
  const k = kinds.get(key) ?? { bytes: 0, count: 0 };
  k.bytes += graph.selfSize(n);
  k.count++;
  kinds.set(key, k);
}
for (const [kind, k] of [...kinds].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top))) {
  process.stdout.write(`${MiB(k.bytes)} ${String(k.count).padStart(8)} ${kind}\n`);
}
