import { describe, expect, it } from "vitest";
import { markdown } from "./markdown.ts";

describe("markdown", () => {
  it("right-aligns columns of figures and left-aligns text, in the padding and in the rule line", () => {
    const out = markdown(
      ["window", "SLO", "max %", "largest at"],
      [
        ["2h", "availability", "47.498", "svc-020-0"],
        ["30d", "latency", "-", "svc-7"],
      ],
    );
    expect(out.split("\n")).toEqual([
      "| window | SLO          |  max % | largest at |",
      "|:-------|:-------------|-------:|:-----------|",
      "| 2h     | availability | 47.498 | svc-020-0  |",
      "| 30d    | latency      |      - | svc-7      |",
    ]);
  });

  it("reads thousands separators, signs and empty cells as figures", () => {
    const out = markdown(["n"], [["1,234,567"], ["-0.5"], [""]]);
    expect(out.split("\n")[1]).toBe("|----------:|");
    expect(out.split("\n")[2]).toBe("| 1,234,567 |");
  });

  it("keeps a column of text left-aligned when one of its cells is a figure", () => {
    const out = markdown(["set apart"], [["3 raw 0"], ["12"]]);
    expect(out.split("\n")).toEqual(["| set apart |", "|:----------|", "| 3 raw 0   |", "| 12        |"]);
  });
});
