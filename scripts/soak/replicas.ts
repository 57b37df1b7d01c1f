// The soak's two operator replicas: `tollgate controller --leader-elect` as their own processes, under
// the Helm chart's ServiceAccount (e2e/support/identity.ts installs it), each process with a token of
// its own, so the API server's audit log tells them apart (a token's JTI is its credential id), and a
// POD_NAME of its own, which is its identity in the Lease. Output goes to operators/<identity>.log.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../e2e/support/env.ts";
import { IMAGE_NODE_FLAGS } from "../../e2e/support/operator.ts";
import { freeLoopbackPort } from "../../e2e/support/ports.ts";
import { track } from "../../e2e/support/processes.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { Resources } from "../../src/kube/resources.ts";
import type { KubeObject } from "../../src/kube/types.ts";

const CLI = join(ROOT, "src/cli/main.ts");

export interface Replica {
  /** Where the process serves /metrics (loopback). */
  metricsPort: number;
  readonly slot: string;
  readonly identity: string;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  alive(): boolean;
  signal(sig: NodeJS.Signals): void;
}

export interface ReplicaOptions {
  admin: KubeClient;
  adminKubeconfig: string;
  namespace: string;
  /** The chart's release, which names its ServiceAccount. */
  release: string;
  runDir: string;
  args: string[];
  /** Extra environment for every replica (e.g. the URL prefix notifications may go to). */
  env?: Record<string, string>;
}

export class Replicas {
  readonly #opts: ReplicaOptions;
  readonly #live = new Map<string, Replica>();
  #generation = 0;

  constructor(opts: ReplicaOptions) {
    this.#opts = opts;
  }

  get live(): Replica[] {
    return [...this.#live.values()].filter((r) => r.alive());
  }

  byIdentity(identity: string): Replica | undefined {
    return this.live.find((r) => r.identity === identity);
  }

  /** A fresh token of the chart's ServiceAccount, through the TokenRequest API. */
  async #token(): Promise<string> {
    const { namespace, release, admin } = this.#opts;
    const res = await admin.request<{ status: { token: string } }>("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${release}/token`, {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 6 * 3600 } },
    });
    return res.status.token;
  }

  async start(slot: string): Promise<Replica> {
    const identity = `soak-${slot}-${++this.#generation}`;
    const token = await this.#token();
    const user = `system:serviceaccount:${this.#opts.namespace}:${this.#opts.release}`;
    const admin = readFileSync(this.#opts.adminKubeconfig, "utf8");
    const config = admin.replace(/^(\s*)token: .*$/m, `$1token: ${token}`).replace(/tollgate-admin/g, user);
    const dir = join(this.#opts.runDir, "operators");
    mkdirSync(dir, { recursive: true });
    const kubeconfig = join(dir, `${identity}.kubeconfig`);
    writeFileSync(kubeconfig, config, { mode: 0o600 });
    const out = openSync(join(dir, `${identity}.log`), "a");
    const metricsPort = await freeLoopbackPort();
    const child: ChildProcess = track(
      spawn(process.execPath, [...IMAGE_NODE_FLAGS, CLI, "controller", "--namespace", this.#opts.namespace, "--leader-elect", "true", ...this.#opts.args, "--metrics-addr", `127.0.0.1:${metricsPort}`], {
        env: { ...process.env, ...this.#opts.env, KUBECONFIG: kubeconfig, POD_NAME: identity, TOLLGATE_LOG_LEVEL: "info" },
        stdio: ["ignore", out, out],
      }),
    );
    closeSync(out);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const replica: Replica = {
      metricsPort,
      slot,
      identity,
      pid: child.pid ?? -1,
      exited,
      alive: () => child.exitCode === null && child.signalCode === null,
      signal: (sig) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      },
    };
    this.#live.set(slot, replica);
    return replica;
  }

  /** The identity holding the Lease now, per the API server; undefined when nobody does or it cannot be read. */
  async leader(): Promise<string | undefined> {
    try {
      const lease = await this.#opts.admin.find<KubeObject & { spec?: { holderIdentity?: string } }>(Resources.Lease, this.#opts.namespace, "tollgate-leader");
      return lease?.spec?.holderIdentity || undefined;
    } catch {
      return undefined;
    }
  }

  /** SIGTERM every replica (standbys first, so the leader does not hand over), SIGKILL what is left after `graceMs`. */
  async stopAll(graceMs = 20_000): Promise<void> {
    const leader = await this.leader();
    const all = this.live.sort((a, b) => Number(a.identity === leader) - Number(b.identity === leader));
    for (const r of all) {
      r.signal("SIGTERM");
      const killer = setTimeout(() => r.signal("SIGKILL"), graceMs);
      await r.exited;
      clearTimeout(killer);
    }
  }
}

/** Resident memory of a process in KiB, from /proc; undefined once it is gone. */
export function rssKiB(pid: number): number | undefined {
  return statusKiB(pid, "VmRSS");
}

/** The most resident memory a process has had since it started (its high-water mark), in KiB. */
export function peakRssKiB(pid: number): number | undefined {
  return statusKiB(pid, "VmHWM");
}

function statusKiB(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * V8's used heap of a replica, from the tollgate_nodejs_heap_size_used_bytes its /metrics serves;
 * undefined when it does not answer within a second.
 */
export async function heapUsedBytes(port: number): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1_000) });
    const m = /^tollgate_nodejs_heap_size_used_bytes (\S+)$/m.exec(await res.text());
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
