import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface ClusterEnv {
  KUBECONFIG: string;
  KUBECTL: string;
  PROMETHEUS_URL: string;
  PROMETHEUS_TARGETS_DIR: string;
  PROMETHEUS_RULES_DIR: string;
  /** helm, built with the control plane, for installing the chart. */
  HELM: string;
}

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const ENV_FILE = fileURLToPath(new URL("../.run/env", import.meta.url));

/** Reads e2e/.run/env, which `npm run cluster:up` writes; the e2e suites fail fast without it. */
export function loadClusterEnv(file = ENV_FILE): ClusterEnv {
  if (!existsSync(file)) throw new Error(`${file} not found: start the test cluster with 'npm run cluster:up'`);
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) values[m[1]] = m[2];
  }
  const keys = ["KUBECONFIG", "KUBECTL", "PROMETHEUS_URL", "PROMETHEUS_TARGETS_DIR", "PROMETHEUS_RULES_DIR", "HELM"] as const;
  for (const k of keys) if (!values[k]) throw new Error(`${file} does not set ${k}`);
  return values as unknown as ClusterEnv;
}
