import { afterEach, describe, expect, it } from "vitest";
import { InputError, UsageError } from "../cli/flags.ts";
import { overrideCommand, parseOverrideArgs } from "./override.ts";
import { fakeApi, notFound, PROFILES_PATH, type FakeApi } from "./test-builders.ts";

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

describe("overrideCommand against an API server", () => {
  let api: FakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  const NOW = new Date("2026-11-30T12:00:00Z");
  const REVIEWS = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
  const frozen = (annotations: Record<string, string> = {}) => ({
    apiVersion: "tollgate.dev/v1alpha1",
    kind: "PerformanceProfile",
    metadata: { name: "game", namespace: "shop", annotations },
    status: { phase: "Frozen", freeze: { since: "2026-11-30T11:00:00Z", reason: "BudgetExhausted" } },
  });
  const serve = (profile: object) =>
    fakeApi((r) => {
      if (r.path === REVIEWS && r.method === "POST") return { status: 201, body: { kind: "SelfSubjectReview", status: { userInfo: { username: "alice@example.com" } } } };
      if (r.path === `${PROFILES_PATH}/game`) return { status: 200, body: profile };
      return notFound("x");
    });

  it("asks who the caller is, then merge-patches only the annotation as kubectl-tollgate", async () => {
    api = await serve(frozen());
    let out = "";
    await overrideCommand(["game", "--reason", "hotfix INC-42", "--for", "2h", "--kubeconfig", api.kubeconfig], { out: (t) => void (out += t), now: () => NOW });
    const patch = api.requests.find((r) => r.method === "PATCH");
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${PROFILES_PATH}/game`, `POST ${REVIEWS}`, `PATCH ${PROFILES_PATH}/game`]);
    expect(patch?.contentType).toBe("application/merge-patch+json");
    expect(patch?.query.get("fieldManager")).toBe("kubectl-tollgate");
    expect(patch?.body).toEqual({
      metadata: { annotations: { "tollgate.dev/override-freeze": '{"by":"alice@example.com","reason":"hotfix INC-42","expires":"2026-11-30T14:00:00Z"}' } },
    });
    expect(out).toContain("lifts the freeze on its next evaluation");
  });

  it("writes nothing when the override would pass the cap", async () => {
    api = await serve(frozen());
    await expect(overrideCommand(["game", "--reason", "x", "--for", "8d", "--kubeconfig", api.kubeconfig], { out: () => undefined, now: () => NOW })).rejects.toThrow(InputError);
    expect(api.requests.some((r) => r.method === "PATCH")).toBe(false);
  });

  it("--clear removes the annotation with null, and writes nothing when there is none", async () => {
    api = await serve(frozen({ "tollgate.dev/override-freeze": '{"by":"bob","reason":"r","expires":"2026-11-30T13:00:00Z"}' }));
    await overrideCommand(["game", "--clear", "--kubeconfig", api.kubeconfig], { out: () => undefined, now: () => NOW });
    expect(api.requests.find((r) => r.method === "PATCH")?.body).toEqual({ metadata: { annotations: { "tollgate.dev/override-freeze": null } } });
    await api.close();
    api = await serve(frozen());
    let out = "";
    await overrideCommand(["game", "--clear", "--kubeconfig", api.kubeconfig, "-o", "json"], { out: (t) => void (out += t), now: () => NOW });
    expect(api.requests.map((r) => r.method)).toEqual(["GET"]);
    expect(JSON.parse(out)).toEqual({ namespace: "shop", name: "game", override: null });
  });
});
