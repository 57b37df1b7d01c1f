import { describe, expect, it } from "vitest";
import { InputError, UsageError } from "../cli/flags.ts";
import { lintCommand } from "./lint.ts";

const BAD = "apiVersion: tollgate.dev/v1alpha1\nkind: PerformanceProfile\nmetadata: {name: g}\nspec:\n  targetRef: {name: g}\n  policy: {warnAt: 60}\n  slos: [{name: a, objective: 99.5, window: 30d, indicator: {istio: {kind: availability}}}]\n";

function io(files: Record<string, string>) {
  let out = "";
  return {
    io: {
      out: (t: string) => void (out += t),
      read: async (path: string) => {
        const text = files[path];
        if (text === undefined) throw new Error("ENOENT");
        return text;
      },
    },
    out: () => out,
  };
}

describe("lintCommand", () => {
  it("prints every result, then fails (exit 1) when a profile is invalid", async () => {
    const t = io({ "bad.yaml": BAD });
    await expect(lintCommand(["-f", "bad.yaml", "-o", "json"], t.io)).rejects.toThrow(new InputError("1 of 1 profile invalid"));
    const doc = JSON.parse(t.out()) as { items: Array<{ ok: boolean; field: string }> };
    expect(doc.items).toEqual([expect.objectContaining({ ok: false, field: "spec.policy.unfreezeBelow" })]);
  });

  it("fails naming a file that holds no profile or cannot be read", async () => {
    await expect(lintCommand(["-f", "cm.yaml"], io({ "cm.yaml": "apiVersion: v1\nkind: ConfigMap\n" }).io)).rejects.toThrow("cm.yaml: no PerformanceProfile in it");
    await expect(lintCommand(["-f", "gone.yaml"], io({}).io)).rejects.toThrow("cannot read gone.yaml: ENOENT");
  });

  it("is a usage error (exit 2) without -f or with a positional", async () => {
    await expect(lintCommand([], io({}).io)).rejects.toThrow(UsageError);
    await expect(lintCommand(["p.yaml"], io({}).io)).rejects.toThrow("lint takes files with -f");
  });
});
