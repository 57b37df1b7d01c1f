import type { KubeClient } from "./client.ts";
import { FREEZE_REASON_ANNOTATION, FROZEN_BY_ANNOTATION, FROZEN_LABEL, POD_TEMPLATE_HASH_LABEL } from "./labels.ts";
import { Resources } from "./resources.ts";
import { deploymentState, ownedBy, type Deployment, type DeploymentState, type ReplicaSet } from "../workload/deployment.ts";

function selectorString(labels: Record<string, string> | undefined): string | undefined {
  if (!labels || Object.keys(labels).length === 0) return undefined;
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

export async function readDeploymentState(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<{ deployment: Deployment; replicaSets: ReplicaSet[]; state: DeploymentState } | undefined> {
  const deployment = await client.find<Deployment>(Resources.Deployment, namespace, name);
  if (!deployment) return undefined;
  const list = await client.list<ReplicaSet>(Resources.ReplicaSet, namespace, {
    labelSelector: selectorString(deployment.spec?.selector?.matchLabels),
  });
  const replicaSets = list.items.filter((rs) => ownedBy(rs, deployment));
  return { deployment, replicaSets, state: deploymentState(deployment, replicaSets) };
}

/**
 * Freezes the Deployment: paused, so a new template does not roll out, and labelled, so the admission
 * policy refuses template changes with `reason` (one sentence naming the SLO and the budget). Server-side
 * apply of only these fields, forced: during a freeze Tollgate owns `paused`. Idempotent.
 */
export async function freezeDeployment(client: KubeClient, namespace: string, name: string, profile: string, reason: string): Promise<void> {
  await client.apply<Deployment>(
    Resources.Deployment,
    {
      metadata: {
        name,
        namespace,
        labels: { [FROZEN_LABEL]: "true" },
        annotations: { [FROZEN_BY_ANNOTATION]: profile, [FREEZE_REASON_ANNOTATION]: reason },
      },
      spec: { paused: true },
    },
    { force: true },
  );
}

/**
 * Lifts the freeze. Applying an empty configuration as the `tollgate` field manager drops every field it
 * owned: the label, the annotations and `paused` (which then reverts to not paused, unless another
 * manager set it). Idempotent.
 */
export async function unfreezeDeployment(client: KubeClient, namespace: string, name: string): Promise<void> {
  await client.apply<Deployment>(Resources.Deployment, { metadata: { name, namespace } }, { force: true });
}

/**
 * The ReplicaSet with `templateHash` among `replicaSets`, whole. The cache keeps ReplicaSets without
 * their pod spec (cachedReplicaSet), and a rollback or a promotion writes that pod spec, so it is read
 * from the API server just before. Empty when there is none, or when the one read is not the one
 * cached (deleted and created again under its name since): the write then fails as with none.
 */
export async function withPodTemplate(client: KubeClient, replicaSets: readonly ReplicaSet[], templateHash: string): Promise<ReplicaSet[]> {
  const cached = replicaSets.find((rs) => rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] === templateHash);
  if (!cached?.metadata?.name) return [];
  if (cached.spec?.template?.spec) return [cached];
  const whole = await client.find<ReplicaSet>(Resources.ReplicaSet, cached.metadata.namespace, cached.metadata.name);
  return whole && whole.metadata?.uid === cached.metadata.uid ? [whole] : [];
}

/**
 * Rolls back to the ReplicaSet with `templateHash`, as `kubectl rollout undo` does: its pod template
 * (without the pod-template-hash label the controller adds) replaces the Deployment's whole template,
 * and the Deployment is resumed so the rollout runs even while frozen. The resourceVersion test makes it
 * a no-op if the Deployment changed since it was read.
 */
export async function rollBackDeployment(
  client: KubeClient,
  deployment: Deployment,
  replicaSets: readonly ReplicaSet[],
  templateHash: string,
): Promise<void> {
  const target = replicaSets.find((rs) => rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] === templateHash);
  if (!target?.spec?.template) throw new Error(`no ReplicaSet with pod-template-hash ${templateHash} to roll back to`);
  const template = structuredClone(target.spec.template);
  if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  await client.patch<Deployment>(
    Resources.Deployment,
    deployment.metadata?.namespace,
    deployment.metadata?.name ?? "",
    [
      { op: "test", path: "/metadata/resourceVersion", value: deployment.metadata?.resourceVersion },
      { op: "replace", path: "/spec/template", value: template },
      { op: "add", path: "/spec/paused", value: false },
    ],
    { contentType: "application/json-patch+json" },
  );
}
