// The operator's own kubeconfig loader against the real API server: each way of authenticating a
// kubeconfig or a pod offers, the CA checked, and connections kept open across requests.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "../src/kube/client.ts";
import { ClusterAccess, loadClusterAccess } from "../src/kube/cluster-access.ts";
import { findAccess } from "../src/kube/kubeconfig.ts";
import { whoAmI } from "../src/plugin/kube.ts";
import { loadClusterEnv } from "./support/env.ts";
import { tokenKubeconfig } from "./support/identity.ts";
import { createNamespace, deleteNamespace, kubectlJson, kubectlOk } from "./support/kubectl.ts";
import { waitFor } from "./support/wait.ts";

let dir: string;
let ns: string;
let server: string;
let caData: string;
let adminToken: string;

/** A kubeconfig of the test cluster's server and CA with `user`, written to `name` in the scratch directory. */
function kubeconfigWith(name: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "e2e", cluster: { server, "certificate-authority-data": caData, ...cluster } }],
      users: [{ name: "me", user }],
      contexts: [{ name: "e2e", context: { cluster: "e2e", user: "me", namespace: ns } }],
      "current-context": "e2e",
    }),
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tollgate-access-"));
  ns = await createNamespace("access");
  const admin = tokenKubeconfig(loadClusterEnv().KUBECONFIG);
  server = admin.server;
  caData = admin.ca.toString("base64");
  adminToken = admin.token;
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await deleteNamespace(ns);
});

describe("ClusterAccess on the test cluster", () => {
  it("authenticates with a client certificate the cluster signed, read from files beside the kubeconfig", async () => {
    mkdirSync(join(dir, "certs"));
    execFileSync("openssl", ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "certs/me.key"), "-out", join(dir, "me.csr"), "-subj", "/CN=tollgate-cert-user/O=tollgate-e2e"], { stdio: "ignore" });
    const csr = `csr-${ns}`;
    await kubectlOk(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "certificates.k8s.io/v1",
        kind: "CertificateSigningRequest",
        metadata: { name: csr },
        spec: { request: readFileSync(join(dir, "me.csr")).toString("base64"), signerName: "kubernetes.io/kube-apiserver-client", usages: ["client auth"], expirationSeconds: 600 },
      }),
    );
    try {
      await kubectlOk(["certificate", "approve", csr]);
      const cert = await waitFor("the CSR's certificate", async () => (await kubectlJson<{ status?: { certificate?: string } }>(["get", "csr", csr])).status?.certificate, { timeoutMs: 30_000 });
      writeFileSync(join(dir, "certs/me.crt"), Buffer.from(cert, "base64"));
    } finally {
      await kubectlOk(["delete", "csr", csr, "--ignore-not-found"]);
    }
    const client = new KubeClient(loadClusterAccess(kubeconfigWith("cert.kubeconfig", { "client-certificate": "certs/me.crt", "client-key": "certs/me.key" })));
    expect(await whoAmI(client, "the test")).toBe("tollgate-cert-user");
  });

  it("runs an exec credential plugin once for many requests", async () => {
    const runs = join(dir, "exec-runs");
    const plugin = join(dir, "plugin.mjs");
    writeFileSync(
      plugin,
      `import { appendFileSync } from "node:fs";
appendFileSync(${JSON.stringify(runs)}, "run\\n");
const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
if (info.spec.interactive !== false || info.spec.cluster?.server !== ${JSON.stringify(server)}) process.exit(3);
process.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: "ExecCredential", status: { token: process.env.TOKEN } }));
`,
    );
    const access = loadClusterAccess(
      kubeconfigWith("exec.kubeconfig", {
        exec: { apiVersion: "client.authentication.k8s.io/v1", command: process.execPath, args: [plugin], env: [{ name: "TOKEN", value: adminToken }], provideClusterInfo: true, interactiveMode: "Never" },
      }),
    );
    const client = new KubeClient(access);
    for (let i = 0; i < 10; i++) await client.request("GET", `/api/v1/namespaces/${ns}`);
    expect(await whoAmI(client, "the test")).toBe("tollgate-admin");
    expect(readFileSync(runs, "utf8")).toBe("run\n");
  });

  it("reaches the API server as a pod does: the service's address, the mounted CA and the service account's token", async () => {
    await kubectlOk(["create", "serviceaccount", "reader", "-n", ns]);
    const sa = join(dir, "serviceaccount");
    mkdirSync(sa);
    writeFileSync(join(sa, "token"), (await kubectlOk(["create", "token", "reader", "-n", ns])).trim());
    writeFileSync(join(sa, "ca.crt"), Buffer.from(caData, "base64"));
    writeFileSync(join(sa, "namespace"), ns);
    const url = new URL(server);
    const spec = findAccess(undefined, { env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port }, serviceAccountDir: sa });
    expect(spec.source).toBe("in-cluster");
    const access = new ClusterAccess(spec);
    expect(access.namespace).toBe(ns);
    expect(await whoAmI(new KubeClient(access), "the test")).toBe(`system:serviceaccount:${ns}:reader`);
  });

  it("refuses a server whose certificate the kubeconfig's CA did not sign", async () => {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "other.key"), "-out", join(dir, "other.crt"), "-days", "1", "-subj", "/CN=other-ca"], { stdio: "ignore" });
    const client = new KubeClient(loadClusterAccess(kubeconfigWith("wrong-ca.kubeconfig", { token: adminToken }, { "certificate-authority-data": readFileSync(join(dir, "other.crt")).toString("base64") })));
    await expect(client.request("GET", "/version")).rejects.toThrow(/0 TransportError: .*(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify)/i);
  });
});
