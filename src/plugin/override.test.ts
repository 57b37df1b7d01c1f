import { describe, expect, it } from "vitest";
import { UsageError } from "../cli/flags.ts";
import { parseOverrideArgs } from "./override.ts";

describe("parseOverrideArgs", () => {
  it("takes a name with --reason and --for, or with --clear", () => {
    expect(parseOverrideArgs(["game", "--reason", "hotfix INC-42", "--for", "2h", "-n", "shop"])).toMatchObject({
      name: "game",
      clear: false,
      reason: "hotfix INC-42",
      duration: "2h",
      namespace: "shop",
    });
    expect(parseOverrideArgs(["game", "--clear"])).toMatchObject({ name: "game", clear: true });
  });

  it.each([
    [["--clear"], "needs the name of a PerformanceProfile"],
    [["game", "--reason", "x"], "needs --reason TEXT and --for DURATION"],
    [["game", "--clear", "--for", "1h"], "--clear, or --reason and --for, not both"],
    [["a", "b", "--clear"], "takes one name"],
  ])("refuses %j as a usage error (exit 2)", (argv, message) => {
    expect(() => parseOverrideArgs(argv)).toThrow(UsageError);
    expect(() => parseOverrideArgs(argv)).toThrow(message);
  });
});
