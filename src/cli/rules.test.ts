import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { profileSpecSchema } from "../api/profile.ts";
import { operatorAlertGroup } from "../slo/alerts.ts";
import type { SloProfile } from "../slo/plan.ts";
import { operatorPrometheusRule, profileRuleSet, prometheusRule } from "../slo/profile-rules.ts";
import { rulesFileYaml, type RulesFile } from "../slo/rules.ts";
import { InputError, UsageError } from "./flags.ts";
import { parseRulesArgs, profilesFromYaml, renderRules, rulesCommand, RULES_USAGE, type ProfileDocument, type RenderOptions } from "./rules.ts";

const GAME_SERVICE = readFileSync(new URL("../../examples/game-service.yaml", import.meta.url), "utf8");

const profileYaml = (name: string, extra = "", slo = "{name: availability, objective: 99.5, window: 30d, indicator: {istio: {kind: availability}}}") => `
apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: ${name}${extra}}
spec:
  targetRef: {name: ${name}}
  slos: [${slo}]
`;

const spec = (name: string) =>
  profileSpecSchema.parse({ targetRef: { name }, slos: [{ name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } }] });

const DEFAULTS: RenderOptions = { operator: false, output: "yaml", tile: "5m", labels: {}, namespace: undefined };
const TILES = { tiles: { tile: "5m", coverageMs: {} } };

/** The error a call throws, for asserting its class and message together. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("did not throw");
}

describe("tollgate rules: flags", () => {
  it("takes repeated files, and defaults to a rules file with 5-minute tiles and no operator alerts", () => {
    expect(parseRulesArgs(["-f", "a.yaml", "--filename", "b.yaml"])).toEqual({
      files: ["a.yaml", "b.yaml"],
      namespace: undefined,
      operator: false,
      output: "yaml",
      tile: "5m",
      labels: {},
    });
  });

  it("takes the namespace, the operator alerts, the PrometheusRule output, labels and the tile", () => {
    expect(parseRulesArgs(["-f", "-", "-n", "shop", "--operator", "-o", "prometheusrule", "--label", "release=prometheus", "--label", "example.com/team=a", "--tile", "off"])).toEqual({
      files: ["-"],
      namespace: "shop",
      operator: true,
      output: "prometheusrule",
      tile: null,
      labels: { release: "prometheus", "example.com/team": "a" },
    });
    expect(parseRulesArgs(["--operator"])).toMatchObject({ files: [], operator: true });
    expect(parseRulesArgs(["-f", "a.yaml", "--tile", "300s"])).toMatchObject({ tile: "5m" });
    expect(parseRulesArgs(["-h"])).toBe("help");
  });

  it.each([
    [[], "rules needs -f FILE, --operator, or both"],
    [["-f", "a.yaml", "-o", "json"], '-o must be yaml or prometheusrule, not "json"'],
    [["-f", "a.yaml", "-n", "Shop"], '-n must be a namespace name, not "Shop"'],
    [["-f", "a.yaml", "--label", "release"], '--label must be KEY=VALUE with a Kubernetes label key and value, not "release"'],
    [["-f", "a.yaml", "--label", "team=a b"], "--label must be KEY=VALUE"],
    [["-f", "a.yaml", "--label=-team=a"], "--label must be KEY=VALUE"],
    [["-f", "a.yaml", "--tile", "1.5s"], '--tile must be a duration of whole seconds such as 5m, or off, not "1.5s"'],
    [["-f", "a.yaml", "--prometheus-url", "http://x"], "--prometheus-url"],
    [["a.yaml"], "a.yaml"],
  ])("refuses %j with a usage error naming the flag", (argv, message) => {
    const err = thrown(() => parseRulesArgs(argv));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain(message);
  });
});

describe("tollgate rules: profile files", () => {
  it("reads the profile of an example, skipping its Service and Deployment, into the given namespace", () => {
    const [doc, ...more] = profilesFromYaml(GAME_SERVICE, "game-service.yaml", "games");
    expect(more).toEqual([]);
    expect(doc?.where).toBe("game-service.yaml: PerformanceProfile game-service");
    expect(doc?.profile.namespace).toBe("games");
    expect(doc?.profile.name).toBe("game-service");
    expect(doc?.profile.spec.slos.map((s) => s.name)).toEqual(["availability", "latency-p95", "latency-p99"]);
    // Defaults filled in as the API server would.
    expect(doc?.profile.spec.policy.evaluationInterval).toBe("30s");
  });

  it("keeps a profile's own namespace, and reads the items of a kubectl List", () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n${[profileYaml("a", ", namespace: team-a"), profileYaml("b")]
      .map((p) => `  - ${p.trim().split("\n").join("\n    ")}`)
      .join("\n")}\n`;
    const docs = profilesFromYaml(list, "list.yaml", "default");
    expect(docs.map((d) => `${d.profile.namespace}/${d.profile.name}`)).toEqual(["team-a/a", "default/b"]);
  });

  it.each([
    ["a field the schema refuses", profileYaml("shop", "", "{name: availability, objective: 100, indicator: {istio: {kind: availability}}}"), "f.yaml: PerformanceProfile shop: spec.slos[0].objective"],
    ["a missing field", profileYaml("shop").replace("  targetRef: {name: shop}\n", ""), "f.yaml: PerformanceProfile shop: spec.targetRef"],
    ["no name", profileYaml("shop").replace("{name: shop}", "{}"), "f.yaml, document 1: metadata.name: a PerformanceProfile needs a Kubernetes object name, not null"],
    ["a namespace Kubernetes refuses", profileYaml("shop", ", namespace: Team_A"), 'f.yaml: PerformanceProfile shop: metadata.namespace: not a namespace name: "Team_A"'],
    ["another API version", profileYaml("shop").replace("v1alpha1", "v1"), 'f.yaml, document 1: apiVersion: a PerformanceProfile is tollgate.dev/v1alpha1, not "tollgate.dev/v1"'],
    ["YAML that does not parse", `${profileYaml("ok")}---\nkind: [unclosed\n`, "f.yaml, document 2: "],
    ["a document that is no object", "--- just a string\n", "f.yaml, document 1: not a Kubernetes object"],
  ])("refuses %s, naming the file, the profile and the field", (_name, yaml, message) => {
    const err = thrown(() => profilesFromYaml(yaml, "f.yaml", "default"));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message.startsWith(message), err.message).toBe(true);
  });
});

describe("tollgate rules: output", () => {
  const docs = (...names: string[]): ProfileDocument[] => names.map((name) => ({ where: `f.yaml: PerformanceProfile ${name}`, profile: { namespace: "shop", name, spec: spec(name) } }));

  it("prints one rules file with every profile's recording rules and alerts, as the operator writes them for a new profile", () => {
    const [a, b] = docs("cart", "checkout") as [ProfileDocument, ProfileDocument];
    const file = parse(renderRules([a, b], DEFAULTS)) as RulesFile;
    expect(file).toEqual({ groups: [...profileRuleSet(a.profile, TILES).groups, ...profileRuleSet(b.profile, TILES).groups] });
    expect(file.groups.map((g) => g.name)).toEqual([
      "tollgate/shop/cart/tiles",
      "tollgate/shop/cart",
      "tollgate/shop/cart/alerts",
      "tollgate/shop/checkout/tiles",
      "tollgate/shop/checkout",
      "tollgate/shop/checkout/alerts",
    ]);
  });

  it("adds Tollgate's own alerts with --operator, and leaves the tiles out with --tile off", () => {
    const [a] = docs("cart") as [ProfileDocument];
    expect(renderRules([a], { ...DEFAULTS, operator: true, tile: null })).toBe(rulesFileYaml([...profileRuleSet(a.profile).groups, operatorAlertGroup()]));
    // Alone: what the chart ships (charts/tollgate/files/tollgate-operator-alerts.yaml).
    expect(renderRules([], { ...DEFAULTS, operator: true })).toBe(rulesFileYaml([operatorAlertGroup()]));
  });

  it("prints a PrometheusRule per profile in its namespace, labelled, not marked as Tollgate's, and the operator's in -n", () => {
    const [a, b] = docs("cart", "checkout") as [ProfileDocument, ProfileDocument];
    const text = renderRules([a, b], { ...DEFAULTS, output: "prometheusrule", operator: true, labels: { release: "prometheus" }, namespace: "monitoring" });
    const objects = parseAllDocuments(text).map((d) => d.toJS() as unknown);
    expect(objects).toEqual([
      prometheusRule(a.profile, { ...TILES, labels: { release: "prometheus" }, managed: false }).object,
      prometheusRule(b.profile, { ...TILES, labels: { release: "prometheus" }, managed: false }).object,
      operatorPrometheusRule({ namespace: "monitoring", labels: { release: "prometheus" } }),
    ]);
    expect(objects.map((o) => (o as { metadata: { name: string; namespace?: string; labels: Record<string, string> } }).metadata)).toEqual([
      { name: "cart-tollgate-slos", namespace: "shop", labels: { release: "prometheus", "tollgate.dev/profile": "cart" } },
      { name: "checkout-tollgate-slos", namespace: "shop", labels: { release: "prometheus", "tollgate.dev/profile": "checkout" } },
      { name: "tollgate-operator-alerts", namespace: "monitoring", labels: { release: "prometheus" } },
    ]);
  });

  it("refuses a profile given twice, whose groups would collide", () => {
    const [a] = docs("cart") as [ProfileDocument];
    const err = thrown(() => renderRules([a, { ...a, where: "g.yaml: PerformanceProfile cart" }], DEFAULTS));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe("g.yaml: PerformanceProfile cart: PerformanceProfile shop/cart is also in f.yaml: PerformanceProfile cart; each profile's rules may be printed once");
  });

  it("refuses a profile with an SLO that cannot be measured, naming its indicator, rather than print rules without it", () => {
    const profile: SloProfile = {
      namespace: "shop",
      name: "cart",
      spec: profileSpecSchema.parse({
        targetRef: { name: "cart" },
        slos: [
          { name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } },
          { name: "rpc", objective: 99, indicator: { latency: { metric: "rpc_latency", selector: "{}", threshold: "1s", unit: "seconds" } } },
        ],
      }),
    };
    // Stored before the CRD required a unit: valid to the schema of its day, unmeasurable now.
    delete profile.spec.slos[1]!.indicator.latency!.unit;
    const err = thrown(() => renderRules([{ where: "f.yaml: PerformanceProfile cart", profile }], DEFAULTS));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/^f\.yaml: PerformanceProfile cart: spec\.slos\[1\]\.indicator: SLO rpc cannot be measured: .*latency\.unit/);
  });
});

describe("tollgate rules: the command", () => {
  const io = (files: Record<string, string>) => {
    const out: string[] = [];
    let helped = false;
    return {
      out,
      helped: () => helped,
      io: {
        read: async (path: string) => {
          const text = files[path];
          if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
          return text;
        },
        write: (text: string) => void out.push(text),
        help: () => void (helped = true),
      },
    };
  };

  it("reads every file and prints their rules once", async () => {
    const t = io({ "a.yaml": profileYaml("cart"), "-": profileYaml("checkout", ", namespace: shop") });
    await rulesCommand(["-f", "a.yaml", "-f", "-", "-n", "shop", "--tile", "off"], t.io);
    expect(t.out).toHaveLength(1);
    expect((parse(t.out[0]!) as RulesFile).groups.map((g) => g.name)).toEqual([
      "tollgate/shop/cart",
      "tollgate/shop/cart/alerts",
      "tollgate/shop/checkout",
      "tollgate/shop/checkout/alerts",
    ]);
  });

  it("prints the usage for -h", async () => {
    const t = io({});
    await rulesCommand(["-h"], t.io);
    expect(t.helped()).toBe(true);
    expect(t.out).toEqual([]);
    expect(RULES_USAGE).toContain("--operator");
  });

  it.each([
    [["-f", "missing.yaml"], "cannot read missing.yaml: ENOENT"],
    [["-f", "deployment.yaml"], "deployment.yaml: no PerformanceProfile (tollgate.dev/v1alpha1) in it"],
    [["-f", "-"], "stdin: PerformanceProfile bad: spec.slos"],
  ])("fails on %j with an input error and prints nothing", async (argv, message) => {
    const t = io({ "deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n", "-": profileYaml("bad", "", "") });
    const err = await rulesCommand(argv, t.io).then(
      () => new Error("did not throw"),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message.startsWith(message), err.message).toBe(true);
    expect(t.out).toEqual([]);
  });
});
