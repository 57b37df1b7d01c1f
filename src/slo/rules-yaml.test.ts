import { readdirSync, readFileSync } from "node:fs";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { KIND } from "../api/meta.ts";
import { validateSpec } from "../api/validate.ts";
import type { SloProfile } from "./plan.ts";
import { profileRuleSet } from "./profile-rules.ts";
import { rulesYaml } from "./rules-yaml.ts";
import type { AlertingRule, RecordingRule, Rule, RuleGroup, RuleOptions } from "./rules.ts";

const DAY = 24 * 3_600_000;
const VERSIONS = ["1.2", "1.1"] as const;

/** The text as the yaml library reads it back, in each YAML version. */
function readBack(text: string): Record<(typeof VERSIONS)[number], unknown> {
  return { "1.2": parse(text, { version: "1.2" }), "1.1": parse(text, { version: "1.1" }) };
}

function expectRoundTrip(groups: Array<RuleGroup<Rule>>): string {
  const text = rulesYaml(groups);
  for (const v of VERSIONS) expect(readBack(text)[v], `YAML ${v}`).toEqual({ groups });
  return text;
}

const examplesDir = new URL("../../examples/", import.meta.url);

function exampleProfile(file: string): SloProfile {
  const docs = parseAllDocuments(readFileSync(new URL(file, examplesDir), "utf8")).map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; spec?: unknown });
  const doc = docs.find((d) => d.kind === KIND);
  if (!doc) throw new Error(`${file}: no ${KIND}`);
  const res = validateSpec(doc.spec);
  if (!res.ok) throw new Error(`${file}: ${res.message}`);
  return { namespace: "examples", name: doc.metadata?.name ?? file, spec: res.spec };
}

/** What the scale benchmark renders per profile: two Istio SLOs, tiled over 30 days. */
function benchProfile(): SloProfile {
  const res = validateSpec({
    targetRef: { name: "svc-00001" },
    slos: [
      { name: "availability", objective: 99.5, indicator: { istio: { kind: "availability" } } },
      { name: "latency", objective: 95, indicator: { istio: { kind: "latency", threshold: "500ms" } } },
    ],
    policy: { evaluationInterval: "30s" },
  });
  if (!res.ok) throw new Error(res.message);
  return { namespace: "bench", name: "svc-00001", spec: res.spec };
}

/** Tiles recorded for 30 days for every SLO of the profile. */
function tiled(p: SloProfile): RuleOptions {
  return { tiles: { coverageMs: Object.fromEntries(p.spec.slos.map((s) => [s.name, 30 * DAY])) } };
}

const profiles: Array<[string, SloProfile]> = [
  ...readdirSync(examplesDir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f): [string, SloProfile] => [`examples/${f}`, exampleProfile(f)]),
  ["the bench profile", benchProfile()],
];

const recording = (labels: Record<string, string>, over: Partial<RecordingRule> = {}): RecordingRule => ({ record: "r", expr: "up", labels, ...over });
const alerting = (over: Partial<AlertingRule> = {}): AlertingRule => ({ alert: "A", expr: "up == 0", labels: {}, annotations: {}, ...over });

describe("rulesYaml", () => {
  describe.each(profiles)("%s", (_name, p) => {
    it("reads back as profileRuleSet's groups in YAML 1.2 and 1.1", () => {
      const { groups } = profileRuleSet(p);
      expect(groups.length).toBeGreaterThan(0);
      expectRoundTrip(groups);
    });

    it("reads back as the groups with tiles in YAML 1.2 and 1.1, every rule's labels written out", () => {
      const { groups } = profileRuleSet(p, tiled(p));
      const text = expectRoundTrip(groups);
      // Tiles share one labels object per SLO: each rule still has its own labels, no alias.
      const rules = groups.flatMap((g) => g.rules).length;
      expect(text.match(/^ {8}labels:(?: \{\})?$/gm)).toHaveLength(rules);
      expect(text).not.toMatch(/[&*]a\d/);
    });
  });

  it("tiles the bench profile (the tiled cases are not the untiled ones again)", () => {
    const p = benchProfile();
    expect(profileRuleSet(p, tiled(p)).groups.map((g) => g.name)).toEqual([
      "tollgate/bench/svc-00001/tiles",
      "tollgate/bench/svc-00001/sums",
      "tollgate/bench/svc-00001",
      "tollgate/bench/svc-00001/alerts",
    ]);
  });

  it("writes the fixed shape: optional interval and for, empty lists and maps in flow style", () => {
    const groups: Array<RuleGroup<Rule>> = [
      { name: "g", interval: "30s", rules: [recording({ slo: "a" }), alerting({ for: "10m", labels: { severity: "page" }, annotations: { summary: "s" } })] },
      { name: "bare", rules: [recording({}), alerting()] },
      { name: "none", rules: [] },
    ];
    const text = expectRoundTrip(groups);
    expect(text).toBe(
      [
        "groups:",
        "  - name: g",
        "    interval: 30s",
        "    rules:",
        "      - record: r",
        "        expr: up",
        "        labels:",
        "          slo: a",
        "      - alert: A",
        "        expr: up == 0",
        "        for: 10m",
        "        labels:",
        "          severity: page",
        "        annotations:",
        "          summary: s",
        "  - name: bare",
        "    rules:",
        "      - record: r",
        "        expr: up",
        "        labels: {}",
        "      - alert: A",
        "        expr: up == 0",
        "        labels: {}",
        "        annotations: {}",
        "  - name: none",
        "    rules: []",
        "",
      ].join("\n"),
    );
  });

  it("writes no groups as an empty list", () => {
    expect(rulesYaml([])).toBe("groups: []\n");
    expect(readBack(rulesYaml([]))).toEqual({ "1.2": { groups: [] }, "1.1": { groups: [] } });
  });

  const tricky = [
    "", "true", "no", "on", "null", "~", "1.5", "0x1f", "1e3", "1:20", "2001-12-14", "- a", "a: b", "a #b", "#x", "x:", " lead", "trail ",
    "multi\nline", "tab\tx", 'quote"s', "back\\slash", "unicode × %", "@x", "`x", "{a}", "[a]", "*a", "&a", "!a", "|a", ">a", "'a", "%a",
    // Other cases and forms of the same classes, and what YAML 1.1 reads differently from 1.2.
    "True", "NULL", "Yes", "OFF", "y", "N", "=", "<<", ".inf", "-.Inf", "+.inf", ".NaN", "+1", "-1", "0o17", "017", "0b101", "1_000", "190:20:30", "1:20.5",
    "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "12e03", "9c51a2f3dcf8", "123e4567", ".5", "1.", "---", "...", "?x", "-x", ":x", ",x",
    "a\r\nb", "cr\r", "nul\0", "bs\b ff\f", "del\x7f", "c1\x85nel", "ls\u2028ps\u2029", "bom\ufeff", "emoji 😀", "x #", "a:b", "http://x:9090/a?b=c#d",
  ];

  it.each(tricky)("%j as label value, annotation value, key and every other field reads back exactly in YAML 1.2 and 1.1", (s) => {
    const groups: Array<RuleGroup<Rule>> = [
      {
        name: s,
        interval: s,
        rules: [
          recording({ [s]: s, other: s }, { record: s, expr: s }),
          alerting({ alert: s, expr: s, for: s, labels: { [s]: s, other: s }, annotations: { [s]: s, other: s } }),
        ],
      },
    ];
    expectRoundTrip(groups);
  });

  it("writes a lone surrogate as U+FFFD, as UTF-8 would, not as an escape go-yaml refuses", () => {
    const text = rulesYaml([{ name: "g", rules: [recording({ slo: "lone\ud800" })] }]);
    expect(text).not.toContain("\\ud800");
    for (const v of VERSIONS) expect(readBack(text)[v], `YAML ${v}`).toEqual({ groups: [{ name: "g", rules: [recording({ slo: "lone\ufffd" })] }] });
  });

  it("writes a key too long for an implicit key in the explicit form", () => {
    const long = "k".repeat(1500);
    const text = expectRoundTrip([{ name: "g", rules: [alerting({ annotations: { [long]: "v", [`${long}: x`]: "w" } })] }]);
    expect(text).toContain(`          ? ${long}\n          : v\n`);
  });

  it("leaves typical PromQL and durations plain, as an SRE would paste them", () => {
    const promql = 'sum(rate(x{a="b",c=~"5.."}[5m])) / sum(rate(x[5m]))';
    const latency = '1 - (sum(rate(x_bucket{le=~"500|500\\\\.0"}[5m])) / sum(rate(x_count[5m])))';
    const text = expectRoundTrip([
      { name: "tollgate/ns/p", interval: "2m30s", rules: [recording({ window: "5m" }, { expr: promql }), alerting({ expr: latency, for: "1h59m59s999ms" })] },
    ]);
    expect(text).toContain(`    interval: 2m30s\n`);
    expect(text).toContain(`        expr: ${promql}\n`);
    expect(text).toContain(`          window: 5m\n`);
    expect(text).toContain(`        expr: ${latency}\n`);
    expect(text).toContain(`        for: 1h59m59s999ms\n`);
  });

  it("leaves every expression of the bench profile plain", () => {
    const p = benchProfile();
    const { groups } = profileRuleSet(p, tiled(p));
    const text = rulesYaml(groups);
    for (const r of groups.flatMap((g) => g.rules)) expect(text).toContain(`        expr: ${r.expr}\n`);
  });
});
