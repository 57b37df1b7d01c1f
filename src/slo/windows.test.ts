import { describe, expect, it } from "vitest";
import { BURN_ROLES } from "./types.ts";
import { burnAlerts, burnWindows, canonicalWindow, queryWindows, scaleBurnWindow } from "./windows.ts";

const windowsOf = (slo: string, minBurnWindowMs?: number) => burnWindows(slo, minBurnWindowMs === undefined ? {} : { minBurnWindowMs }).map((w) => w.window);

describe("burn windows", () => {
  it("are exactly the SRE Workbook's windows for a 30d SLO window", () => {
    expect(windowsOf("30d")).toEqual(["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
    expect(burnWindows("30d").map((w) => w.role)).toEqual([...BURN_ROLES]);
  });

  it.each([
    // SLO window, scaled windows in role order: role × window / 30d, whole seconds, floor 10 s
    ["7d", ["1m10s", "7m", "14m", "28m", "1h24m", "5h36m", "16h48m"]],
    ["28d", ["4m40s", "28m", "56m", "1h52m", "5h36m", "22h24m", "2d19h12m"]],
    ["90d", ["15m", "1h30m", "3h", "6h", "18h", "3d", "9d"]],
    ["1h", ["10s", "10s", "10s", "10s", "30s", "2m", "6m"]],
    ["2m", ["10s", "10s", "10s", "10s", "10s", "10s", "12s"]],
  ])("scale with the SLO window: %s", (slo, want) => {
    expect(windowsOf(slo)).toEqual(want);
  });

  it("honour another floor: lower for a fast-scraped Prometheus, higher for a 15 s scrape interval", () => {
    expect(windowsOf("1h", 2_000)).toEqual(["2s", "3s", "5s", "10s", "30s", "2m", "6m"]);
    expect(windowsOf("2m", 2_000)).toEqual(["2s", "2s", "2s", "2s", "2s", "4s", "12s"]);
    expect(windowsOf("7d", 60_000)).toEqual(["1m10s", "7m", "14m", "28m", "1h24m", "5h36m", "16h48m"]);
    expect(windowsOf("1h", 60_000)).toEqual(["1m", "1m", "1m", "1m", "1m", "2m", "6m"]);
  });

  it("never exceed the SLO window", () => {
    expect(scaleBurnWindow("3d", "5s", { minBurnWindowMs: 10_000 })).toEqual({ role: "3d", window: "5s", ms: 5_000 });
  });

  it("collapse to distinct query windows, SLO window included, shortest first", () => {
    expect(queryWindows("2m")).toEqual(["10s", "12s", "2m"]);
    expect(queryWindows("2m", { minBurnWindowMs: 2_000 })).toEqual(["2s", "4s", "12s", "2m"]);
    expect(queryWindows("30d")).toEqual(["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]);
    expect(queryWindows("28d").at(-1)).toBe("4w");
  });

  it("have one canonical spelling", () => {
    expect(canonicalWindow("30d")).toBe("30d");
    expect(canonicalWindow("28d")).toBe("4w");
    expect(canonicalWindow("90m")).toBe("1h30m");
  });
});

describe("burn alerts", () => {
  it("pair the Workbook's windows and factors, scaled", () => {
    expect(burnAlerts("30d").map((a) => [a.long.window, a.short.window, a.factor, a.severity])).toEqual([
      ["1h", "5m", 14.4, "page"],
      ["6h", "30m", 6, "page"],
      ["1d", "2h", 3, "ticket"],
      ["3d", "6h", 1, "ticket"],
    ]);
    expect(burnAlerts("7d").map((a) => [a.long.window, a.short.window])).toEqual([
      ["14m", "1m10s"],
      ["1h24m", "7m"],
      ["5h36m", "28m"],
      ["16h48m", "1h24m"],
    ]);
  });
});
