import type { PerformanceProfile } from "../../api/types.ts";
import { keyOf, type KubeObject } from "../../kube/types.ts";
import type { Informer } from "../../runtime/informer.ts";
import { PRIMARY_SUFFIX } from "../../traffic/index.ts";

/**
 * Which profiles name which Deployment, kept up to date from the profile informer's events: by
 * spec.targetRef (the one they govern) and by status.target (the one they may still be handing
 * back). Lookups cost the profiles of one Deployment, not a scan of every profile.
 */
export class TargetIndex {
  private readonly byDeployment = new Map<string, Set<string>>();
  private readonly named = new Map<string, string[]>();
  private readonly profiles: Pick<Informer<PerformanceProfile>, "get">;

  constructor(profiles: Pick<Informer<PerformanceProfile>, "get" | "on" | "list">) {
    this.profiles = profiles;
    for (const p of profiles.list()) this.index(p);
    profiles.on({ add: (p) => this.index(p), update: (_old, p) => this.index(p), delete: (p) => this.drop(keyOf(p)) });
  }

  /** Profiles whose spec.targetRef or status.target is `namespace/deployment`. */
  naming(namespace: string, deployment: string): PerformanceProfile[] {
    const keys = this.byDeployment.get(`${namespace}/${deployment}`) ?? new Set<string>();
    return [...keys].map((k) => this.profiles.get(k)).filter((p): p is PerformanceProfile => p !== undefined);
  }

  private index(p: PerformanceProfile): void {
    const key = keyOf(p);
    this.drop(key);
    const ns = p.metadata?.namespace ?? "default";
    const names = [...new Set([p.spec?.targetRef?.name, p.status?.target].filter((n): n is string => typeof n === "string" && n !== ""))].map((n) => `${ns}/${n}`);
    this.named.set(key, names);
    for (const n of names) {
      let set = this.byDeployment.get(n);
      if (!set) this.byDeployment.set(n, (set = new Set()));
      set.add(key);
    }
  }

  private drop(key: string): void {
    for (const n of this.named.get(key) ?? []) {
      const set = this.byDeployment.get(n);
      set?.delete(key);
      if (set?.size === 0) this.byDeployment.delete(n);
    }
    this.named.delete(key);
  }
}

/**
 * A Deployment event brings back every profile that names it or whose primary it is: a rollout
 * finishing, a hand edit, a freeze lifted.
 */
export function deploymentToProfiles(index: TargetIndex): (obj: KubeObject) => string[] {
  return (obj) => {
    const ns = obj.metadata?.namespace ?? "default";
    const name = obj.metadata?.name ?? "";
    const names = name.endsWith(PRIMARY_SUFFIX) ? [name, name.slice(0, -PRIMARY_SUFFIX.length)] : [name];
    return [...new Set(names.flatMap((n) => index.naming(ns, n).map(keyOf)))];
  };
}

/** Objects Tollgate applies for a profile carry it as owner: an edit of one brings the profile back. */
export function ownerToProfiles(obj: KubeObject): string[] {
  return (obj.metadata?.ownerReferences ?? []).filter((o) => o.kind === "PerformanceProfile").map((o) => `${obj.metadata?.namespace}/${o.name}`);
}
