import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { KIND } from "../api/meta.ts";
import type { ProfileSpec } from "../api/profile.ts";
import { validateSpec } from "../api/validate.ts";
import { exportProfile, openSloYaml } from "./export.ts";
import type { Obj } from "./fields.ts";
import { importOpenSlo } from "./import.ts";
import { importSloth } from "./sloth.ts";

const EXAMPLES = new URL("../../examples/", import.meta.url);
const OPENSLO = new URL("openslo/", EXAMPLES);
const SLOTH = new URL("sloth/", EXAMPLES);
const exampleFiles = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

interface Example {
  name: string;
  raw: Obj;
  spec: ProfileSpec;
}

function example(file: string): Example {
  const docs = parseAllDocuments(readFileSync(new URL(file, EXAMPLES), "utf8")).map((d) => d.toJS() as Obj);
  const doc = docs.find((d) => d.kind === KIND);
  if (!doc) throw new Error(`${file}: no ${KIND}`);
  const valid = validateSpec(doc.spec);
  if (!valid.ok) throw new Error(`${file}: ${valid.message}`);
  return { name: (doc.metadata as { name: string }).name, raw: doc.spec as Obj, spec: valid.spec };
}

function exported(file: string, namespace = "default"): string {
  const e = example(file);
  return openSloYaml(exportProfile({ where: file, name: e.name, namespace, spec: e.spec, raw: e.raw }).documents);
}

/** The file without its leading comment, which says where it comes from. */
function withoutHeader(text: string): string {
  return text.replace(/^(#[^\n]*\n)+/, "");
}

describe("examples/openslo/: the seeds' services in OpenSLO", () => {
  it("has an OpenSLO file for every profile in examples/", () => {
    expect(
      readdirSync(OPENSLO)
        .filter((f) => f.endsWith(".yaml"))
        .sort(),
    ).toEqual(exampleFiles);
  });

  it.each(exampleFiles)("importing openslo/%s gives the profile in examples/, spec-equal after defaults, with nothing left out", (file) => {
    const { profiles, notes } = importOpenSlo([{ source: `examples/openslo/${file}`, text: readFileSync(new URL(file, OPENSLO), "utf8") }]);
    const want = example(file);
    expect(profiles.map((p) => p.name)).toEqual([want.name]);
    expect(profiles[0]?.validated).toEqual(want.spec);
    expect(notes).toEqual([]);
  });

  it.each(exampleFiles)("openslo/%s is what tollgate export openslo prints for the profile (regenerate it when this fails)", (file) => {
    expect(withoutHeader(readFileSync(new URL(file, OPENSLO), "utf8"))).toBe(exported(file));
  });

  it.each(exampleFiles)("%s round-trips: exported in another namespace and imported, the spec and the namespace come back", (file) => {
    const { profiles } = importOpenSlo([{ source: "exported.yaml", text: exported(file, "shop") }]);
    expect(profiles).toHaveLength(1);
    expect(profiles[0]?.namespace).toBe("shop");
    expect(profiles[0]?.validated).toEqual(example(file).spec);
  });
});

describe("examples/sloth/", () => {
  const imported = () => importSloth([{ source: "examples/sloth/game-gateway.yaml", text: readFileSync(new URL("game-gateway.yaml", SLOTH), "utf8") }], { window: "30d" });

  it("game-gateway.yaml imports to examples/game-gateway.yaml's SLOs: availability the same ratio, latency as ratios of count less bucket", () => {
    const { profiles, notes } = imported();
    const want = example("game-gateway.yaml").spec;
    const got = profiles[0]?.validated;
    expect(profiles.map((p) => p.name)).toEqual(["game-gateway"]);
    expect(got?.targetRef).toEqual(want.targetRef);
    expect(got?.slos[0]).toEqual(want.slos[0]);
    // Same names, descriptions, objectives and windows; the indicator is Sloth's ratio.
    expect(got?.slos.map(({ indicator: _, ...s }) => s)).toEqual(want.slos.map(({ indicator: _, ...s }) => s));
    expect(got?.slos[1]?.indicator.ratio?.errors).toContain('game_gateway_request_latency_seconds_bucket{job="game-gateway",le="0.1"}[{{window}}]');
    expect(got?.slos[2]?.indicator.ratio?.errors).toContain('le="0.2"}[{{window}}]');
    expect(notes).toEqual([
      "examples/sloth/game-gateway.yaml: Sloth service game-gateway: labels: not imported: Tollgate labels its series with namespace, profile and slo",
      "examples/sloth/game-gateway.yaml: Sloth service game-gateway: slos[].alerting: not imported: Tollgate writes its own burn-rate alerts from each SLO (tollgate rules)",
    ]);
  });

  it("round-trips through OpenSLO: the imported profile, exported and imported again, has the same spec", () => {
    const first = imported().profiles[0];
    if (!first) throw new Error("no profile");
    const text = openSloYaml(exportProfile({ where: "sloth", name: first.name, namespace: "default", spec: first.validated, raw: first.spec }).documents);
    expect(importOpenSlo([{ source: "exported.yaml", text }]).profiles[0]?.validated).toEqual(first.validated);
  });
});
