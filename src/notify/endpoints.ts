import type { Notification as Receiver } from "../api/notifications.ts";
import type { SecretReader } from "../kube/secrets.ts";
import { endpointAllowed, endpointOrigin, type EndpointPattern } from "../tenancy/endpoints.ts";

/** Slack's incoming webhooks: the one endpoint profiles may notify without the operator naming more. */
export const DEFAULT_NOTIFICATION_URLS = ["https://hooks.slack.com/"];

export interface ReceiverProblem {
  field: string;
  reason: "SecretNotFound" | "EndpointNotAllowed";
  message: string;
}

/**
 * Checks a profile's receivers when it is reconciled, not when a page is due: every Secret and key
 * they name exists in the profile's namespace, and every URL they would call (a webhook's, or the one
 * in a Slack or webhook Secret) is one the operator allows. Messages name the field and, for a URL,
 * only its scheme, host and port: a webhook URL in a Secret is a credential.
 */
export async function receiverProblem(
  namespace: string,
  receivers: readonly Receiver[],
  readSecret: SecretReader,
  allowed: readonly EndpointPattern[],
): Promise<ReceiverProblem | undefined> {
  for (const [i, r] of receivers.entries()) {
    const field = `spec.policy.notifications[${i}]`;
    let url = r.url;
    if (r.secretRef) {
      const value = await readSecret(namespace, r.secretRef.name, r.secretRef.key);
      if (value === undefined) {
        return { field: `${field}.secretRef`, reason: "SecretNotFound", message: `Secret ${namespace}/${r.secretRef.name} has no key ${r.secretRef.key} (or does not exist); receiver ${r.name} could not be notified.` };
      }
      if (r.type !== "pagerduty") url = value.trim();
    }
    if (url !== undefined && !endpointAllowed(url, allowed)) {
      const where = r.secretRef ? `${field}.secretRef` : `${field}.url`;
      return {
        field: where,
        reason: "EndpointNotAllowed",
        message: `receiver ${r.name} points at ${endpointOrigin(url)}, which is not a URL the operator allows (--notification-allowed-url). Nothing is sent to it.`,
      };
    }
  }
  return undefined;
}
