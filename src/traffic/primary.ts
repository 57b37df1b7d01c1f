import type { Deployment, PodTemplate } from "../workload/deployment.ts";
import { FROZEN_LABEL, POD_TEMPLATE_HASH_LABEL } from "../kube/labels.ts";
import { PRIMARY, SOURCE_HASH_ANNOTATION, SOURCE_REVISION_ANNOTATION, TRACK_LABEL, type Track } from "./labels.ts";
import { tollgateLabels } from "./meta.ts";
import { primaryName } from "./names.ts";

/**
 * A ReplicaSet's pod template as a Deployment template on `track`: without the pod-template-hash the
 * Deployment controller adds, with the track label the DestinationRule's subsets select on.
 */
export function trackTemplate(template: PodTemplate, track: Track): PodTemplate {
  const copy = structuredClone(template);
  const labels: Record<string, string> = { ...copy.metadata?.labels, [TRACK_LABEL]: track };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  return { ...copy, metadata: { ...copy.metadata, labels } };
}

/**
 * `<name>-primary`: the target's Deployment with the template of the revision that last passed
 * (`template`, from the ReplicaSet with `templateHash`), selecting only primary-track pods so its
 * selector never overlaps the target's. Owned by the target Deployment, not by the profile: deleting
 * the profile must not delete the pods serving all the traffic; deleting the Deployment takes primary
 * with it. The target's annotations and freeze label are not copied: primary is Tollgate's, never frozen.
 */
export function primaryDeployment(
  target: Deployment,
  template: PodTemplate,
  opts: { replicas: number; templateHash: string; revision: number; profileName: string },
): Deployment & { metadata: { name: string; namespace: string } } {
  const name = target.metadata?.name ?? "";
  const labels: Record<string, string> = { ...target.metadata?.labels, ...tollgateLabels(opts.profileName) };
  delete labels[FROZEN_LABEL];
  const spec = target.spec ?? {};
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: primaryName(name),
      namespace: target.metadata?.namespace ?? "default",
      labels,
      annotations: { [SOURCE_HASH_ANNOTATION]: opts.templateHash, [SOURCE_REVISION_ANNOTATION]: String(opts.revision) },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid: target.metadata?.uid ?? "", blockOwnerDeletion: false }],
    },
    spec: {
      ...pick(spec as Record<string, unknown>, ["strategy", "minReadySeconds", "progressDeadlineSeconds", "revisionHistoryLimit"]),
      replicas: opts.replicas,
      selector: { matchLabels: { ...spec.selector?.matchLabels, [TRACK_LABEL]: PRIMARY } },
      template: trackTemplate(template, PRIMARY),
    },
  };
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}
