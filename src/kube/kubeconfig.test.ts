import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { accessFromKubeconfigs, findAccess, inClusterAccess, type AccessSpec } from "./kubeconfig.ts";

const CA = Buffer.from("ca-pem").toString("base64");

function kubeconfig(user: string, cluster = `server: https://127.0.0.1:6443\n    certificate-authority-data: ${CA}`, extra = ""): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    ${cluster}
users:
- name: u
  user:
    ${user}
contexts:
- name: main
  context: {cluster: c, user: u, namespace: team-a}
- name: other
  context: {cluster: c, user: u}
current-context: main
${extra}`;
}

const one = (text: string, context?: string): AccessSpec => accessFromKubeconfigs([{ text, file: "/home/sre/.kube/config" }], context);

describe("accessFromKubeconfigs", () => {
  it("reads the current context's server, CA, token and namespace", () => {
    const spec = one(kubeconfig("token: abc"));
    expect(spec.cluster).toEqual({ server: "https://127.0.0.1:6443", ca: { data: Buffer.from("ca-pem") }, insecureSkipTlsVerify: false, tlsServerName: undefined });
    expect(spec.credentials).toEqual({ kind: "token", token: "abc" });
    expect(spec.namespace).toBe("team-a");
    expect(spec.source).toBe("/home/sre/.kube/config (context main)");
  });

  it("takes another context when asked, and names a context it does not have", () => {
    expect(one(kubeconfig("token: abc"), "other").namespace).toBeUndefined();
    expect(() => one(kubeconfig("token: abc"), "prod")).toThrow('/home/sre/.kube/config: contexts: no context named "prod"');
  });

  it("resolves relative file paths against the kubeconfig's own directory", () => {
    const spec = one(kubeconfig("client-certificate: certs/me.crt\n    client-key: /abs/me.key\n    tokenFile: t", "server: https://127.0.0.1:6443\n    certificate-authority: ../ca.crt"));
    expect(spec.cluster.ca).toEqual({ file: "/home/sre/ca.crt" });
    expect(spec.clientCertificate).toEqual({ file: "/home/sre/.kube/certs/me.crt" });
    expect(spec.clientKey).toEqual({ file: "/abs/me.key" });
    expect(spec.credentials).toEqual({ kind: "tokenFile", file: "/home/sre/.kube/t" });
  });

  it("reads an exec credential plugin and basic auth", () => {
    const exec = one(kubeconfig("exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n      args: [eks, get-token]\n      env: [{name: AWS_PROFILE, value: prod}]\n      provideClusterInfo: true"));
    expect(exec.credentials).toEqual({
      kind: "exec",
      exec: { command: "aws", args: ["eks", "get-token"], env: [{ name: "AWS_PROFILE", value: "prod" }], apiVersion: "client.authentication.k8s.io/v1", installHint: undefined, provideClusterInfo: true },
    });
    expect(one(kubeconfig("username: admin\n    password: s3cret")).credentials).toEqual({ kind: "basic", username: "admin", password: "s3cret" });
  });

  it("merges several files as kubectl merges KUBECONFIG: the first of a name and the first current-context win", () => {
    const first = { file: "/a/config", text: "clusters:\n- name: c\n  cluster: {server: 'https://first:6443'}\ncurrent-context: main\n" };
    const second = { file: "/b/config", text: kubeconfig("token: abc", "server: https://second:6443") };
    const spec = accessFromKubeconfigs([first, second]);
    expect(spec.cluster.server).toBe("https://first:6443");
    expect(spec.credentials).toEqual({ kind: "token", token: "abc" });
    expect(spec.source).toBe("/a/config:/b/config (context main)");
  });

  it("names the field of what it cannot use", () => {
    const where = "/home/sre/.kube/config (context main)";
    expect(() => one(kubeconfig("token: abc", "insecure-skip-tls-verify: true"))).toThrow(`${where}: clusters[c].cluster.server: missing`);
    expect(() => one(kubeconfig("token: abc", "server: http://127.0.0.1:8080"))).toThrow("clusters[c].cluster.server: http://127.0.0.1:8080 is plain HTTP; set insecure-skip-tls-verify: true to allow it");
    expect(() => one(kubeconfig("token: abc", "server: https://x\n    proxy-url: http://proxy:3128"))).toThrow("clusters[c].cluster.proxy-url: proxies are not supported");
    expect(() => one(kubeconfig("auth-provider: {name: gcp}"))).toThrow("users[u].user.auth-provider: not supported");
    expect(() => one(kubeconfig("client-certificate-data: eA=="))).toThrow("users[u].user: client-certificate and client-key come together");
    expect(() => one(kubeconfig("exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}"))).toThrow(
      "users[u].user.exec.apiVersion: client.authentication.k8s.io/v1alpha1 is not supported",
    );
    expect(() => one(kubeconfig("exec: {apiVersion: client.authentication.k8s.io/v1}"))).toThrow("users[u].user.exec.command: missing");
    expect(() => one(kubeconfig("token: abc").replace("current-context: main", ""))).toThrow("current-context: not set");
    expect(() => one("clusters: {}\n")).toThrow("/home/sre/.kube/config: clusters: must be a list");
    expect(() => one("clusters: [\n")).toThrow("/home/sre/.kube/config: not YAML");
  });

  it("allows plain HTTP only with insecure-skip-tls-verify", () => {
    const spec = one(kubeconfig("token: abc", "server: http://127.0.0.1:8080/\n    insecure-skip-tls-verify: true"));
    expect(spec.cluster).toMatchObject({ server: "http://127.0.0.1:8080", insecureSkipTlsVerify: true });
  });
});

describe("the pod's service account", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function mount(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-sa-"));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }

  it("reaches the service's address with the mounted CA, a re-read token and the pod's namespace", () => {
    const dir = mount({ token: "t", "ca.crt": "pem", namespace: "tollgate-system\n" });
    expect(inClusterAccess({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }, dir)).toEqual({
      source: "in-cluster",
      namespace: "tollgate-system",
      cluster: { server: "https://10.96.0.1:443", ca: { file: join(dir, "ca.crt") }, insecureSkipTlsVerify: false },
      credentials: { kind: "tokenFile", file: join(dir, "token") },
    });
    expect(inClusterAccess({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, dir)?.cluster.server).toBe("https://[fd00::1]:443");
  });

  it("is not there outside a pod", () => {
    const dir = mount({ token: "t" });
    expect(inClusterAccess({}, dir)).toBeUndefined();
    expect(inClusterAccess({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }, join(dir, "absent"))).toBeUndefined();
  });

  it("comes before ~/.kube/config for the operator and after it for kubectl, and never with --context", () => {
    const sa = mount({ token: "t", "ca.crt": "pem" });
    const home = mount({});
    mkdirSync(join(home, ".kube"));
    writeFileSync(join(home, ".kube", "config"), kubeconfig("token: abc"));
    const env = { HOME: home, KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
    expect(findAccess(undefined, { env, serviceAccountDir: sa }).source).toBe("in-cluster");
    expect(findAccess(undefined, { env, serviceAccountDir: sa, order: "kubectl" }).source).toBe(`${home}/.kube/config (context main)`);
    expect(findAccess(undefined, { env, serviceAccountDir: sa, context: "other" }).source).toBe(`${home}/.kube/config (context other)`);
  });

  it("takes KUBECONFIG's files before either, skipping listed files that do not exist, and says when none does", () => {
    const sa = mount({ token: "t", "ca.crt": "pem" });
    const dir = mount({ config: kubeconfig("token: from-env") });
    const env = { KUBECONFIG: `${join(dir, "absent")}:${join(dir, "config")}`, KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
    expect(findAccess(undefined, { env, serviceAccountDir: sa }).credentials).toEqual({ kind: "token", token: "from-env" });
    expect(() => findAccess(undefined, { env: { KUBECONFIG: join(dir, "absent") } })).toThrow("KUBECONFIG: none of its files exists");
    expect(() => findAccess(join(dir, "absent"))).toThrow(`${join(dir, "absent")}: cannot read it: ENOENT`);
    expect(() => findAccess(undefined, { env: { HOME: dir }, serviceAccountDir: join(dir, "absent") })).toThrow(`no --kubeconfig, no KUBECONFIG, not in a pod, and no ${dir}/.kube/config`);
    expect(() => findAccess(undefined, { env: { HOME: dir, KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }, serviceAccountDir: join(dir, "absent") })).toThrow(
      `no --kubeconfig, no KUBECONFIG, KUBERNETES_SERVICE_HOST is set but ${dir}/absent/token is missing (automountServiceAccountToken: false?), and no ${dir}/.kube/config`,
    );
  });
});
