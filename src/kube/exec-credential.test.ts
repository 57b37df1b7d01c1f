import { describe, expect, it } from "vitest";
import { execInfo, parseExecCredential, runExecPlugin } from "./exec-credential.ts";
import type { ExecSpec } from "./kubeconfig.ts";

const spec = (over: Partial<ExecSpec> = {}): ExecSpec => ({ command: "plugin", args: [], env: [], apiVersion: "client.authentication.k8s.io/v1", provideClusterInfo: false, ...over });

describe("parseExecCredential", () => {
  it("reads a token and when it expires", () => {
    const out = JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: "t", expirationTimestamp: "2026-11-30T13:00:00Z" } });
    expect(parseExecCredential(out, "aws")).toEqual({ token: "t", clientCertificateData: undefined, clientKeyData: undefined, expiresAtMs: Date.parse("2026-11-30T13:00:00Z") });
  });

  it("reads a client certificate", () => {
    const out = JSON.stringify({ status: { clientCertificateData: "CERT", clientKeyData: "KEY" } });
    expect(parseExecCredential(out, "p")).toMatchObject({ clientCertificateData: "CERT", clientKeyData: "KEY" });
  });

  it("names what is wrong with what the plugin printed", () => {
    expect(() => parseExecCredential("Enter MFA code:", "aws")).toThrow("exec plugin aws: printed no JSON ExecCredential");
    expect(() => parseExecCredential("{}", "aws")).toThrow("exec plugin aws: ExecCredential has no status");
    expect(() => parseExecCredential('{"status":{}}', "aws")).toThrow("exec plugin aws: status has neither token nor clientCertificateData");
    expect(() => parseExecCredential('{"status":{"token":5}}', "aws")).toThrow("exec plugin aws: status.token must be a string");
    expect(() => parseExecCredential('{"status":{"token":"t","expirationTimestamp":"soon"}}', "aws")).toThrow("status.expirationTimestamp soon is not a time");
    expect(() => parseExecCredential('{"status":{"clientCertificateData":"C"}}', "aws")).toThrow("status.clientCertificateData and status.clientKeyData come together");
  });
});

describe("execInfo", () => {
  const cluster = { server: "https://127.0.0.1:6443", insecureSkipTlsVerify: false, tlsServerName: "kubernetes" };
  it("says the run is not interactive, and gives the cluster only when the plugin asks for it", () => {
    expect(JSON.parse(execInfo(spec(), cluster, Buffer.from("pem")))).toEqual({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", spec: { interactive: false } });
    expect(JSON.parse(execInfo(spec({ provideClusterInfo: true }), cluster, Buffer.from("pem"))).spec.cluster).toEqual({
      server: "https://127.0.0.1:6443",
      "tls-server-name": "kubernetes",
      "certificate-authority-data": Buffer.from("pem").toString("base64"),
      "insecure-skip-tls-verify": false,
    });
  });
});

describe("runExecPlugin", () => {
  // A real child process: the plugin echoes what it was told back as its token.
  const echo = `const i = JSON.parse(process.env.KUBERNETES_EXEC_INFO); process.stdout.write(JSON.stringify({ status: { token: process.env.ROLE + ":" + i.spec.interactive } }))`;

  it("runs the command with the kubeconfig's env and KUBERNETES_EXEC_INFO", async () => {
    const s = spec({ command: process.execPath, args: ["-e", echo], env: [{ name: "ROLE", value: "sre" }] });
    await expect(runExecPlugin(s, execInfo(s, { server: "https://x", insecureSkipTlsVerify: false }, undefined))).resolves.toMatchObject({ token: "sre:false" });
  });

  it("says how to install a command it cannot find, and what a failing one wrote", async () => {
    await expect(runExecPlugin(spec({ command: "/nonexistent/aws", installHint: "Install the AWS CLI.\n" }), "{}")).rejects.toThrow("exec plugin /nonexistent/aws: not found; Install the AWS CLI.");
    await expect(runExecPlugin(spec({ command: process.execPath, args: ["-e", "console.error('token expired, run aws sso login'); process.exit(1)"] }), "{}")).rejects.toThrow(
      `exec plugin ${process.execPath} failed: token expired, run aws sso login`,
    );
  });
});
