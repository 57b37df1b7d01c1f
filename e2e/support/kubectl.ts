import { spawn } from "node:child_process";
import { loadClusterEnv, ROOT, type ClusterEnv } from "./env.ts";
import { waitFor } from "./wait.ts";

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the cluster's own kubectl, as a user would; tests assert on what it prints and refuses.
 * `pathFirst` goes first on its PATH, where kubectl looks for plugins.
 */
export function kubectl(args: string[], opts: { input?: string; env?: ClusterEnv; pathFirst?: string } = {}): Promise<KubectlResult> {
  const env = opts.env ?? loadClusterEnv();
  return new Promise((resolve, reject) => {
    const child = spawn(env.KUBECTL, args, {
      env: { ...process.env, KUBECONFIG: env.KUBECONFIG, ...(opts.pathFirst ? { PATH: `${opts.pathFirst}:${process.env.PATH ?? ""}` } : {}) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

/** kubectl that must succeed; the error carries kubectl's stderr. */
export async function kubectlOk(args: string[], input?: string): Promise<string> {
  const res = await kubectl(args, { input });
  if (res.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${res.code}): ${res.stderr.trim()}`);
  return res.stdout;
}

export async function kubectlJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk([...args, "-o", "json"])) as T;
}

export async function applyYaml(yaml: string, namespace?: string): Promise<string> {
  const ns = namespace ? ["-n", namespace] : [];
  return kubectlOk(["apply", ...ns, "-f", "-"], yaml);
}

let counter = 0;

/** A fresh namespace per suite, so suites sharing the cluster never see each other's objects. */
export async function createNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`.slice(0, 63);
  await kubectlOk(["create", "namespace", name]);
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await dropProfileFinalizers(name);
  await kubectl(["delete", "namespace", name, "--wait=false", "--ignore-not-found"]);
}

/**
 * Takes the finalizers off every profile in `ns`. A suite's operator has usually stopped by the time
 * its namespace goes, and nothing else would ever remove Tollgate's finalizer: the namespace would
 * stay Terminating. (Suites that test the hand-back delete their profiles while the operator runs.)
 */
export async function dropProfileFinalizers(ns: string): Promise<void> {
  const names = await kubectl(["-n", ns, "get", "pp", "-o", "name", "--ignore-not-found"]);
  if (names.code !== 0) return;
  for (const name of names.stdout.split("\n").filter((n) => n.trim() !== "")) {
    await kubectl(["-n", ns, "patch", name.trim(), "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
  }
}

/**
 * Applies Tollgate's CRDs from crds/ and waits until the API serves them. Polled rather than `kubectl
 * wait`, which fails outright on a CRD whose status has no conditions yet, as it has for a moment after
 * it is created (two suites starting together meet that moment).
 */
export async function installCrds(): Promise<void> {
  await kubectlOk(["apply", "--server-side", "--force-conflicts", "--field-manager=tollgate-e2e", "-f", `${ROOT}/crds/`]);
  await waitFor("the PerformanceProfile CRD to be Established", async () => {
    const res = await kubectl(["get", "crd", "performanceprofiles.tollgate.dev", "-o", `jsonpath={.status.conditions[?(@.type=="Established")].status}`]);
    return res.code === 0 && res.stdout.trim() === "True" ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });
}
