import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CELL_STEPS, cellRanges, PROMTOOL_BIN } from "./backfill.ts";
import { initialState, SCRAPE_SECONDS, workloadIdentity, workloadParams } from "./model.ts";
import { seriesPerWorkload, writeOpenMetrics, type Sink } from "./openmetrics.ts";

const run = promisify(execFile);

describe("the backfill's cells", () => {
  it("are 54 h, a divisor of the 486 h blocks promtool makes for --max-block-duration=720h, so each becomes one block", () => {
    expect(CELL_STEPS * SCRAPE_SECONDS).toBe(54 * 3600);
    expect((486 * 3600) % (CELL_STEPS * SCRAPE_SECONDS)).toBe(0);
  });

  it("cover a range without gaps, cut at multiples of the cell since the epoch", () => {
    const from = 5 * CELL_STEPS - 7;
    const to = 8 * CELL_STEPS + 3;
    const cells = cellRanges(from, to);
    expect(cells).toEqual([
      { startStep: from, endStep: 5 * CELL_STEPS - 1 },
      { startStep: 5 * CELL_STEPS, endStep: 6 * CELL_STEPS - 1 },
      { startStep: 6 * CELL_STEPS, endStep: 7 * CELL_STEPS - 1 },
      { startStep: 7 * CELL_STEPS, endStep: 8 * CELL_STEPS - 1 },
      { startStep: 8 * CELL_STEPS, endStep: to },
    ]);
    expect(cellRanges(from, from)).toEqual([{ startStep: from, endStep: from }]);
  });
});

// Debian's promtool (the one the bench converts with), where it is installed.
describe.skipIf(!existsSync(PROMTOOL_BIN))("promtool", () => {
  // Made when the test runs, not when the file is collected: a filtered run never reaches afterAll.
  let dir = "";
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), "tollgate-bench-om-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("converts the generated text into one block holding every series", async () => {
    const steps = 240;
    const from = 3 * CELL_STEPS;
    let text = "";
    const sink: Sink = { write: (t) => void (text += t) };
    const workloads = [0, 1].map((i) => ({ id: workloadIdentity(i), params: workloadParams(3, i) }));
    const samples = writeOpenMetrics(sink, workloads, [0, 1].map((i) => initialState(3, i)), from, steps);
    writeFileSync(join(dir, "in.om"), text);
    await run(PROMTOOL_BIN, ["tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=720h", join(dir, "in.om"), join(dir, "blocks")]);
    const blocks = readdirSync(join(dir, "blocks")).filter((b) => /^[0-9A-Z]{26}$/.test(b));
    expect(blocks).toHaveLength(1);
    const meta = JSON.parse(readFileSync(join(dir, "blocks", blocks[0] ?? "", "meta.json"), "utf8")) as {
      minTime: number;
      maxTime: number;
      stats: { numSeries: number; numSamples: number };
    };
    expect(meta.stats).toMatchObject({ numSeries: 2 * seriesPerWorkload(), numSamples: samples });
    expect(meta.minTime).toBe(from * SCRAPE_SECONDS * 1000);
    expect(meta.maxTime).toBe((from + steps - 1) * SCRAPE_SECONDS * 1000 + 1);
  });
});
