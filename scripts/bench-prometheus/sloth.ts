// Sloth's rules for the same SLOs: a Sloth prometheus/v1 spec per profile with the PromQL events
// Tollgate's Istio preset reads, fed to the real `sloth generate`.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import type { SloProfile } from "../../src/slo/plan.ts";
import { ISTIO_DURATION, ISTIO_REQUESTS, istioSelector, latencyUnit, leMatcher, mergeSelector, quoteLabelValue, thresholdBound } from "../../src/slo/promql.ts";
import { measuredWorkload } from "../../src/slo/plan.ts";
import { track } from "../../e2e/support/processes.ts";

export const SLOTH_VERSION = "v0.16.0";
export const SLOTH_MODULE = "github.com/slok/sloth";
const SLOTH_WINDOW = "{{.window}}";

export interface SlothSlo {
  name: string;
  objective: number;
  sli: { events: { error_query: string; total_query: string } };
  alerting: { name: string };
}

export interface SlothSpec {
  version: "prometheus/v1";
  service: string;
  slos: SlothSlo[];
}

/** Sloth's names allow letters, digits, '.', '_' and '-' (conventions.NameRegexp); Kubernetes names fit. */
export function slothService(profile: SloProfile): string {
  return `${profile.namespace}-${profile.name}`;
}

/**
 * The events of one SLO as Sloth wants them (bad and all, per second over {{.window}}), from the same
 * selectors Tollgate's Istio preset builds, so both rule sets read exactly the same series.
 */
export function slothEvents(profile: SloProfile, slo: SloProfile["spec"]["slos"][number]): SlothSlo["sli"]["events"] {
  const istio = slo.indicator.istio;
  if (!istio) throw new Error(`${profile.namespace}/${profile.name} SLO ${slo.name}: only the Istio preset has a Sloth equivalent here`);
  const all = istioSelector(measuredWorkload(profile));
  if (istio.kind === "availability") {
    const failed = mergeSelector(all, [{ name: "response_code", op: "=~", rawValue: quoteLabelValue("5..") }]);
    return {
      error_query: `sum(rate(${ISTIO_REQUESTS}${failed}[${SLOTH_WINDOW}]))`,
      total_query: `sum(rate(${ISTIO_REQUESTS}${all}[${SLOTH_WINDOW}]))`,
    };
  }
  if (!istio.threshold) throw new Error(`${profile.namespace}/${profile.name} SLO ${slo.name}: latency without a threshold`);
  const bound = thresholdBound(istio.threshold, latencyUnit(ISTIO_DURATION, "milliseconds"));
  const good = mergeSelector(all, [leMatcher(bound)]);
  return {
    error_query: `sum(rate(${ISTIO_DURATION}_count${all}[${SLOTH_WINDOW}])) - sum(rate(${ISTIO_DURATION}_bucket${good}[${SLOTH_WINDOW}]))`,
    total_query: `sum(rate(${ISTIO_DURATION}_count${all}[${SLOTH_WINDOW}]))`,
  };
}

export function slothSpec(profile: SloProfile): SlothSpec {
  return {
    version: "prometheus/v1",
    service: slothService(profile),
    slos: profile.spec.slos.map((slo) => {
      if (slo.window !== "30d") throw new Error(`${profile.name} SLO ${slo.name}: Sloth's default period is 30d, not ${slo.window}`);
      // Sloth's default page and ticket alerts stay on: they are part of what it generates for an SLO.
      return { name: slo.name, objective: slo.objective, sli: { events: slothEvents(profile, slo) }, alerting: { name: "SloErrorBudgetBurn" } };
    }),
  };
}

/** One YAML document per profile, as `sloth generate -i` splits a file on `---`. */
export function slothSpecsYaml(profiles: readonly SloProfile[]): string {
  return profiles.map((p) => `---\n${stringify(slothSpec(p), { lineWidth: 0 })}`).join("");
}

export interface RuleGroupYaml {
  name: string;
  interval?: string;
  rules: Array<Record<string, unknown>>;
}

/** `sloth generate` writes a document per spec; Prometheus reads one per rule file. */
export function mergeRuleDocuments(text: string): RuleGroupYaml[] {
  const groups: RuleGroupYaml[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`sloth's output does not parse: ${doc.errors[0]?.message ?? ""}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const g = (value as { groups?: unknown }).groups;
    if (!Array.isArray(g)) throw new Error("a document of sloth's output has no groups");
    groups.push(...(g as RuleGroupYaml[]));
  }
  return groups;
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] }));
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (out = (out + c).slice(-16_384)));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (out = (out + c).slice(-16_384)));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code: code ?? 1, out }));
  });
}

export function slothBinaryPath(): string {
  return join(homedir(), ".cache", "tollgate", "bin", `sloth-${SLOTH_VERSION}`, "sloth");
}

/**
 * Sloth built from its Go module into ~/.cache/tollgate/bin (a few minutes the first time). `go install
 * module@version` first; a throwaway module with `go build` when that refuses the module as it is.
 */
export async function ensureSloth(log: (msg: string) => void): Promise<string> {
  const bin = slothBinaryPath();
  if (existsSync(bin)) return bin;
  const dir = join(bin, "..");
  mkdirSync(dir, { recursive: true });
  log(`building sloth ${SLOTH_VERSION} into ${dir} (go install; a few minutes the first time)`);
  const env = { ...process.env, GOBIN: dir, GOFLAGS: `-mod=mod ${process.env.GOFLAGS ?? ""}`.trim() };
  const installed = await run("go", ["install", `${SLOTH_MODULE}/cmd/sloth@${SLOTH_VERSION}`], env);
  if (installed.code === 0 && existsSync(bin)) return bin;
  log(`go install failed (${installed.out.trim().split("\n").at(-1) ?? ""}); building in a temporary module`);
  const tmp = mkdtempSync(join(tmpdir(), "tollgate-sloth-build-"));
  try {
    const steps: Array<readonly string[]> = [
      ["mod", "init", "tollgate.dev/sloth-build"],
      ["get", `${SLOTH_MODULE}@${SLOTH_VERSION}`],
      ["build", "-o", bin, `${SLOTH_MODULE}/cmd/sloth`],
    ];
    for (const args of steps) {
      const r = await run("go", args, { ...process.env, GOFLAGS: "-mod=mod" }, tmp);
      if (r.code !== 0) throw new Error(`go ${args.join(" ")} failed: ${r.out.trim()}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

/** The rules file Sloth generates for the profiles' SLOs (30d period, its default plugins and alerts). */
export async function slothRulesYaml(bin: string, profiles: readonly SloProfile[]): Promise<string> {
  const tmp = mkdtempSync(join(tmpdir(), "tollgate-sloth-"));
  try {
    const input = join(tmp, "slos.yaml");
    const output = join(tmp, "rules.yaml");
    writeFileSync(input, slothSpecsYaml(profiles));
    const r = await run(bin, ["generate", "--input", input, "--out", output, "--default-slo-period", "30d"]);
    if (r.code !== 0) throw new Error(`sloth generate failed: ${r.out.trim()}`);
    return stringify({ groups: mergeRuleDocuments(readFileSync(output, "utf8")) }, { lineWidth: 0 });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
