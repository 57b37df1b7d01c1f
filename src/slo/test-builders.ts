// Fixtures and promtool helpers shared by the rules, alerts and rule-set tests.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { profileSpecSchema, type ProfileSpecInput } from "../api/profile.ts";
import type { SloProfile } from "./plan.ts";

export const PROMTOOL = "/usr/bin/promtool";
export const HAS_PROMTOOL = existsSync(PROMTOOL);
/**
 * The time a test that runs promtool gets: it starts a process that parses, and for `test rules`
 * evaluates hours of rules step by step (1–3 s alone, more while the machine is busy), so vitest's
 * 5 s default is no measure of it.
 */
export const PROMTOOL_TIMEOUT_MS = 30_000;

const run = promisify(execFile);

export function profile(namespace: string, name: string, input: ProfileSpecInput): SloProfile {
  return { namespace, name, spec: profileSpecSchema.parse(input) };
}

/** Two Istio SLOs over different windows, evaluated every 30 s. */
export const game = profile("games", "game", {
  targetRef: { name: "game-service" },
  policy: { evaluationInterval: "30s" },
  slos: [
    { name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } },
    { name: "latency", objective: 95, window: "7d", indicator: { istio: { kind: "latency", threshold: "500ms" } } },
  ],
});

/** A ratio SLO over 28 days on an application's own request counter. */
export const AUTH_ERRORS = {
  name: "errors",
  objective: 99.9,
  window: "28d",
  indicator: {
    ratio: {
      errors: 'sum(rate(http_requests_total{job="auth",code=~"5.."}[{{window}}]))',
      total: 'sum(rate(http_requests_total{job="auth"}[{{window}}]))',
    },
  },
};

/** `promtool check rules FILE`: its report. */
export async function promtoolCheckRules(file: string): Promise<string> {
  return (await run(PROMTOOL, ["check", "rules", file])).stdout;
}

/** `promtool test rules FILE`: its report, or an error carrying promtool's account of what failed. */
export async function promtoolTestRules(testFile: string): Promise<string> {
  const result = await run(PROMTOOL, ["test", "rules", testFile], { maxBuffer: 16 * 1024 * 1024 }).catch((err: { stdout?: string; stderr?: string }) => {
    throw new Error(`promtool test rules failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  });
  return result.stdout;
}
