import { FROZEN_BY_ANNOTATION, FROZEN_LABEL } from "../../kube/labels.ts";
import { primaryName, SOURCE_HASH_ANNOTATION } from "../../traffic/index.ts";
import { deploymentState, type Deployment } from "../../workload/deployment.ts";
import type { Action } from "../../kube/actuators/actions.ts";
import type { Snapshot } from "./snapshot.ts";

/** What handing a Deployment back takes from here: the actions of this pass, and whether it is over. */
export interface Release {
  actions: Action[];
  /** Nothing is left to hand back: no freeze of this profile, no primary, no owned objects. */
  done: boolean;
  /** Where the hand-back stands, for the Ready condition. */
  message: string;
}

/** Whether `d` carries this profile's freeze: only then may this profile lift it. */
export function frozenByProfile(d: Deployment | undefined, profile: string): boolean {
  return d?.metadata?.labels?.[FROZEN_LABEL] === "true" && d.metadata.annotations?.[FROZEN_BY_ANNOTATION] === profile;
}

/** `<target>-primary` when this profile created it (its labels name the profile). */
function ownPrimary(s: Snapshot, target: string): Deployment | undefined {
  const primary = s.deployments.get(primaryName(target));
  return primary?.metadata?.labels?.["tollgate.dev/profile"] === s.name ? primary : undefined;
}

/**
 * Hands Deployment `target` back as if Tollgate had never governed it: this profile's freeze lifted,
 * and in canary mode all traffic on the target itself. The target first gets primary's template back
 * (the promoted one, if a canary was under test) and primary's replica count; once its pods are all
 * ready, the VirtualService and DestinationRule go, so the Service spreads over both workloads' ready
 * pods, and then primary goes. Each step is level-triggered: the pass after a crash picks up where the
 * cluster is. With `ownedObjects`, every HPA, VirtualService and DestinationRule the profile owns goes
 * too (deletion, or a profile refused because another governs the Deployment).
 */
export function planRelease(s: Snapshot, target: string, opts: { ownedObjects: boolean }): Release {
  const actions: Action[] = [];
  const deployment = s.deployments.get(target);
  if (frozenByProfile(deployment, s.name)) actions.push({ kind: "deployment", op: "unfreeze", name: target, message: `PerformanceProfile ${s.name} no longer governs ${target}.` });

  const istio: Action[] = [
    ...s.owned.virtualServices.map((o): Action => ({ kind: "istio", op: "delete", resource: "VirtualService", name: o.metadata.name })),
    ...s.owned.destinationRules.map((o): Action => ({ kind: "istio", op: "delete", resource: "DestinationRule", name: o.metadata.name })),
  ];
  const hpas = s.owned.hpas.map((o): Action => ({ kind: "hpa", op: "delete", name: o.metadata.name }));
  const primary = ownPrimary(s, target);
  if (!primary || !deployment) {
    if (opts.ownedObjects) actions.push(...istio, ...hpas);
    return { actions, done: actions.length === 0, message: actions.length ? `Handing ${target} back.` : `${target} is handed back.` };
  }

  const wanted = primary.spec?.replicas ?? 1;
  const source = primary.metadata?.annotations?.[SOURCE_HASH_ANNOTATION];
  const state = deploymentState(deployment, s.replicaSets);
  const back = source !== undefined && state.revisions.find((r) => r.templateHash === source);
  if (back && state.templateHash !== source) {
    actions.push({ kind: "deployment", op: "rollback", name: target, toTemplateHash: back.templateHash, toRevision: back.revision, fromRevision: state.revision });
    return { actions, done: false, message: `Handing ${target} back: writing ${primary.metadata?.name}'s template ${source} back to it.` };
  }
  if ((deployment.spec?.replicas ?? 1) < wanted) {
    actions.push({ kind: "deployment", op: "scale", name: target, replicas: wanted });
    return { actions, done: false, message: `Handing ${target} back: scaling it to ${wanted} replicas, as ${primary.metadata?.name} has.` };
  }
  const ready = Math.min(deployment.status?.readyReplicas ?? 0, deployment.status?.updatedReplicas ?? 0);
  if (!state.rolloutComplete || ready < wanted) {
    return { actions, done: false, message: `Handing ${target} back: waiting for ${wanted} ready replicas of it (${ready} now) before traffic leaves ${primary.metadata?.name}.` };
  }
  // A profile that moved to another target keeps its routes: the new target's plan rewrites them.
  if (opts.ownedObjects && istio.length) {
    actions.push(...istio, ...hpas);
    return { actions, done: false, message: `Handing ${target} back: removing the canary's routes.` };
  }
  actions.push(...(opts.ownedObjects ? hpas : []), { kind: "deployment", op: "deletePrimary", name: primary.metadata?.name ?? primaryName(target) });
  return { actions, done: false, message: `Handing ${target} back: deleting ${primary.metadata?.name}, whose traffic ${target} now serves.` };
}
