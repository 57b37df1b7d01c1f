import { readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { InputError, UsageError } from "../cli/flags.ts";
import { explainCommand } from "./explain.ts";
import { fakeApi, notFound, PROFILES_PATH, type FakeApi } from "./test-builders.ts";

function io(files: Record<string, string> = {}) {
  let out = "";
  return {
    io: {
      out: (t: string) => void (out += t),
      now: () => new Date("2026-11-30T12:00:00Z"),
      read: async (path: string) => {
        if (files[path] !== undefined) return files[path];
        return readFile(path, "utf8");
      },
    },
    out: () => out,
  };
}

describe("explainCommand -f", () => {
  it("explains the profiles of a file without a cluster, in JSON for scripts", async () => {
    const t = io();
    await explainCommand(["-f", "examples/game-service.yaml", "-o", "json"], t.io);
    const doc = JSON.parse(t.out()) as { name: string; slos: Array<{ name: string; queries: Array<{ kind: string; expr: string; value: null }> }> };
    expect(doc.name).toBe("game-service");
    expect(doc.slos.length).toBeGreaterThan(0);
    expect(doc.slos[0]!.queries.some((q) => q.kind === "events" && q.expr.includes("[30d]"))).toBe(true);
  });

  it("exits 1 naming the file when no profile of that name is in it", async () => {
    const t = io();
    await expect(explainCommand(["-f", "examples/game-service.yaml", "nope"], t.io)).rejects.toThrow(InputError);
    await expect(explainCommand(["-f", "examples/game-service.yaml", "nope"], t.io)).rejects.toThrow("examples/game-service.yaml: no PerformanceProfile named nope in it");
  });

  it("exits 1 naming the field of an invalid profile", async () => {
    const t = io({
      "bad.yaml": "apiVersion: tollgate.dev/v1alpha1\nkind: PerformanceProfile\nmetadata: {name: bad}\nspec:\n  targetRef: {name: bad}\n  slos: [{name: a, objective: 120, window: 30d, indicator: {istio: {kind: availability}}}]\n",
    });
    await expect(explainCommand(["-f", "bad.yaml"], t.io)).rejects.toThrow(/bad.yaml: PerformanceProfile bad: spec\.slos\[0\]\.objective/);
  });

  it("is a usage error (exit 2) without a name or a file", async () => {
    await expect(explainCommand([], io().io)).rejects.toThrow(UsageError);
  });
});

describe("explainCommand NAME against an API server", () => {
  let api: FakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  const spec = { targetRef: { name: "game-service" }, slos: [{ name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } }] };
  const serve = (s: unknown) => fakeApi((r) => (r.path === `${PROFILES_PATH}/game-service` ? { status: 200, body: { metadata: { name: "game-service", namespace: "shop" }, spec: s } } : notFound("x")));

  it("explains the profile as stored, in its namespace", async () => {
    api = await serve(spec);
    const t = io();
    await explainCommand(["game-service", "--kubeconfig", api.kubeconfig], t.io);
    expect(t.out()).toContain("PerformanceProfile shop/game-service");
    expect(t.out()).toContain('destination_workload_namespace="shop"');
  });

  it("exits 1 naming the field when the stored spec is one the operator refuses", async () => {
    api = await serve({ ...spec, slos: [{ ...spec.slos[0], objective: 100 }] });
    await expect(explainCommand(["game-service", "--kubeconfig", api.kubeconfig], io().io)).rejects.toThrow(/PerformanceProfile game-service in namespace shop: spec\.slos\[0\]\.objective/);
  });
});
