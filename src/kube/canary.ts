import { CANARY, PRIMARY, SOURCE_HASH_ANNOTATION, SOURCE_REVISION_ANNOTATION, TRACK_LABEL } from "../traffic/labels.ts";
import { primaryDeployment, trackTemplate } from "../traffic/primary.ts";
import type { KubeClient } from "./client.ts";
import type { Deployment, ReplicaSet } from "../workload/deployment.ts";
import { ApiError } from "./errors.ts";
import { POD_TEMPLATE_HASH_LABEL } from "./labels.ts";
import { Resources } from "./resources.ts";

// The writes below are patches (operation Update), not applies, under the `tollgate` manager name: the
// freeze's server-side apply set on the same Deployment stays exactly what the freeze applied, and the
// freeze admission policy, which exempts the `tollgate` manager by name, lets them through.

/** JSON Pointer escaping of one path segment (`tollgate.dev/track` → `tollgate.dev~1track`). */
const seg = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");

function templateOf(replicaSets: readonly ReplicaSet[], templateHash: string) {
  const rs = replicaSets.find((r) => r.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] === templateHash);
  if (!rs?.spec?.template) throw new Error(`no ReplicaSet with pod-template-hash ${templateHash} to copy the template from`);
  return rs.spec.template;
}

/** Labels the target's pod template as the canary track, once; this rolls its pods once. */
export async function labelCanaryTrack(client: KubeClient, target: Deployment): Promise<void> {
  await client.patch(Resources.Deployment, target.metadata?.namespace, target.metadata?.name ?? "", {
    spec: { template: { metadata: { labels: { [TRACK_LABEL]: CANARY } } } },
  });
}

/**
 * Creates `<name>-primary` from the target's ReplicaSet with `templateHash`. An existing primary is
 * left as it is (a retry after a lost response, or a primary the informer has not delivered yet).
 */
export async function createPrimary(
  client: KubeClient,
  target: Deployment,
  replicaSets: readonly ReplicaSet[],
  opts: { replicas: number; templateHash: string; revision: number; profileName: string },
): Promise<void> {
  try {
    await client.create(Resources.Deployment, primaryDeployment(target, templateOf(replicaSets, opts.templateHash), opts));
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) return;
    throw err;
  }
}

/**
 * Promotion: the template of the target's ReplicaSet with `templateHash` (the revision that passed,
 * not whatever the target holds now) replaces primary's, with the source recorded. The
 * resourceVersion test makes it a no-op if primary changed since it was read; the next reconcile
 * sees that and promotes again.
 */
export async function promotePrimary(
  client: KubeClient,
  primary: Deployment,
  replicaSets: readonly ReplicaSet[],
  templateHash: string,
  revision: number,
): Promise<void> {
  const template = trackTemplate(templateOf(replicaSets, templateHash), PRIMARY);
  const annotations = primary.metadata?.annotations ? [] : [{ op: "add", path: "/metadata/annotations", value: {} }];
  await client.patch(
    Resources.Deployment,
    primary.metadata?.namespace,
    primary.metadata?.name ?? "",
    [
      { op: "test", path: "/metadata/resourceVersion", value: primary.metadata?.resourceVersion },
      ...annotations,
      { op: "add", path: `/metadata/annotations/${seg(SOURCE_HASH_ANNOTATION)}`, value: templateHash },
      { op: "add", path: `/metadata/annotations/${seg(SOURCE_REVISION_ANNOTATION)}`, value: String(revision) },
      { op: "replace", path: "/spec/template", value: template },
    ],
    { contentType: "application/json-patch+json" },
  );
}

/** Sets spec.replicas; a no-op when it already has that value. */
export async function scaleDeployment(client: KubeClient, deployment: Deployment, replicas: number): Promise<boolean> {
  if (deployment.spec?.replicas === replicas) return false;
  await client.patch(Resources.Deployment, deployment.metadata?.namespace, deployment.metadata?.name ?? "", { spec: { replicas } });
  return true;
}
