import type { Canary } from "../api/canary.ts";

/**
 * What a profile's VirtualService may name. Tollgate writes the VirtualService with its own rights, so
 * without this a tenant who may only write PerformanceProfiles could bind another team's hostname on
 * a shared gateway. By default a profile may name:
 *
 * - hosts: its own Service, `canary.service.name` in the profile's namespace, as `<svc>`, `<svc>.<ns>`,
 *   `<svc>.<ns>.svc` or `<svc>.<ns>.svc.cluster.local`;
 * - gateways: `mesh` and gateways in its own namespace (`<gw>` or `<ns>/<gw>`).
 *
 * Beyond that the operator's owner allows shared gateways by `namespace/name` (`--allowed-gateway`)
 * and hostnames by pattern (`--allowed-host`): an exact hostname, or `*.` and a domain for any name
 * under it (one label or more, never the bare domain).
 *
 * A host pattern is not tied to a gateway: each host and each gateway is checked on its own. A
 * VirtualService's hosts apply to every gateway it binds alike, so the two lists are what the owner
 * reviews: which shared gateways tenants may bind, and which hostnames are theirs to take. One
 * operator serves every namespace it watches with the same lists; hostnames that belong to one team
 * only need an operator of their own (`--namespace`, the chart's `watchNamespace`).
 */
export interface CanaryScope {
  /** Gateways outside a profile's namespace that profiles may bind, as `namespace/name`. */
  allowedGateways: readonly string[];
  /** Hostname patterns profiles may name besides their own Service: `game.example.com`, `*.shop.example.com`. */
  allowedHosts: readonly string[];
}

export type ScopeReason = "HostNotAllowed" | "GatewayNotAllowed";

/** A name a profile may not use: the field (`spec.canary.service.hosts[2]`), the reason, and what would allow it. */
export interface ScopeProblem {
  field: string;
  reason: ScopeReason;
  message: string;
}

export const MESH_GATEWAY = "mesh";
const CLUSTER_DOMAIN = "cluster.local";

const LABEL = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";
const HOSTNAME = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);
const NAMESPACE = new RegExp(`^${LABEL}$`);
const OBJECT_NAME = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

/**
 * The first name in `canary` that a profile in `namespace` may not use, hosts in order first, then
 * gateways; undefined when all are allowed (or there is no canary).
 */
export function canaryScopeProblem(namespace: string, canary: Canary | undefined, scope: CanaryScope): ScopeProblem | undefined {
  if (!canary) return undefined;
  const { name, hosts, gateways } = canary.service;
  // Without hosts the VirtualService names the Service itself, which is always the profile's own.
  for (const [i, host] of (hosts ?? []).entries()) {
    const problem = hostProblem(namespace, name, host, scope.allowedHosts);
    if (problem) return { field: `spec.canary.service.hosts[${i}]`, reason: "HostNotAllowed", message: problem };
  }
  for (const [i, gateway] of gateways.entries()) {
    const problem = gatewayProblem(namespace, gateway, scope.allowedGateways);
    if (problem) return { field: `spec.canary.service.gateways[${i}]`, reason: "GatewayNotAllowed", message: problem };
  }
  return undefined;
}

/** The check as the profile controller runs it (a TenantCheck), for the operator's flags. */
export function canaryScopeCheck(scope: CanaryScope): (profile: { namespace: string }, spec: { canary?: Canary }) => ScopeProblem | undefined {
  return (profile, spec) => canaryScopeProblem(profile.namespace, spec.canary, scope);
}

/** The names of a Service `svc` in `namespace` that resolve to it inside the cluster. */
export function ownServiceHosts(svc: string, namespace: string): string[] {
  return [svc, `${svc}.${namespace}`, `${svc}.${namespace}.svc`, `${svc}.${namespace}.svc.${CLUSTER_DOMAIN}`];
}

/**
 * Whether `host` is covered by `pattern` (both canonical: lower-case, no trailing dot). `*.d` covers
 * every name under `d`, a wildcard host under it included (`*.a.d`, `*.d`), never `d` itself.
 */
export function hostMatches(host: string, pattern: string): boolean {
  if (!pattern.startsWith("*.")) return host === pattern;
  const domain = pattern.slice(1); // ".d"
  return host.endsWith(domain) && host.length > domain.length;
}

function hostProblem(namespace: string, svc: string, raw: string, allowed: readonly string[]): string | undefined {
  const canonical = canonicalHost(raw);
  if (!canonical.ok) return `${JSON.stringify(raw)} is not a hostname Tollgate can check: ${canonical.why}.`;
  const host = canonical.host;
  const own = ownServiceHosts(svc, namespace);
  if (own.includes(host) || allowed.some((p) => hostMatches(host, p))) return undefined;
  return (
    `${JSON.stringify(raw)} is neither this profile's Service (${own.join(", ")}) nor a host the operator allows ` +
    `(--allowed-host: ${listed(allowed)}); the operator allows it with --allowed-host ${host}, or a pattern covering it ` +
    `(Helm value istio.allowedHosts).`
  );
}

function gatewayProblem(namespace: string, raw: string, allowed: readonly string[]): string | undefined {
  if (raw === MESH_GATEWAY) return undefined;
  const ref = resolveGateway(raw, namespace);
  if (!ref) return `${JSON.stringify(raw)} is not a gateway reference: write mesh, a gateway's name in ${namespace}, or namespace/name.`;
  const qualified = `${ref.namespace}/${ref.name}`;
  if (ref.namespace === namespace || allowed.includes(qualified)) return undefined;
  const read = raw === qualified ? "is" : `names ${qualified} (Istio reads a name with dots and no "/" as name.namespace), which is`;
  return (
    `${JSON.stringify(raw)} ${read} a gateway in namespace ${ref.namespace}; a profile in ${namespace} may bind mesh, ` +
    `gateways in ${namespace}, and those the operator allows (--allowed-gateway: ${listed(allowed)}); ` +
    `the operator allows this one with --allowed-gateway ${qualified} (Helm value istio.allowedGateways).`
  );
}

/**
 * The gateway a VirtualService in `namespace` binds, read the way Istio reads it: `ns/name`; `./name`
 * and a bare `name` are in `namespace`; a bare name with dots is the legacy `name.ns[.svc...]` form,
 * in `ns`. Undefined when it is none of these.
 */
export function resolveGateway(raw: string, namespace: string): { namespace: string; name: string } | undefined {
  const slash = raw.indexOf("/");
  let ref: { namespace: string; name: string };
  if (slash >= 0) {
    const ns = raw.slice(0, slash);
    ref = { namespace: ns === "." ? namespace : ns, name: raw.slice(slash + 1) };
  } else if (!raw.includes(".")) {
    ref = { namespace, name: raw };
  } else {
    const [name = "", ns = ""] = raw.split(".");
    ref = { namespace: ns, name };
  }
  return NAMESPACE.test(ref.namespace) && OBJECT_NAME.test(ref.name) ? ref : undefined;
}

type Canonical = { ok: true; host: string } | { ok: false; why: string };

/**
 * A host as it is compared: DNS names are case-insensitive, so ASCII letters are lowered. Everything
 * else that could make one name look like another is refused, not normalised: non-ASCII (an
 * internationalised name is written in punycode, xn--; `toLowerCase` would even turn the Kelvin sign
 * into a k), and a trailing dot (`svc.` is the absolute name svc, not the Service svc).
 */
export function canonicalHost(raw: string): Canonical {
  if (!/^[\x21-\x7e]*$/.test(raw)) return { ok: false, why: "only ASCII letters, digits, dashes and dots (write an internationalised name in punycode, xn--...)" };
  if (raw.endsWith(".")) return { ok: false, why: "write it without the trailing dot" };
  const host = raw.toLowerCase();
  if (host.length > 253 || !HOSTNAME.test(host)) return { ok: false, why: "a DNS name of labels of at most 63 letters, digits and dashes, with * only as the whole first label" };
  return { ok: true, host };
}

type Parsed = { ok: true; value: string } | { ok: false; message: string };

/** An `--allowed-gateway` value: `namespace/name`, or a message saying what is wrong with it. */
export function parseAllowedGateway(raw: string): Parsed {
  const [ns, name, ...rest] = raw.split("/");
  if (raw === MESH_GATEWAY) return { ok: false, message: `--allowed-gateway ${raw}: mesh is always allowed; name a shared gateway as namespace/name` };
  if (rest.length > 0 || name === undefined || !NAMESPACE.test(ns ?? "") || !OBJECT_NAME.test(name)) {
    return { ok: false, message: `--allowed-gateway ${JSON.stringify(raw)}: write a gateway as namespace/name, e.g. istio-system/public-gateway (lower-case, no wildcards)` };
  }
  return { ok: true, value: raw };
}

/** An `--allowed-host` value: an exact hostname or `*.domain`, lower-cased, or a message saying what is wrong with it. */
export function parseAllowedHost(raw: string): Parsed {
  if (raw === "*") return { ok: false, message: `--allowed-host *: name the domains tenants may bind, e.g. *.shop.example.com; * would let any profile take any hostname` };
  const canonical = canonicalHost(raw);
  if (!canonical.ok) return { ok: false, message: `--allowed-host ${JSON.stringify(raw)}: ${canonical.why}, e.g. game.example.com or *.shop.example.com` };
  return { ok: true, value: canonical.host };
}

/**
 * The operator's lists from its flags: each value may hold several, comma-separated (as the
 * environment variables do); empty ones are ignored. Throws with a message naming the bad value.
 */
export function parseCanaryScope(gateways: readonly string[], hosts: readonly string[]): CanaryScope {
  const parsed = (values: readonly string[], parse: (raw: string) => Parsed): string[] => {
    const out = new Set<string>();
    for (const raw of values.flatMap((v) => v.split(",")).map((v) => v.trim())) {
      if (raw === "") continue;
      const p = parse(raw);
      if (!p.ok) throw new Error(p.message);
      out.add(p.value);
    }
    return [...out];
  };
  return { allowedGateways: parsed(gateways, parseAllowedGateway), allowedHosts: parsed(hosts, parseAllowedHost) };
}

function listed(values: readonly string[]): string {
  if (values.length === 0) return "none";
  const shown = values.slice(0, 8).join(", ");
  return values.length > 8 ? `${shown} and ${values.length - 8} more` : shown;
}
