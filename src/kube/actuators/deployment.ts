import type { KubeClient } from "../client.ts";
import { createPrimary, labelCanaryTrack, promotePrimary, scaleDeployment } from "../canary.ts";
import { freezeDeployment, rollBackDeployment, unfreezeDeployment, withPodTemplate } from "../deployments.ts";
import { Resources } from "../resources.ts";
import type { Actuator, ActContext } from "./actuator.ts";
import type { DeploymentAction } from "./actions.ts";

/** The freeze, the rollback and the canary's workloads: every write Tollgate makes to Deployments. */
export class DeploymentActuator implements Actuator<DeploymentAction> {
  private readonly client: KubeClient;

  constructor(client: KubeClient) {
    this.client = client;
  }

  async act(a: DeploymentAction, ctx: ActContext): Promise<boolean> {
    const { namespace } = ctx;
    const get = (name: string) => ctx.deployments.get(name);
    const profile = ctx.profile.metadata?.name ?? "";
    switch (a.op) {
      case "freeze":
        await freezeDeployment(this.client, namespace, a.name, profile, a.message);
        return true;
      case "unfreeze":
        await unfreezeDeployment(this.client, namespace, a.name);
        return true;
      case "rollback": {
        const target = get(a.name);
        if (!target) return false;
        const source = await withPodTemplate(this.client, ctx.replicaSets, a.toTemplateHash);
        await rollBackDeployment(this.client, target, source, a.toTemplateHash);
        const primary = a.primary ? get(a.primary) : undefined;
        if (primary) await promotePrimary(this.client, primary, source, a.toTemplateHash, a.toRevision);
        return true;
      }
      case "labelTrack": {
        const target = get(a.name);
        if (!target) return false;
        await labelCanaryTrack(this.client, target);
        return true;
      }
      case "createPrimary": {
        const target = get(a.target);
        if (!target) return false;
        await createPrimary(this.client, target, await withPodTemplate(this.client, ctx.replicaSets, a.templateHash), { replicas: a.replicas, templateHash: a.templateHash, revision: a.revision, profileName: profile });
        return true;
      }
      case "promote": {
        const primary = get(a.primary);
        if (!primary) return false;
        await promotePrimary(this.client, primary, await withPodTemplate(this.client, ctx.replicaSets, a.templateHash), a.templateHash, a.revision);
        return true;
      }
      case "scale": {
        const d = get(a.name);
        if (!d || (a.onlyUp && (d.spec?.replicas ?? 1) >= a.replicas)) return false;
        return scaleDeployment(this.client, d, a.replicas);
      }
      case "deletePrimary": {
        const primary = get(a.name);
        if (!primary?.metadata?.uid) return false;
        // The uid precondition: only the primary this pass saw, never a Deployment recreated since.
        return this.client.delete(Resources.Deployment, namespace, a.name, { preconditions: { uid: primary.metadata.uid } });
      }
    }
  }
}
