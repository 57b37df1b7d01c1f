import { describe, expect, it } from "vitest";
import { canarySchema, type Canary } from "../api/canary.ts";
import {
  canaryScopeCheck,
  canaryScopeProblem,
  canonicalHost,
  hostMatches,
  parseAllowedGateway,
  parseAllowedHost,
  parseCanaryScope,
  resolveGateway,
  type CanaryScope,
} from "./scope.ts";

const NS = "team-a";
const NONE: CanaryScope = { allowedGateways: [], allowedHosts: [] };
const SHARED: CanaryScope = {
  allowedGateways: ["istio-system/public-gateway", "ingress/internal"],
  allowedHosts: ["*.shop.example.com", "game.example.com"],
};

/**
 * A canary for Service game-service. Built as the operator sees it after validation, except that
 * hosts and gateways are set after parsing: the check must hold on names the CRD would refuse too
 * (a spec stored before a schema change, a schema bug).
 */
function canary(hosts: string[] | undefined, gateways: string[] = ["mesh"]): Canary {
  const c = canarySchema.parse({ service: { name: "game-service", port: 8080 } });
  return { ...c, service: { ...c.service, ...(hosts ? { hosts } : {}), gateways } };
}

const hostVerdict = (host: string, scope: CanaryScope = NONE) => canaryScopeProblem(NS, canary([host]), scope)?.reason ?? "allowed";
const gatewayVerdict = (gateway: string, scope: CanaryScope = NONE) => canaryScopeProblem(NS, canary(undefined, [gateway]), scope)?.reason ?? "allowed";

describe("hosts", () => {
  it.each([
    // The Service's own names in the profile's namespace, with no flag set.
    ["game-service", NONE],
    ["game-service.team-a", NONE],
    ["game-service.team-a.svc", NONE],
    ["game-service.team-a.svc.cluster.local", NONE],
    // DNS names are case-insensitive.
    ["Game-Service.Team-A.SVC.cluster.local", NONE],
    // Under a wildcard pattern: one label or more, and a wildcard host under it.
    ["cart.shop.example.com", SHARED],
    ["eu.cart.shop.example.com", SHARED],
    ["*.shop.example.com", SHARED],
    ["*.eu.shop.example.com", SHARED],
    ["CART.Shop.Example.COM", SHARED],
    // An exact pattern.
    ["game.example.com", SHARED],
  ])("allows %s", (host, scope) => {
    expect(hostVerdict(host, scope)).toBe("allowed");
  });

  it.each([
    // Another Service, or this Service's name in another namespace.
    ["payments", NONE],
    ["game-service.team-b", NONE],
    ["game-service.team-b.svc.cluster.local", NONE],
    ["payments.team-a.svc.cluster.local", NONE],
    ["game-service.team-a.svc.cluster.example", NONE],
    ["game-service.team-a.svc.cluster.local.evil.example", NONE],
    // External names need a pattern.
    ["game.example.com", NONE],
    ["cart.shop.example.com", NONE],
    // Outside the patterns: the bare domain of a wildcard, a name that only ends like it, a broader wildcard.
    ["shop.example.com", SHARED],
    ["evilshop.example.com", SHARED],
    ["cart.shop.example.com.evil.net", SHARED],
    ["*.example.com", SHARED],
    ["api.game.example.com", SHARED],
    ["*.game.example.com", SHARED],
    // Trailing dots: "game-service." is the absolute name game-service, not the Service; refused, not normalised.
    ["game-service.", NONE],
    ["game-service.team-a.svc.cluster.local.", NONE],
    ["cart.shop.example.com.", SHARED],
    // Non-ASCII is refused before any case folding: the Kelvin sign (U+212A) lowers to "k".
    ["\u212Aart.shop.example.com", SHARED],
    ["game-servic\u0435", NONE], // Cyrillic e
    ["g\u00e4me.shop.example.com", SHARED],
    // Malformed: wildcards elsewhere than the whole first label, empty labels, a bare *.
    ["*", SHARED],
    ["cart.*.example.com", SHARED],
    ["c*.shop.example.com", SHARED],
    ["**.shop.example.com", SHARED],
    ["cart..shop.example.com", SHARED],
    ["", NONE],
    [`${"a".repeat(64)}.shop.example.com`, SHARED],
  ])("refuses %j", (host, scope) => {
    expect(hostVerdict(host, scope)).toBe("HostNotAllowed");
  });

  it("without hosts, the VirtualService names the Service itself: nothing to refuse", () => {
    expect(canaryScopeProblem(NS, canary(undefined), NONE)).toBeUndefined();
  });

  it("names the exact field, the value, the Service's names and what would allow it", () => {
    const problem = canaryScopeProblem(NS, canary(["game-service", "game-service.team-a", "pay.other.example.com"]), SHARED);
    expect(problem).toEqual({
      field: "spec.canary.service.hosts[2]",
      reason: "HostNotAllowed",
      message:
        '"pay.other.example.com" is neither this profile\'s Service (game-service, game-service.team-a, game-service.team-a.svc, ' +
        "game-service.team-a.svc.cluster.local) nor a host the operator allows (--allowed-host: *.shop.example.com, game.example.com); " +
        "the operator allows it with --allowed-host pay.other.example.com, or a pattern covering it (Helm value istio.allowedHosts).",
    });
  });

  it("says none when no host is allowed, and why a malformed host is refused", () => {
    expect(canaryScopeProblem(NS, canary(["game.example.com"]), NONE)?.message).toContain("(--allowed-host: none)");
    expect(canaryScopeProblem(NS, canary(["game-service."]), NONE)?.message).toBe('"game-service." is not a hostname Tollgate can check: write it without the trailing dot.');
    expect(canaryScopeProblem(NS, canary(["k\u212A.example.com"]), NONE)?.message).toContain("punycode");
  });
});

describe("gateways", () => {
  it.each([
    ["mesh", NONE],
    ["public", NONE],
    ["team-a/public", NONE],
    ["./public", NONE],
    ["team-a/public.v2", NONE],
    ["istio-system/public-gateway", SHARED],
    ["ingress/internal", SHARED],
  ])("allows %s", (gateway, scope) => {
    expect(gatewayVerdict(gateway, scope)).toBe("allowed");
  });

  it.each([
    ["istio-system/public-gateway", NONE],
    ["team-b/public", NONE],
    // Istio reads a bare name with dots as name.namespace[.svc.cluster.local]: another namespace's gateway.
    ["public-gateway.istio-system", NONE],
    ["public-gateway.istio-system.svc.cluster.local", NONE],
    ["public.team-b", SHARED],
    // Allowed by namespace/name exactly: not another gateway in the same namespace, not another case.
    ["istio-system/private-gateway", SHARED],
    ["Istio-System/public-gateway", SHARED],
    ["istio-system/Public-Gateway", SHARED],
    // Not a reference at all.
    ["", NONE],
    ["/public", NONE],
    ["team-a/", NONE],
    ["team-a/public/x", NONE],
    ["istio-system/*", SHARED],
    ["team-a/publ\u0131c", NONE], // dotless i
  ])("refuses %j", (gateway, scope) => {
    expect(gatewayVerdict(gateway, scope)).toBe("GatewayNotAllowed");
  });

  it("names the exact field, the value and the flag that would allow it", () => {
    const problem = canaryScopeProblem(NS, canary(undefined, ["mesh", "istio-system/public-gateway"]), NONE);
    expect(problem).toEqual({
      field: "spec.canary.service.gateways[1]",
      reason: "GatewayNotAllowed",
      message:
        '"istio-system/public-gateway" is a gateway in namespace istio-system; a profile in team-a may bind mesh, gateways in team-a, ' +
        "and those the operator allows (--allowed-gateway: none); the operator allows this one with --allowed-gateway " +
        "istio-system/public-gateway (Helm value istio.allowedGateways).",
    });
  });

  it("says which gateway a legacy dotted name binds", () => {
    expect(canaryScopeProblem(NS, canary(undefined, ["public-gateway.istio-system"]), NONE)?.message).toMatch(
      /^"public-gateway.istio-system" names istio-system\/public-gateway \(Istio reads .*--allowed-gateway istio-system\/public-gateway /,
    );
  });

  it("lists at most eight allowed gateways", () => {
    const many = { allowedGateways: Array.from({ length: 10 }, (_, i) => `ns${i}/gw`), allowedHosts: [] };
    expect(canaryScopeProblem(NS, canary(undefined, ["other/gw"]), many)?.message).toContain("ns7/gw and 2 more");
  });
});

describe("canaryScopeProblem", () => {
  it("reports hosts before gateways, and the first of each", () => {
    const c = canary(["game-service", "a.example.com", "b.example.com"], ["x/gw", "y/gw"]);
    expect(canaryScopeProblem(NS, c, NONE)?.field).toBe("spec.canary.service.hosts[1]");
    expect(canaryScopeProblem(NS, c, { allowedGateways: [], allowedHosts: ["*.example.com"] })?.field).toBe("spec.canary.service.gateways[0]");
    expect(canaryScopeProblem(NS, c, { allowedGateways: ["x/gw", "y/gw"], allowedHosts: ["*.example.com"] })).toBeUndefined();
  });

  it("judges a profile by its own namespace: the same names are another team's elsewhere", () => {
    const c = canary(["game-service.team-a"], ["team-a/public"]);
    expect(canaryScopeProblem("team-a", c, NONE)).toBeUndefined();
    expect(canaryScopeProblem("team-b", c, NONE)?.field).toBe("spec.canary.service.hosts[0]");
    expect(canaryScopeProblem("team-b", canary(undefined, ["team-a/public"]), NONE)?.field).toBe("spec.canary.service.gateways[0]");
  });

  it("has nothing to check without a canary", () => {
    expect(canaryScopeProblem(NS, undefined, NONE)).toBeUndefined();
  });

  it("runs as a tenant check on a profile's namespace and spec", () => {
    const check = canaryScopeCheck(NONE);
    expect(check({ namespace: NS }, { canary: canary(["game.example.com"]) })?.reason).toBe("HostNotAllowed");
    expect(check({ namespace: NS }, {})).toBeUndefined();
  });
});

describe("hostMatches", () => {
  it.each([
    ["a.d.com", "a.d.com", true],
    ["a.d.com", "*.d.com", true],
    ["*.d.com", "*.d.com", true],
    ["*.a.d.com", "*.d.com", true],
    ["d.com", "*.d.com", false],
    ["ad.com", "*.d.com", false],
    ["*.com", "*.d.com", false],
    ["a.d.com", "d.com", false],
    ["*.d.com", "a.d.com", false],
  ])("%s under %s: %s", (host, pattern, want) => {
    expect(hostMatches(host, pattern)).toBe(want);
  });
});

describe("resolveGateway", () => {
  it.each([
    ["gw", { namespace: NS, name: "gw" }],
    ["./gw", { namespace: NS, name: "gw" }],
    ["other/gw", { namespace: "other", name: "gw" }],
    ["other/gw.v1", { namespace: "other", name: "gw.v1" }],
    ["gw.other", { namespace: "other", name: "gw" }],
    ["gw.other.svc.cluster.local", { namespace: "other", name: "gw" }],
    ["other/", undefined],
    ["a/b/c", undefined],
    ["GW", undefined],
  ])("reads %j as Istio does", (raw, want) => {
    expect(resolveGateway(raw, NS)).toEqual(want);
  });
});

describe("canonicalHost", () => {
  it("lowers ASCII and refuses what it would have to guess at", () => {
    expect(canonicalHost("Game.Example.COM")).toEqual({ ok: true, host: "game.example.com" });
    expect(canonicalHost("game.example.com.").ok).toBe(false);
    expect(canonicalHost("game.exampl\u0435.com").ok).toBe(false);
    expect(canonicalHost(" game.example.com").ok).toBe(false);
    expect(canonicalHost(`${"a.".repeat(126)}ab`).ok).toBe(false); // 254 characters
    expect(canonicalHost(`${"a.".repeat(125)}abc`).ok).toBe(true); // 253
  });
});

describe("the operator's flags", () => {
  it.each(["istio-system/public-gateway", "ingress/internal.v2"])("--allowed-gateway %s", (raw) => {
    expect(parseAllowedGateway(raw)).toEqual({ ok: true, value: raw });
  });

  it.each([
    ["public-gateway", "namespace/name"],
    ["public-gateway.istio-system", "namespace/name"],
    ["istio-system/*", "no wildcards"],
    ["Istio-System/public", "lower-case"],
    ["a/b/c", "namespace/name"],
    ["", "namespace/name"],
    ["mesh", "always allowed"],
  ])("refuses --allowed-gateway %j", (raw, why) => {
    const parsed = parseAllowedGateway(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(why);
  });

  it.each([
    ["*.shop.example.com", "*.shop.example.com"],
    ["game.example.com", "game.example.com"],
    ["*.Shop.Example.com", "*.shop.example.com"],
  ])("--allowed-host %s", (raw, value) => {
    expect(parseAllowedHost(raw)).toEqual({ ok: true, value });
  });

  it.each([
    ["*", "any hostname"],
    ["shop.*.com", "* only as the whole first label"],
    ["*shop.example.com", "* only as the whole first label"],
    ["shop.example.com.", "trailing dot"],
    ["sh\u00f6p.example.com", "punycode"],
    ["", "DNS name"],
  ])("refuses --allowed-host %j", (raw, why) => {
    const parsed = parseAllowedHost(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(why);
  });
});

describe("parseCanaryScope", () => {
  it("takes repeated and comma-separated values, lowers hosts and drops repeats and empties", () => {
    expect(parseCanaryScope(["istio-system/public, ingress/internal", "istio-system/public"], ["*.Shop.example.com,", " game.example.com ", ""])).toEqual({
      allowedGateways: ["istio-system/public", "ingress/internal"],
      allowedHosts: ["*.shop.example.com", "game.example.com"],
    });
    expect(parseCanaryScope([], [""])).toEqual({ allowedGateways: [], allowedHosts: [] });
  });

  it("throws naming the flag and the bad value", () => {
    expect(() => parseCanaryScope(["istio-system/public", "public"], [])).toThrow('--allowed-gateway "public": write a gateway as namespace/name');
    expect(() => parseCanaryScope([], ["*"])).toThrow("--allowed-host *:");
  });
});
