import { afterEach, describe, expect, it } from "vitest";
import { InputError, UsageError } from "../cli/flags.ts";
import { parseStatusArgs, statusCommand } from "./status.ts";
import { fakeApi, notFound, PROFILES_PATH, type FakeApi } from "./test-builders.ts";

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

describe("statusCommand against an API server", () => {
  let api: FakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  const NOW = new Date("2026-11-30T12:00:00Z");
  const profile = {
    apiVersion: "tollgate.dev/v1alpha1",
    kind: "PerformanceProfile",
    metadata: { name: "game-service", namespace: "shop", resourceVersion: "7" },
    spec: { targetRef: { name: "game-service" }, slos: [{ name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } }] },
    status: { phase: "Healthy", budget: { consumedPercent: 12, remainingPercent: 88, worstSlo: "availability", worstBurnRate: 0.2 } },
  };

  it("lists the profiles of the context's namespace and prints a line each", async () => {
    api = await fakeApi((r) => (r.path === PROFILES_PATH ? { status: 200, body: { kind: "PerformanceProfileList", metadata: { resourceVersion: "9" }, items: [profile] } } : notFound("x")));
    let out = "";
    await statusCommand(["--kubeconfig", api.kubeconfig], { out: (t) => void (out += t), now: () => NOW });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${PROFILES_PATH}`]);
    expect(out).toMatch(/\ngame-service\s+Healthy\s+12\.0%\s+88\.0%\s+availability/);
  });

  it("reads one profile by name for -o json, and names it when the API server has none", async () => {
    api = await fakeApi((r) => (r.path === `${PROFILES_PATH}/game-service` ? { status: 200, body: profile } : notFound("nope")));
    let out = "";
    await statusCommand(["game-service", "--kubeconfig", api.kubeconfig, "-o", "json"], { out: (t) => void (out += t), now: () => NOW });
    expect(JSON.parse(out)).toMatchObject({ namespace: "shop", name: "game-service", phase: "Healthy", slos: [] });
    await expect(statusCommand(["nope", "--kubeconfig", api.kubeconfig], { out: () => undefined, now: () => NOW })).rejects.toThrow(
      new InputError("PerformanceProfile nope in namespace shop not found"),
    );
  });
});
