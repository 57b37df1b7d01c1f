import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardJson } from "../src/dashboard/grafana.ts";
import { buildFreezePolicy } from "../src/kube/freeze-policy.ts";
import { loadClusterEnv, ROOT } from "./support/env.ts";
import { createNamespace, deleteNamespace, installCrds, kubectl, kubectlJson, kubectlOk } from "./support/kubectl.ts";

// The Helm chart on the test cluster: lint, a server-side dry run of every variant, installs of the
// cluster-wide and the namespaced variant, and what the operator's ServiceAccount may and may not do.

const CHART = `${ROOT}/charts/tollgate`;
const VARIANTS = readdirSync(`${CHART}/ci`).filter((f) => f.endsWith("-values.yaml")).sort();
const FIELD_MANAGER = "tollgate-chart-e2e";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin?.end(opts.input);
  });
}

async function ok(res: Promise<Run>, what: string): Promise<string> {
  const r = await res;
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.stderr.trim()}\n${r.stdout.trim()}`);
  return r.stdout;
}

/** Reads a variable of e2e/cluster/versions.sh as the scripts see it. */
async function version(name: string): Promise<string> {
  return (await ok(run("bash", ["-c", `. e2e/cluster/versions.sh && printf %s "$${name}"`]), `versions.sh ${name}`)).trim();
}

let helmBin = "";
let kubeVersion = "";
const helm = (args: string[]) => run(helmBin, args, { env: { KUBECONFIG: loadClusterEnv().KUBECONFIG } });
/** `helm template` for the cluster's Kubernetes: a helm built from source otherwise assumes 1.20. */
const template = (release: string, namespace: string, args: string[]) =>
  ok(helm(["template", release, CHART, "--namespace", namespace, "--kube-version", kubeVersion, ...args]), `helm template ${args.join(" ")}`);

type Obj = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string> }; spec?: unknown };
const docs = (yaml: string): Obj[] => parseAllDocuments(yaml).map((d) => d.toJS() as Obj).filter((o) => o?.kind);

/** `kubectl auth can-i` as `user`; true for yes. */
async function can(user: string, args: string[]): Promise<boolean> {
  const r = await kubectl(["auth", "can-i", ...args, `--as=${user}`]);
  const answer = r.stdout.trim();
  if (answer !== "yes" && answer !== "no") throw new Error(`kubectl auth can-i ${args.join(" ")}: ${r.stderr.trim() || answer}`);
  return answer === "yes";
}

const namespaces: string[] = [];

async function freshNamespace(prefix: string, restricted = false): Promise<string> {
  const ns = await createNamespace(prefix);
  namespaces.push(ns);
  // The operator's Pods must meet the restricted Pod Security Standard: the API server enforces it here.
  if (restricted) await kubectlOk(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted"]);
  return ns;
}

beforeAll(async () => {
  await ok(run("bash", ["e2e/cluster/build.sh", "helm"]), "building helm");
  helmBin = `${await version("HELM_BIN_DIR")}/helm`;
  kubeVersion = await version("K8S_VERSION");
  // The CRD (and the freeze policy) as every suite installs them; the chart skips a CRD that exists.
  await installCrds();
}, 1_200_000);

afterAll(async () => {
  for (const ns of namespaces) await deleteNamespace(ns);
});

describe("the rendered chart", () => {
  it("deploy/install.yaml and the chart's copies of crds/ are up to date", async () => {
    const r = await run("bash", ["scripts/chart-render.sh", "--check"], { env: { HELM: helmBin } });
    expect(r.code, r.stderr).toBe(0);
  });

  it("lints strictly with the default values", async () => {
    await ok(helm(["lint", "--strict", "--kube-version", kubeVersion, CHART]), "helm lint --strict");
  });

  it.each(VARIANTS)("lints strictly with ci/%s", async (file) => {
    await ok(helm(["lint", "--strict", "--kube-version", kubeVersion, CHART, "-f", `${CHART}/ci/${file}`]), `helm lint --strict -f ${file}`);
  });

  it("refuses values of the wrong type, unknown keys and values outside the enums", async () => {
    for (const [set, message] of [
      ["replicaCount=two", "/replicaCount"],
      ["replicas=2", "additional properties 'replicas' not allowed"],
      ["readMode=Fast", "/readMode"],
      ["logLevel=verbose", "/logLevel"],
    ] as const) {
      const r = await helm(["template", "t", CHART, "--kube-version", kubeVersion, "--set", set]);
      expect(r.code, set).not.toBe(0);
      expect(r.stderr, set).toContain(message);
    }
  });

  it("renders the freeze policy as src/kube/freeze-policy.ts generates it, with the release's labels", async () => {
    const objs = docs(await template("t", "default", ["--show-only", "templates/freeze-policy.yaml"]));
    const generated = buildFreezePolicy() as Obj[];
    expect(objs.map((o) => o.kind)).toEqual(generated.map((o) => o.kind));
    objs.forEach((o, i) => {
      const want = generated[i]!;
      expect({ ...o, metadata: { ...o.metadata, labels: undefined } }).toEqual({ ...want, metadata: { ...want.metadata, labels: undefined } });
      expect(o.metadata?.labels).toMatchObject(want.metadata?.labels ?? {});
      expect(o.metadata?.labels?.["app.kubernetes.io/instance"]).toBe("t");
    });
    const off = await template("t", "default", ["--set", "freezePolicy.enabled=false"]);
    expect(docs(off).filter((o) => o.kind?.startsWith("ValidatingAdmissionPolicy"))).toEqual([]);
  });

  it.each([
    ["servicemonitor", "ServiceMonitor", "endpoints"],
    ["podmonitor", "PodMonitor", "podMetricsEndpoints"],
  ] as const)("the %s keeps the namespace label of Tollgate's series (honorLabels)", async (variant, kind, endpoints) => {
    const objs = docs(await template("t", "default", ["-f", `${CHART}/ci/${variant}-values.yaml`, "--show-only", `templates/${variant}.yaml`]));
    expect(objs.map((o) => o.kind)).toEqual([kind]);
    const eps = (objs[0]?.spec as Record<string, Array<{ honorLabels?: boolean }>>)[endpoints];
    expect(eps?.map((e) => e.honorLabels)).toEqual([true]);
  });

  it("ships the Grafana dashboard as a ConfigMap for Grafana's sidecar, byte for byte as `tollgate dashboard` prints it", async () => {
    const objs = docs(await template("t", "default", ["-f", `${CHART}/ci/dashboard-values.yaml`, "--set", "dashboard.namespace=grafana", "--show-only", "templates/dashboard.yaml"]));
    expect(objs.map((o) => o.kind)).toEqual(["ConfigMap"]);
    const cm = objs[0] as Obj & { metadata: { annotations?: Record<string, string> }; data?: Record<string, string> };
    expect(cm.metadata.name).toBe("t-tollgate-dashboard");
    expect(cm.metadata.namespace).toBe("grafana");
    expect(cm.metadata.labels).toMatchObject({ grafana_dashboard: "1", "app.kubernetes.io/instance": "t" });
    expect(cm.metadata.annotations).toEqual({ grafana_folder: "Tollgate", "example.com/owner": "platform" });
    expect(Object.keys(cm.data ?? {})).toEqual(["tollgate.json"]);
    // A block scalar with |- drops the final newline, as the template's trimSuffix does.
    expect(cm.data?.["tollgate.json"]).toBe(dashboardJson().trimEnd());
    // Off by default, and without a folder no annotation.
    expect(docs(await template("t", "default", [])).filter((o) => o.metadata?.name?.endsWith("-dashboard"))).toEqual([]);
    const plain = docs(await template("t", "default", ["--set", "dashboard.enabled=true", "--show-only", "templates/dashboard.yaml"]));
    expect(plain[0]?.metadata).not.toHaveProperty("annotations");
    expect(plain[0]?.metadata?.namespace).toBe("default");
  });
});

describe("a server-side dry run of every variant", () => {
  let ns: string;
  let watched: string;
  beforeAll(async () => {
    ns = await freshNamespace("chart-dry", true);
    watched = await freshNamespace("chart-dry-apps");
  });

  it.each(["(defaults)", ...VARIANTS])("the API server accepts %s", async (file) => {
    const args = ["--include-crds"];
    if (file !== "(defaults)") args.push("-f", `${CHART}/ci/${file}`);
    if (file.startsWith("namespaced")) args.push("--set", `watchNamespace=${watched}`);
    const yaml = await template("tollgate-dry", ns, args);
    // Server-side apply, forced: the CRD and the freeze policy exist already under the suites' field
    // manager, whose defaulted fields would otherwise conflict; a dry run persists nothing.
    const out = await kubectlOk(["apply", "--server-side", "--force-conflicts", "--dry-run=server", `--field-manager=${FIELD_MANAGER}`, "-f", "-"], yaml);
    for (const o of docs(yaml)) expect(out).toContain(`${o.metadata?.name} serverside-applied (server dry run)`);
  });
});

describe("helm install, cluster-wide (default values)", () => {
  const release = "tollgate-chart-e2e";
  let ns: string;
  let other: string;
  let sa: string;
  let manifest: Obj[];

  beforeAll(async () => {
    ns = await freshNamespace("chart-default", true);
    other = await freshNamespace("chart-default-apps");
    sa = `system:serviceaccount:${ns}:${release}`;
    // The freeze policy exists already (installed with kubectl, as crds/ says): adopt it into the release,
    // the way an install moves from `kubectl apply -f crds/` to the chart.
    for (const kind of ["validatingadmissionpolicy", "validatingadmissionpolicybinding"]) {
      if ((await kubectl(["get", kind, "tollgate-freeze"])).code !== 0) continue;
      await kubectlOk(["label", kind, "tollgate-freeze", "app.kubernetes.io/managed-by=Helm", "--overwrite"]);
      await kubectlOk(["annotate", kind, "tollgate-freeze", `meta.helm.sh/release-name=${release}`, `meta.helm.sh/release-namespace=${ns}`, "--overwrite"]);
    }
    const out = await ok(helm(["install", release, CHART, "--namespace", ns]), "helm install (defaults)");
    expect(out).toContain("Check that it runs");
    manifest = docs(await ok(helm(["get", "manifest", release, "--namespace", ns]), "helm get manifest"));
  });

  afterAll(async () => {
    await helm(["uninstall", release, "--namespace", ns, "--ignore-not-found"]);
    // The uninstall took the adopted freeze policy with it: put it back at once, as the other suites expect.
    await installCrds();
  });

  it("installs every object of the default values", () => {
    expect(manifest.map((o) => o.kind).sort()).toEqual(
      [
        "ClusterRole", "ClusterRole", "ClusterRole", "ClusterRoleBinding", "Deployment", "PodDisruptionBudget", "Role", "RoleBinding",
        "Service", "ServiceAccount", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
      ].sort(),
    );
  });

  it("runs two replicas that pass the restricted Pod Security Standard and become available", async () => {
    await kubectlOk(["-n", ns, "rollout", "status", `deployment/${release}`, "--timeout=120s"]);
    const d = await kubectlJson<{ status: { availableReplicas?: number } }>(["-n", ns, "get", "deployment", release]);
    expect(d.status.availableReplicas).toBe(2);
    const pdb = await kubectlJson<{ spec: { minAvailable: number } }>(["-n", ns, "get", "pdb", release]);
    expect(pdb.spec.minAvailable).toBe(1);
  });

  it("the freeze policy is the release's now", async () => {
    const vap = await kubectlJson<{ metadata: { labels: Record<string, string> } }>(["get", "validatingadmissionpolicy", "tollgate-freeze"]);
    expect(vap.metadata.labels["app.kubernetes.io/instance"]).toBe(release);
  });

  it("the ServiceAccount may make every call the operator makes", async () => {
    const yes: string[][] = [
      ["get", "performanceprofiles.tollgate.dev", "-n", other],
      ["list", "performanceprofiles.tollgate.dev", "--all-namespaces"],
      ["watch", "performanceprofiles.tollgate.dev", "--all-namespaces"],
      ["patch", "performanceprofiles.tollgate.dev", "--subresource=status", "-n", other],
      ["update", "performanceprofiles.tollgate.dev", "--subresource=finalizers", "-n", other],
      ["patch", "performanceprofiles.tollgate.dev", "-n", other],
      ...["list", "watch", "create", "patch", "delete"].map((v) => [v, "deployments.apps", "-n", other]),
      ...["list", "watch"].map((v) => [v, "replicasets.apps", "--all-namespaces"]),
      ["get", "replicasets.apps", "-n", other],
      ...["list", "watch", "create", "patch", "delete"].flatMap((v) =>
        ["horizontalpodautoscalers.autoscaling", "virtualservices.networking.istio.io", "destinationrules.networking.istio.io"].map((r) => [v, r, "-n", other]),
      ),
      ["create", "prometheusrules.monitoring.coreos.com", "-n", other],
      ["patch", "prometheusrules.monitoring.coreos.com", "-n", other],
      ["get", "secrets/prometheus-token", "-n", other],
      ["create", "events", "-n", other],
      ["patch", "events", "-n", other],
      ["get", "customresourcedefinitions.apiextensions.k8s.io/prometheusrules.monitoring.coreos.com"],
      ["create", "leases.coordination.k8s.io", "-n", ns],
      ["get", "leases.coordination.k8s.io/tollgate-leader", "-n", ns],
      ["update", "leases.coordination.k8s.io/tollgate-leader", "-n", ns],
      ["get", "/apis/networking.istio.io/v1"],
    ];
    for (const args of yes) expect(await can(sa, args), `can-i ${args.join(" ")}`).toBe(true);
  });

  it("the ServiceAccount may do nothing more", async () => {
    const no: string[][] = [
      ["list", "secrets", "--all-namespaces"],
      ["watch", "secrets", "-n", other],
      ["list", "secrets", "-n", other],
      ["create", "clusterrolebindings.rbac.authorization.k8s.io"],
      ["create", "rolebindings.rbac.authorization.k8s.io", "-n", other],
      ["update", "deployments.apps", "-n", other],
      ["delete", "replicasets.apps", "-n", other],
      ["get", "deployments.apps", "-n", other],
      ["create", "performanceprofiles.tollgate.dev", "-n", other],
      ["update", "performanceprofiles.tollgate.dev", "-n", other],
      ["delete", "performanceprofiles.tollgate.dev", "-n", other],
      ["delete", "prometheusrules.monitoring.coreos.com", "-n", other],
      ["list", "customresourcedefinitions.apiextensions.k8s.io"],
      ["get", "customresourcedefinitions.apiextensions.k8s.io/performanceprofiles.tollgate.dev"],
      ["get", "leases.coordination.k8s.io/someone-else", "-n", ns],
      ["update", "leases.coordination.k8s.io/tollgate-leader", "-n", other],
      ["create", "pods", "-n", other],
      ["update", "validatingadmissionpolicies.admissionregistration.k8s.io/tollgate-freeze"],
      ["delete", "events", "-n", other],
    ];
    for (const args of no) expect(await can(sa, args), `can-i ${args.join(" ")}`).toBe(false);
  });

  it("aggregates reading PerformanceProfiles into view and writing them into edit", async () => {
    const viewer = `system:serviceaccount:${other}:viewer`;
    const editor = `system:serviceaccount:${other}:editor`;
    await kubectlOk(["-n", other, "create", "rolebinding", "viewer", "--clusterrole=view", `--serviceaccount=${other}:viewer`]);
    await kubectlOk(["-n", other, "create", "rolebinding", "editor", "--clusterrole=edit", `--serviceaccount=${other}:editor`]);
    // The aggregation controller fills view and edit in within a moment.
    for (let i = 0; i < 40 && !(await can(editor, ["patch", "performanceprofiles.tollgate.dev", "-n", other])); i++) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await can(viewer, ["list", "performanceprofiles.tollgate.dev", "-n", other])).toBe(true);
    expect(await can(viewer, ["patch", "performanceprofiles.tollgate.dev", "-n", other])).toBe(false);
    expect(await can(editor, ["list", "performanceprofiles.tollgate.dev", "-n", other])).toBe(true);
    expect(await can(editor, ["patch", "performanceprofiles.tollgate.dev", "-n", other])).toBe(true);
    expect(await can(editor, ["patch", "performanceprofiles.tollgate.dev", "--subresource=status", "-n", other])).toBe(false);
  });
});

describe("helm install, namespaced (watchNamespace)", () => {
  const release = "tollgate-chart-e2e-ns";
  let ns: string;
  let watched: string;
  let outside: string;
  let sa: string;
  let manifest: Obj[];

  beforeAll(async () => {
    ns = await freshNamespace("chart-ns", true);
    watched = await freshNamespace("chart-ns-apps");
    outside = await freshNamespace("chart-ns-outside");
    sa = `system:serviceaccount:${ns}:${release}`;
    await ok(
      helm(["install", release, CHART, "--namespace", ns, "-f", `${CHART}/ci/namespaced-values.yaml`, "--set", `watchNamespace=${watched}`]),
      "helm install (namespaced)",
    );
    manifest = docs(await ok(helm(["get", "manifest", release, "--namespace", ns]), "helm get manifest"));
  });

  afterAll(async () => {
    await helm(["uninstall", release, "--namespace", ns, "--ignore-not-found"]);
  });

  it("installs Roles only: one in the watched namespace, the Lease's in its own", () => {
    expect(manifest.filter((o) => o.kind?.startsWith("Cluster") || o.kind?.startsWith("ValidatingAdmission"))).toEqual([]);
    const roles = manifest.filter((o) => o.kind === "Role" || o.kind === "RoleBinding").map((o) => `${o.kind} ${o.metadata?.namespace}`);
    expect(roles.sort()).toEqual([`Role ${ns}`, `Role ${watched}`, `RoleBinding ${ns}`, `RoleBinding ${watched}`].sort());
    const d = manifest.find((o) => o.kind === "Deployment") as unknown as { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } };
    expect(d.spec.template.spec.containers[0]!.args).toContain(`--namespace=${watched}`);
  });

  it("becomes available", async () => {
    await kubectlOk(["-n", ns, "rollout", "status", `deployment/${release}`, "--timeout=120s"]);
  });

  it("the ServiceAccount is bound to no ClusterRole", async () => {
    const crbs = await kubectlJson<{ items: Array<{ metadata: { name: string }; subjects?: Array<{ kind: string; name: string; namespace?: string }> }> }>([
      "get",
      "clusterrolebindings",
    ]);
    const bound = crbs.items.filter((b) => (b.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === release && s.namespace === ns));
    expect(bound.map((b) => b.metadata.name)).toEqual([]);
  });

  it("may write in the watched namespace and the Lease in its own", async () => {
    const yes: string[][] = [
      ["list", "performanceprofiles.tollgate.dev", "-n", watched],
      ["watch", "performanceprofiles.tollgate.dev", "-n", watched],
      ["patch", "performanceprofiles.tollgate.dev", "--subresource=status", "-n", watched],
      ["patch", "performanceprofiles.tollgate.dev", "-n", watched],
      ["patch", "deployments.apps", "-n", watched],
      ["delete", "deployments.apps", "-n", watched],
      ["create", "deployments.apps", "-n", watched],
      ["list", "replicasets.apps", "-n", watched],
      ["get", "replicasets.apps", "-n", watched],
      ["create", "horizontalpodautoscalers.autoscaling", "-n", watched],
      ["delete", "virtualservices.networking.istio.io", "-n", watched],
      ["patch", "prometheusrules.monitoring.coreos.com", "-n", watched],
      ["get", "secrets/prometheus-token", "-n", watched],
      ["create", "events", "-n", watched],
      ["create", "leases.coordination.k8s.io", "-n", ns],
      ["update", "leases.coordination.k8s.io/tollgate-leader", "-n", ns],
    ];
    for (const args of yes) expect(await can(sa, args), `can-i ${args.join(" ")}`).toBe(true);
  });

  it("may not read or write outside the watched namespace", async () => {
    const no: string[][] = [
      ["list", "performanceprofiles.tollgate.dev", "--all-namespaces"],
      ["list", "performanceprofiles.tollgate.dev", "-n", outside],
      ["patch", "performanceprofiles.tollgate.dev", "--subresource=status", "-n", outside],
      ["patch", "deployments.apps", "-n", outside],
      ["create", "deployments.apps", "-n", outside],
      ["list", "deployments.apps", "--all-namespaces"],
      ["get", "secrets/prometheus-token", "-n", outside],
      ["create", "events", "-n", outside],
      ["patch", "deployments.apps", "-n", ns],
      ["create", "leases.coordination.k8s.io", "-n", watched],
      ["get", "customresourcedefinitions.apiextensions.k8s.io/prometheusrules.monitoring.coreos.com"],
      ["list", "secrets", "-n", watched],
      ["delete", "deployments.apps", "-n", outside],
      ["create", "clusterrolebindings.rbac.authorization.k8s.io"],
    ];
    for (const args of no) expect(await can(sa, args), `can-i ${args.join(" ")}`).toBe(false);
  });
});
