import { releaseName } from "./identity.ts";
import { kubectl, kubectlJson, kubectlOk } from "./kubectl.ts";
import { waitFor } from "./wait.ts";

// Taking one right away from the operator of one namespace and giving it back, to make the API server
// refuse a chosen write mid-test. The rights are the chart's (createOperatorNamespace): a Role in the
// namespace when the chart watches one namespace, the release's own ClusterRole in cluster-wide mode.
// Either belongs to that release alone, so no other suite loses anything.

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}
interface RbacRole {
  kind: "Role" | "ClusterRole";
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
}

/** The user the operator of `ns` runs as: the chart's ServiceAccount. */
export function operatorUser(ns: string): string {
  return `system:serviceaccount:${ns}:${releaseName(ns)}`;
}

/** Whether the operator of `ns` may `verb` `resource` (e.g. "deployments.apps") in `ns`, as the API server answers now. */
export async function operatorCan(ns: string, verb: string, resource: string): Promise<boolean> {
  const res = await kubectl(["auth", "can-i", verb, resource, "-n", ns, `--as=${operatorUser(ns)}`]);
  return res.stdout.trim() === "yes";
}

const covers = (list: string[] | undefined, value: string) => (list ?? []).some((x) => x === value || x === "*");

/**
 * Removes `verb` on `group`/`resource` from every rule of the chart's Roles in `ns` and ClusterRoles of
 * its release that grant it, waits until the API server refuses the operator, and returns the function
 * that puts the verb back (and waits until it is granted again). Each patch tests the verbs it read, so
 * a concurrent change of the role fails loudly instead of being overwritten.
 */
export async function revokeOperatorVerb(ns: string, group: string, resource: string, verb: string): Promise<() => Promise<void>> {
  const qualified = group ? `${resource}.${group}` : resource;
  const roles = [
    ...(await kubectlJson<{ items: RbacRole[] }>(["-n", ns, "get", "role"])).items.map((r) => ({ ...r, kind: "Role" as const })),
    ...(await kubectlJson<{ items: RbacRole[] }>(["get", "clusterrole", "-l", `app.kubernetes.io/instance=${releaseName(ns)}`])).items.map((r) => ({
      ...r,
      kind: "ClusterRole" as const,
    })),
  ];
  const undo: Array<{ role: RbacRole; patch: unknown[] }> = [];
  for (const role of roles) {
    const ops: unknown[] = [];
    const back: unknown[] = [];
    (role.rules ?? []).forEach((rule, i) => {
      if (!covers(rule.apiGroups, group) || !covers(rule.resources, resource) || !rule.verbs.includes(verb)) return;
      const kept = rule.verbs.filter((v) => v !== verb);
      ops.push({ op: "test", path: `/rules/${i}/verbs`, value: rule.verbs }, { op: "replace", path: `/rules/${i}/verbs`, value: kept });
      back.push({ op: "test", path: `/rules/${i}/verbs`, value: kept }, { op: "replace", path: `/rules/${i}/verbs`, value: rule.verbs });
    });
    if (ops.length === 0) continue;
    await kubectlOk([...where(role), "patch", role.kind.toLowerCase(), role.metadata.name, "--type=json", "-p", JSON.stringify(ops)]);
    undo.push({ role, patch: back });
  }
  if (undo.length === 0) throw new Error(`no Role in ${ns} or ClusterRole of ${releaseName(ns)} grants ${verb} on ${qualified}`);
  await waitFor(`the API server to refuse ${verb} ${qualified} to ${operatorUser(ns)}`, async () => ((await operatorCan(ns, verb, qualified)) ? undefined : true));
  let restored = false;
  return async () => {
    if (restored) return;
    for (const { role, patch } of undo) {
      await kubectlOk([...where(role), "patch", role.kind.toLowerCase(), role.metadata.name, "--type=json", "-p", JSON.stringify(patch)]);
    }
    restored = true;
    await waitFor(`the API server to allow ${verb} ${qualified} to ${operatorUser(ns)} again`, async () => ((await operatorCan(ns, verb, qualified)) ? true : undefined));
  };
}

function where(role: RbacRole): string[] {
  return role.kind === "Role" && role.metadata.namespace ? ["-n", role.metadata.namespace] : [];
}
