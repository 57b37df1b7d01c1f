import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findAccess } from "../../src/kube/kubeconfig.ts";
import { loadClusterEnv, ROOT } from "./env.ts";
import { createNamespace, deleteNamespace, dropProfileFinalizers, kubectl, kubectlOk } from "./kubectl.ts";

// The operator in the end-to-end suites runs as a user installs it: under the ServiceAccount and RBAC of
// the Helm chart, never the admin token. Each operator namespace gets its own release of the chart
// (cluster-wide mode, as the default install), so suites keep their own Lease and never share rights
// they would not have in production.

const DIR = join(ROOT, "e2e/.run/identity");

/** The Helm release of the chart that gives the operator watching `ns` its identity. */
export function releaseName(ns: string): string {
  return `tollgate-${ns}`.slice(0, 53).replace(/-+$/, "");
}

export function kubeconfigFor(ns: string): string {
  return join(DIR, `${ns}.kubeconfig`);
}

export function helm(args: string[]): { code: number; stdout: string; stderr: string } {
  const env = loadClusterEnv();
  const res = spawnSync(env.HELM, args, { env: { ...process.env, KUBECONFIG: env.KUBECONFIG }, encoding: "utf8" });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

export function helmOk(args: string[]): string {
  const res = helm(args);
  if (res.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${res.code}): ${res.stderr.trim()}`);
  return res.stdout;
}

/**
 * Installs the chart into `ns` with no operator Pods (the suite runs the operator as a process) and the
 * freeze admission policy left to installCrds, then writes a kubeconfig holding a token of the chart's
 * ServiceAccount (`kubectl create token`). Returns the kubeconfig's path. `values` are more `--set`s, for
 * rights that follow a value (shards=6: the Lease Role of sharded election).
 */
export async function installOperatorIdentity(ns: string, values: readonly string[] = []): Promise<string> {
  const release = releaseName(ns);
  helmOk([
    "upgrade", "--install", release, join(ROOT, "charts/tollgate"), "--namespace", ns, "--skip-crds",
    "--set", `fullnameOverride=${release}`, "--set", "replicaCount=0", "--set", "freezePolicy.enabled=false",
    ...values.flatMap((v) => ["--set", v]),
  ]);
  const token = (await kubectlOk(["-n", ns, "create", "token", release, "--duration=24h"])).trim();
  const admin = readFileSync(loadClusterEnv().KUBECONFIG, "utf8");
  const config = admin.replace(/^(\s*)token: .*$/m, `$1token: ${token}`).replace(/tollgate-admin/g, `system:serviceaccount:${ns}:${release}`);
  if (!config.includes(token)) throw new Error("the admin kubeconfig has no token line to replace");
  mkdirSync(DIR, { recursive: true });
  const file = kubeconfigFor(ns);
  writeFileSync(file, config, { mode: 0o600 });
  return file;
}

/** Removes the release of `ns`, if any: its ClusterRole and ClusterRoleBinding outlive the namespace. */
export async function uninstallOperatorIdentity(ns: string): Promise<void> {
  const res = helm(["uninstall", releaseName(ns), "--namespace", ns, "--ignore-not-found"]);
  if (res.code !== 0) await kubectl(["delete", "clusterrole,clusterrolebinding", "-l", `app.kubernetes.io/instance=${releaseName(ns)}`]);
  rmSync(kubeconfigFor(ns), { force: true });
}

/** A fresh namespace for a suite that runs the operator, with the chart's identity for it (and `values` set). */
export async function createOperatorNamespace(prefix: string, values: readonly string[] = []): Promise<string> {
  const ns = await createNamespace(prefix);
  await installOperatorIdentity(ns, values);
  return ns;
}

export async function deleteOperatorNamespace(ns: string): Promise<void> {
  await uninstallOperatorIdentity(ns);
  await deleteNamespace(ns);
}

/**
 * A fixed-name namespace (the demo's, the soak's) made afresh, with the chart's identity in it. A
 * previous run's profiles keep Tollgate's finalizer after its operator stopped, so it is dropped first.
 */
export async function recreateOperatorNamespace(ns: string, timeoutS: number): Promise<void> {
  await uninstallOperatorIdentity(ns);
  await dropProfileFinalizers(ns);
  await kubectl(["delete", "namespace", ns, "--ignore-not-found", "--wait=true", `--timeout=${timeoutS}s`]);
  await kubectlOk(["create", "namespace", ns]);
  await installOperatorIdentity(ns);
}

/**
 * The server, CA and bearer token of a kubeconfig the test cluster wrote (the admin's, or an operator
 * identity's), read with Tollgate's own loader.
 */
export function tokenKubeconfig(file: string): { server: string; ca: Buffer; token: string } {
  const spec = findAccess(file);
  const ca = spec.cluster.ca;
  if (spec.credentials.kind !== "token" || !ca || !("data" in ca)) throw new Error(`${file}: expected a bearer token and an inline CA`);
  return { server: spec.cluster.server, ca: ca.data, token: spec.credentials.token };
}
