import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { EXPORT_USAGE, exportCommand, parseExportArgs } from "./export.ts";
import { InputError, UsageError } from "./flags.ts";
import { io, rejection } from "./test-builders.ts";

const GAME_SERVICE = readFileSync(new URL("../../examples/game-service.yaml", import.meta.url), "utf8");
const GAME_SERVICE_OPENSLO = readFileSync(new URL("../../examples/openslo/game-service.yaml", import.meta.url), "utf8");

describe("tollgate export: flags", () => {
  it("takes the format, files and the namespace", () => {
    expect(parseExportArgs(["openslo", "-f", "a.yaml", "-f", "b.yaml", "-n", "shop"])).toEqual({ files: ["a.yaml", "b.yaml"], namespace: "shop" });
    expect(parseExportArgs(["--help"])).toBe("help");
  });

  it.each([
    [["sloth", "-f", "a.yaml"], 'export needs a format, openslo, not "sloth"'],
    [["openslo"], "export openslo needs -f FILE"],
    [["openslo", "-f", "a.yaml", "-n", "a_b"], '-n must be a namespace name, not "a_b"'],
  ])("refuses %j with a usage error (exit 2)", (argv, message) => {
    let err: unknown;
    try {
      parseExportArgs(argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(message);
  });
});

describe("tollgate export: the command", () => {
  it("prints the profiles of a file of several kinds as the OpenSLO documents of examples/openslo/", async () => {
    const { fake, out } = io({ "game-service.yaml": GAME_SERVICE });
    await exportCommand(["openslo", "-f", "game-service.yaml"], fake);
    expect(out.stdout).toBe(GAME_SERVICE_OPENSLO.replace(/^(#[^\n]*\n)+/, ""));
    expect(out.stderr).toEqual([]);
  });

  it("writes the namespace -n gives into the Service's annotation and the Istio presets' queries", async () => {
    const { fake, out } = io({ "game-service.yaml": GAME_SERVICE });
    await exportCommand(["openslo", "-f", "game-service.yaml", "-n", "games"], fake);
    const [service, slo] = parseAllDocuments(out.stdout).map((d) => d.toJS() as { metadata: { annotations?: Record<string, string> } });
    expect(service?.metadata.annotations?.["tollgate.dev/namespace"]).toBe("games");
    expect(JSON.stringify(slo)).toContain('destination_workload_namespace=\\"games\\"');
  });

  it("fails with an input error (exit 1) for a file without a profile, or an invalid profile, naming it", async () => {
    const none = await rejection(exportCommand(["openslo", "-f", "d.yaml"], io({ "d.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n" }).fake));
    expect(none).toBeInstanceOf(InputError);
    expect(none.message).toBe("d.yaml: no PerformanceProfile in it");
    const invalid = await rejection(exportCommand(["openslo", "-f", "p.yaml"], io({ "p.yaml": GAME_SERVICE.replace("objective: 99.5", "objective: 100") }).fake));
    expect(invalid).toBeInstanceOf(InputError);
    expect(invalid.message).toContain("p.yaml: PerformanceProfile game-service: spec.slos[0].objective");
  });

  it("says in its usage what does not round-trip", () => {
    expect(EXPORT_USAGE).toContain("Not kept:");
    expect(EXPORT_USAGE).toContain("Other OpenSLO tools read the SLOs and their queries only.");
  });
});
