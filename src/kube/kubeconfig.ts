// Which API server to reach and as whom: a kubeconfig (the --kubeconfig flag, else $KUBECONFIG), the
// pod's service account, or ~/.kube/config (findAccess says in which order). Only what the
// operator and its kubectl plugin use is read: the current context's cluster (server, CA, TLS server
// name, skip-verify) and user (client certificate, bearer token or token file, basic auth, or an exec
// credential plugin). Anything else that would change how a request is made (auth-provider, proxy-url)
// is refused by name rather than silently ignored.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { parse } from "yaml";

/** Bytes given inline (the `-data` fields, base64) or by a file path, resolved against the kubeconfig's directory. */
export type Material = { data: Buffer } | { file: string };

export interface ExecSpec {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  /** Shown when the command cannot be run: how to install it. */
  installHint?: string;
  provideClusterInfo: boolean;
}

export type Credentials =
  | { kind: "none" }
  | { kind: "token"; token: string }
  /** Re-read as it rotates (a projected service-account token). */
  | { kind: "tokenFile"; file: string }
  | { kind: "basic"; username: string; password: string }
  | { kind: "exec"; exec: ExecSpec };

export interface ClusterSpec {
  server: string;
  ca?: Material;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
}

export interface AccessSpec {
  /** Where it came from, for messages: a kubeconfig's path and context, or "in-cluster". */
  source: string;
  /** The context's namespace (the pod's own, in a cluster): what kubectl uses when -n is not given. */
  namespace?: string;
  cluster: ClusterSpec;
  clientCertificate?: Material;
  clientKey?: Material;
  credentials: Credentials;
}

type Doc = Record<string, unknown>;

export class KubeconfigError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = "KubeconfigError";
  }
}

function isDoc(v: unknown): v is Doc {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The named entries of one of a kubeconfig's lists, first of a name winning (kubectl's merge rule). */
function named(doc: Doc, list: "clusters" | "users" | "contexts", into: Map<string, Doc>): void {
  const entries = doc[list];
  if (entries === undefined || entries === null) return;
  if (!Array.isArray(entries)) throw new Error(`${list}: must be a list`);
  entries.forEach((entry: unknown, i) => {
    if (!isDoc(entry) || typeof entry.name !== "string") throw new Error(`${list}[${i}].name: missing`);
    if (!into.has(entry.name)) into.set(entry.name, entry);
  });
}

function str(doc: Doc, field: string, path: string): string | undefined {
  const v = doc[field];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new Error(`${path}.${field}: must be a string`);
  return v;
}

function material(doc: Doc, field: string, path: string, baseDir: string): Material | undefined {
  const data = str(doc, `${field}-data`, path);
  if (data !== undefined) return { data: Buffer.from(data, "base64") };
  const file = str(doc, field, path);
  return file === undefined ? undefined : { file: isAbsolute(file) ? file : resolve(baseDir, file) };
}

function execSpec(doc: unknown, path: string): ExecSpec {
  if (!isDoc(doc)) throw new Error(`${path}: must be a mapping`);
  const command = str(doc, "command", path);
  if (!command) throw new Error(`${path}.command: missing`);
  const apiVersion = str(doc, "apiVersion", path);
  if (!apiVersion) throw new Error(`${path}.apiVersion: missing (client.authentication.k8s.io/v1 or v1beta1)`);
  if (apiVersion !== "client.authentication.k8s.io/v1" && apiVersion !== "client.authentication.k8s.io/v1beta1") {
    throw new Error(`${path}.apiVersion: ${apiVersion} is not supported (client.authentication.k8s.io/v1 or v1beta1)`);
  }
  const args = doc.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) throw new Error(`${path}.args: must be a list of strings`);
  const env = doc.env ?? [];
  if (!Array.isArray(env)) throw new Error(`${path}.env: must be a list`);
  return {
    command,
    args: args as string[],
    env: env.map((e: unknown, i) => {
      if (!isDoc(e) || typeof e.name !== "string" || typeof e.value !== "string") throw new Error(`${path}.env[${i}]: needs name and value`);
      return { name: e.name, value: e.value };
    }),
    apiVersion,
    installHint: str(doc, "installHint", path),
    provideClusterInfo: doc.provideClusterInfo === true,
  };
}

/**
 * The current context of one or more kubeconfig documents (merged as kubectl merges $KUBECONFIG's list:
 * the first of a name wins, and the first current-context set). Relative file paths in a document
 * resolve against that document's directory.
 */
export function accessFromKubeconfigs(docs: { text: string; file: string }[], context?: string): AccessSpec {
  const clusters = new Map<string, Doc>();
  const users = new Map<string, Doc>();
  const contexts = new Map<string, Doc>();
  const baseDirOf = new Map<Doc, string>();
  let current: string | undefined;
  for (const { text, file } of docs) {
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (err) {
      throw new KubeconfigError(file, `not YAML: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (doc === null || doc === undefined) continue;
    if (!isDoc(doc)) throw new KubeconfigError(file, "not a kubeconfig (a mapping with clusters, users and contexts)");
    try {
      for (const [list, into] of [["clusters", clusters], ["users", users], ["contexts", contexts]] as const) {
        const before = new Set(into.values());
        named(doc, list, into);
        for (const entry of into.values()) if (!before.has(entry)) baseDirOf.set(entry, dirname(file));
      }
      current ??= str(doc, "current-context", "");
    } catch (err) {
      throw new KubeconfigError(file, (err as Error).message);
    }
  }
  const source = docs.map((d) => d.file).join(delimiter);
  const name = context ?? current;
  if (!name) throw new KubeconfigError(source, "current-context: not set");
  const ctx = contexts.get(name);
  if (!ctx) throw new KubeconfigError(source, `contexts: no context named "${name}"`);
  const where = `${source} (context ${name})`;
  try {
    if (!isDoc(ctx.context)) throw new Error(`contexts[${name}].context: missing`);
    const clusterName = str(ctx.context, "cluster", `contexts[${name}].context`);
    if (!clusterName) throw new Error(`contexts[${name}].context.cluster: missing`);
    const clusterEntry = clusters.get(clusterName);
    if (!clusterEntry) throw new Error(`clusters: no cluster named "${clusterName}"`);
    const cp = `clusters[${clusterName}].cluster`;
    const cluster = clusterEntry.cluster;
    if (!isDoc(cluster)) throw new Error(`${cp}: missing`);
    const server = str(cluster, "server", cp);
    if (!server) throw new Error(`${cp}.server: missing`);
    if (!/^https?:\/\//.test(server)) throw new Error(`${cp}.server: ${server} is not an http(s) URL`);
    if (cluster["proxy-url"]) throw new Error(`${cp}.proxy-url: proxies are not supported; reach the API server directly`);
    const insecureSkipTlsVerify = cluster["insecure-skip-tls-verify"] === true;
    const clusterDir = baseDirOf.get(clusterEntry)!;
    const spec: AccessSpec = {
      source: where,
      namespace: str(ctx.context, "namespace", `contexts[${name}].context`),
      cluster: {
        server: server.replace(/\/+$/, ""),
        ca: material(cluster, "certificate-authority", cp, clusterDir),
        insecureSkipTlsVerify,
        tlsServerName: str(cluster, "tls-server-name", cp),
      },
      credentials: { kind: "none" },
    };
    if (server.startsWith("http:") && !insecureSkipTlsVerify) {
      throw new Error(`${cp}.server: ${server} is plain HTTP; set insecure-skip-tls-verify: true to allow it`);
    }
    const userName = str(ctx.context, "user", `contexts[${name}].context`);
    if (!userName) return spec;
    const userEntry = users.get(userName);
    if (!userEntry) throw new Error(`users: no user named "${userName}"`);
    const up = `users[${userName}].user`;
    const user = userEntry.user ?? {};
    if (!isDoc(user)) throw new Error(`${up}: must be a mapping`);
    const userDir = baseDirOf.get(userEntry)!;
    if (user["auth-provider"]) throw new Error(`${up}.auth-provider: not supported (Kubernetes clients dropped auth providers); use an exec credential plugin`);
    if (user.as || user["as-groups"]) throw new Error(`${up}.as: impersonation is not supported`);
    spec.clientCertificate = material(user, "client-certificate", up, userDir);
    spec.clientKey = material(user, "client-key", up, userDir);
    if ((spec.clientCertificate === undefined) !== (spec.clientKey === undefined)) {
      throw new Error(`${up}: client-certificate and client-key come together`);
    }
    const token = str(user, "token", up);
    const tokenFile = str(user, "tokenFile", up);
    const username = str(user, "username", up);
    if (token) spec.credentials = { kind: "token", token };
    else if (tokenFile) spec.credentials = { kind: "tokenFile", file: isAbsolute(tokenFile) ? tokenFile : resolve(userDir, tokenFile) };
    else if (user.exec !== undefined && user.exec !== null) spec.credentials = { kind: "exec", exec: execSpec(user.exec, `${up}.exec`) };
    else if (username) spec.credentials = { kind: "basic", username, password: str(user, "password", up) ?? "" };
    return spec;
  } catch (err) {
    if (err instanceof KubeconfigError) throw err;
    throw new KubeconfigError(where, (err as Error).message);
  }
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The pod's own service account, as the kubelet mounts it; undefined outside a pod. */
export function inClusterAccess(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): AccessSpec | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(join(dir, "token"))) return undefined;
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(dir, "namespace"), "utf8").trim() || undefined;
  } catch {
    // An older mount without it: no default namespace.
  }
  return {
    source: "in-cluster",
    namespace,
    cluster: { server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`, ca: { file: join(dir, "ca.crt") }, insecureSkipTlsVerify: false },
    credentials: { kind: "tokenFile", file: join(dir, "token") },
  };
}

/** A file a kubeconfig names (or the kubeconfig itself), or a KubeconfigError of `source`: `label`, then why not. */
export function readNamed(file: string, source: string, label: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new KubeconfigError(source, `${label}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export interface FindOptions {
  /** A context other than the current one (kubectl's --context). */
  context?: string;
  /**
   * Where the pod's service account comes: "operator" tries it before ~/.kube/config (controller-runtime's
   * order), "kubectl" after it (kubectl's).
   */
  order?: "operator" | "kubectl";
  env?: NodeJS.ProcessEnv;
  /** Where the kubelet mounts the service account; for tests. */
  serviceAccountDir?: string;
}

/** Access from `path` (--kubeconfig), else $KUBECONFIG (a list, merged), else the pod's service account or ~/.kube/config. */
export function findAccess(path: string | undefined, opts: FindOptions = {}): AccessSpec {
  const env = opts.env ?? process.env;
  const read = (files: string[]) => accessFromKubeconfigs(files.map((file) => ({ file, text: readNamed(file, file, "cannot read it").toString("utf8") })), opts.context);
  if (path) return read([path]);
  const listed = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  if (listed.length) {
    const present = listed.filter((f) => existsSync(f));
    if (!present.length) throw new KubeconfigError(env.KUBECONFIG!, "KUBECONFIG: none of its files exists");
    return read(present);
  }
  const home = join(env.HOME ?? homedir(), ".kube", "config");
  const fromHome = () => (existsSync(home) ? read([home]) : undefined);
  const inCluster = () => (opts.context === undefined ? inClusterAccess(env, opts.serviceAccountDir) : undefined);
  const found = opts.order === "kubectl" ? (fromHome() ?? inCluster()) : (inCluster() ?? fromHome());
  if (found) return found;
  const pod = env.KUBERNETES_SERVICE_HOST
    ? `KUBERNETES_SERVICE_HOST is set but ${join(opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR, "token")} is missing (automountServiceAccountToken: false?)`
    : "not in a pod";
  throw new KubeconfigError("kubeconfig", `no --kubeconfig, no KUBECONFIG, ${pod}, and no ${home}`);
}
