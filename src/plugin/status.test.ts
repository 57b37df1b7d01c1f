import { describe, expect, it } from "vitest";
import { UsageError } from "../cli/flags.ts";
import { parseStatusArgs } from "./status.ts";

describe("parseStatusArgs", () => {
  it("takes a name, a namespace, an output format and --watch", () => {
    expect(parseStatusArgs(["game-service", "-n", "shop", "-o", "json", "-w"])).toMatchObject({
      name: "game-service",
      namespace: "shop",
      all: false,
      output: "json",
      watch: true,
    });
    expect(parseStatusArgs(["-A"])).toMatchObject({ name: undefined, all: true, output: "table" });
  });

  it.each([
    [["a", "b"], "at most one name"],
    [["a", "-A"], "a NAME or -A, not both"],
    [["-A", "-n", "shop"], "-n NS or -A, not both"],
    [["-o", "wide"], '-o must be json or yaml, not "wide"'],
    [["-n", "Not_A_Namespace"], "-n must be a namespace name"],
    [["--prometheus", "http://127.0.0.1:9090"], "give a NAME"],
    [["--colour"], "--colour"],
  ])("refuses %j as a usage error (exit 2) naming what is wrong", (argv, message) => {
    expect(() => parseStatusArgs(argv)).toThrow(UsageError);
    expect(() => parseStatusArgs(argv)).toThrow(message);
  });
});
