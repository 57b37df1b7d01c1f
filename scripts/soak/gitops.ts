// The second writer: an Argo CD–style sync loop. It holds "Git" (each team's Deployment and profile)
// and applies it by server-side apply as the field manager `argocd-controller` with force, as Argo CD's
// ServerSideApply sync option does, writing only the fields a GitOps tool owns: labels, the selector, the
// pod template's labels and container image, and the profile's spec. Never replicas, `paused`, the
// freeze label or anything else docs/argo-cd.md lists as Tollgate's. An image push is a commit to Git
// followed by a sync of that application; a sync the freeze refuses is logged and tried again at the
// next sync, as Argo CD's self-heal would.

import type { KubeClient } from "../../src/kube/client.ts";
import { Resources } from "../../src/kube/resources.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import type { JsonlWriter } from "./jsonl.ts";
import type { PlannedProfile } from "./plan.ts";

export const GITOPS_MANAGER = "argocd-controller";

export class GitOps {
  readonly #kube: KubeClient;
  readonly #namespace: string;
  readonly #log: JsonlWriter;
  readonly #images = new Map<string, string>();
  readonly #profiles: PlannedProfile[];
  /** The last outcome per object, so a refusal repeated every sync is logged once. */
  readonly #last = new Map<string, string>();

  constructor(kube: KubeClient, namespace: string, profiles: PlannedProfile[], log: JsonlWriter) {
    this.#kube = kube;
    this.#namespace = namespace;
    this.#profiles = profiles;
    this.#log = log;
    for (const p of profiles) this.#images.set(p.name, `registry.example/${p.name}:1.0`);
  }

  deployment(name: string): KubeObject {
    return {
      metadata: { name, namespace: this.#namespace, labels: { app: name, "app.kubernetes.io/instance": name }, annotations: { "argocd.argoproj.io/tracking-id": `${name}:apps/Deployment:${this.#namespace}/${name}` } },
      spec: {
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: this.#images.get(name)!, ports: [{ containerPort: 8080 }] }] } },
      },
    } as KubeObject;
  }

  profile(p: PlannedProfile): KubeObject {
    return {
      metadata: { name: p.name, namespace: this.#namespace, labels: { "app.kubernetes.io/instance": p.name }, annotations: { "argocd.argoproj.io/tracking-id": `${p.name}:tollgate.dev/PerformanceProfile:${this.#namespace}/${p.name}` } },
      spec: p.spec,
    } as KubeObject;
  }

  /** A commit that changes an application's image, synced at once. */
  async push(profile: string, image: string): Promise<string> {
    this.#images.set(profile, image);
    return this.#applyDeployment(profile, true);
  }

  async #applyDeployment(name: string, push = false): Promise<string> {
    const key = `deployment/${name}`;
    let outcome: string;
    try {
      await this.#kube.apply(Resources.Deployment, this.deployment(name), { fieldManager: GITOPS_MANAGER, force: true });
      outcome = "synced";
    } catch (err) {
      outcome = `refused: ${err instanceof Error ? err.message : String(err)}`.slice(0, 600);
    }
    if (push || this.#last.get(key) !== outcome) {
      this.#log.write({ at: new Date().toISOString(), writer: GITOPS_MANAGER, object: key, image: this.#images.get(name), ...(push ? { push: true } : {}), outcome });
    }
    this.#last.set(key, outcome);
    return outcome;
  }

  async #applyProfile(p: PlannedProfile): Promise<void> {
    const key = `performanceprofile/${p.name}`;
    let outcome: string;
    try {
      await this.#kube.apply(Resources.PerformanceProfile, this.profile(p), { fieldManager: GITOPS_MANAGER, force: true });
      outcome = "synced";
    } catch (err) {
      outcome = `refused: ${err instanceof Error ? err.message : String(err)}`.slice(0, 600);
    }
    if (this.#last.get(key) !== outcome) this.#log.write({ at: new Date().toISOString(), writer: GITOPS_MANAGER, object: key, outcome });
    this.#last.set(key, outcome);
  }

  /** One sync of every application: its Deployment, then its profile. */
  async sync(): Promise<void> {
    for (const p of this.#profiles) {
      await this.#applyDeployment(p.name);
      await this.#applyProfile(p);
    }
  }
}
