import { InputError } from "../cli/flags.ts";
import { KubeClient } from "../kube/client.ts";
import { loadClusterAccess } from "../kube/cluster-access.ts";
import { ApiError } from "../kube/errors.ts";
import { Resources } from "../kube/resources.ts";
import type { KubeObject } from "../kube/types.ts";
import { reviewedUser } from "./identity.ts";

/** The field manager of the plugin's writes: a person's action, told apart from the operator's own. */
export const PLUGIN_FIELD_MANAGER = "kubectl-tollgate";

export interface Connection {
  client: KubeClient;
  /** -n, else the kubeconfig context's namespace, else default: what kubectl would use. */
  namespace: string;
}

/**
 * The caller's credentials, found as kubectl finds them (--kubeconfig, else KUBECONFIG, else
 * ~/.kube/config, else the pod's service account), so the plugin acts as the person running it. kubectl does not pass its own
 * --kubeconfig or --context to a plugin, hence the plugin's flags of the same names.
 */
export function connect(flags: { kubeconfig?: string | undefined; context?: string | undefined; namespace?: string | undefined }): Connection {
  let client: KubeClient;
  let contextNamespace: string | undefined;
  try {
    const access = loadClusterAccess(flags.kubeconfig, { context: flags.context, order: "kubectl" });
    contextNamespace = access.namespace;
    client = new KubeClient(access);
  } catch (err) {
    throw new InputError(`cannot load the kubeconfig: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { client, namespace: flags.namespace ?? contextNamespace ?? "default" };
}

/** An API error as one line for a person: not found names the profile; the rest carry the API's message. */
export function apiFailure(err: unknown, what: string): Error {
  if (!(err instanceof ApiError)) return err instanceof Error ? err : new Error(String(err));
  if (err.status === 404) return new InputError(`${what} not found`);
  if (err.status === 0) return new InputError(`cannot reach the API server: ${err.apiMessage}`);
  return new InputError(`${what}: ${err.status} ${err.reason}: ${err.apiMessage}`);
}

/** The profile as the caller may read it; `what` names it in the error a person reads when it cannot be. */
export async function getProfile<T extends KubeObject>(client: KubeClient, namespace: string, name: string, what: string): Promise<T> {
  try {
    return await client.get<T>(Resources.PerformanceProfile, namespace, name);
  } catch (err) {
    throw apiFailure(err, what);
  }
}

/**
 * Who the API server says the caller is, from a SelfSubjectReview (authentication.k8s.io/v1): what a
 * command records as "by", never a name the caller types. `purpose` says what needs it, for the error.
 */
export async function whoAmI(client: KubeClient, purpose: string): Promise<string> {
  try {
    const review = await client.request<unknown>("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    });
    return reviewedUser(review);
  } catch (err) {
    throw new InputError(`cannot tell who you are, which ${purpose}: ${apiFailure(err, "SelfSubjectReview").message}`);
  }
}
