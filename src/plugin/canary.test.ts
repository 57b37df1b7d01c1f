import { afterEach, describe, expect, it } from "vitest";
import { InputError, UsageError } from "../cli/flags.ts";
import { canaryCommand, parseCanaryArgs } from "./canary.ts";
import { fakeApi, notFound, PROFILES_PATH, type FakeApi } from "./test-builders.ts";

describe("parseCanaryArgs", () => {
  it("takes a command and a name", () => {
    expect(parseCanaryArgs(["abort", "game", "--reason", "INC-42", "-n", "shop"])).toMatchObject({ command: "abort", name: "game", reason: "INC-42", namespace: "shop" });
  });

  it.each([
    [["pause", "game"], 'canary needs one of promote, abort, retry, not "pause"'],
    [["promote"], "canary promote needs the name of a PerformanceProfile"],
    [[], "canary needs one of promote, abort, retry"],
  ])("refuses %j as a usage error (exit 2)", (argv, message) => {
    expect(() => parseCanaryArgs(argv)).toThrow(UsageError);
    expect(() => parseCanaryArgs(argv)).toThrow(message);
  });
});

describe("canaryCommand against an API server", () => {
  let api: FakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  const NOW = new Date("2026-11-30T12:00:00Z");
  const serve = (canary: object) =>
    fakeApi((r) => {
      if (r.path === "/apis/authentication.k8s.io/v1/selfsubjectreviews") return { status: 201, body: { status: { userInfo: { username: "alice" } } } };
      if (r.path === `${PROFILES_PATH}/game`) return { status: 200, body: { metadata: { name: "game", namespace: "shop" }, status: { canary } } };
      return notFound("x");
    });
  const progressing = { phase: "Progressing", weight: 20, step: 2, failedChecks: 0, revision: 4, templateHash: "66c8f4fd5d", startedAt: "2026-11-30T11:50:00.000Z" };

  it("merge-patches the command annotation naming the run, as kubectl-tollgate", async () => {
    api = await serve(progressing);
    let out = "";
    await canaryCommand(["abort", "game", "--reason", "INC-42", "--kubeconfig", api.kubeconfig, "-o", "json"], { out: (t) => void (out += t), now: () => NOW });
    const patch = api.requests.find((r) => r.method === "PATCH");
    expect(patch?.query.get("fieldManager")).toBe("kubectl-tollgate");
    expect(patch?.body).toEqual({
      metadata: { annotations: { "tollgate.dev/canary-command": '{"command":"abort","templateHash":"66c8f4fd5d","startedAt":"2026-11-30T11:50:00.000Z","by":"alice","reason":"INC-42"}' } },
    });
    expect(JSON.parse(out)).toMatchObject({ namespace: "shop", name: "game", command: { command: "abort", by: "alice" } });
  });

  it("writes nothing and exits 1 when the canary is in no state for the command", async () => {
    api = await serve(progressing);
    await expect(canaryCommand(["retry", "game", "--kubeconfig", api.kubeconfig], { out: () => undefined, now: () => NOW })).rejects.toThrow(InputError);
    expect(api.requests.some((r) => r.method === "PATCH")).toBe(false);
  });
});
