import { readdirSync, readFileSync } from "node:fs";
import { parse, parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import { rulesCommand } from "../../src/cli/rules.ts";
import { dashboardJson } from "../../src/dashboard/grafana.ts";

// The chart without helm: its copies of the generated API objects, its values against its schema, the
// operator's flags, and the rules of its RBAC. Rendering, lint and installs are e2e/chart.e2e.test.ts.

const CHART = new URL("./", import.meta.url);
const ROOT = new URL("../../", import.meta.url);
const read = (url: URL) => readFileSync(url, "utf8");
const chartFile = (path: string) => read(new URL(path, CHART));
const FIX = "run `npm run chart:render` (scripts/chart-render.sh) and commit the result";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  enum?: Json[];
  items?: Schema;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** The draft-07 keywords values.schema.json uses, checked as helm checks them; returns the problems. */
function validate(schema: Schema, value: unknown, at = ""): string[] {
  const problems: string[] = [];
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === "integer" && types.includes("number"))) return [`${at || "/"}: ${t}, want ${types.join("|")}`];
  }
  if (schema.enum && !schema.enum.includes(value as Json)) problems.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${at}: ${value} < ${schema.minimum}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) problems.push(`${at}: ${value} <= ${schema.exclusiveMinimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${at}: ${value} > ${schema.maximum}`);
  }
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) problems.push(`${at}: ${JSON.stringify(value)} !~ ${schema.pattern}`);
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => problems.push(...validate(schema.items!, v, `${at}/${i}`)));
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) problems.push(`${at}: ${r} is required`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k];
      if (sub) problems.push(...validate(sub, v, `${at}/${k}`));
      else if (schema.additionalProperties === false) problems.push(`${at}: unknown key ${k}`);
      else if (typeof schema.additionalProperties === "object") problems.push(...validate(schema.additionalProperties, v, `${at}/${k}`));
    }
  }
  return problems;
}

/** Helm's coalescing of a values file over the defaults: maps merge, everything else replaces. */
function merge(base: unknown, over: unknown): unknown {
  if (typeOf(base) !== "object" || typeOf(over) !== "object") return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = merge(out[k], v);
  return out;
}

const schema = JSON.parse(chartFile("values.schema.json")) as Schema & { $schema?: string };
const values = parse(chartFile("values.yaml")) as Record<string, unknown>;
const ciFiles = readdirSync(new URL("ci/", CHART)).filter((f) => f.endsWith(".yaml")).sort();

describe("the chart's copies of the generated API objects", () => {
  it.each([
    ["crds/tollgate.dev_performanceprofiles.yaml", "crds/tollgate.dev_performanceprofiles.yaml"],
    ["crds/tollgate-freeze-policy.yaml", "files/tollgate-freeze-policy.yaml"],
  ])("%s is copied byte for byte to charts/tollgate/%s", (generated, copy) => {
    const want = readFileSync(new URL(generated, ROOT));
    const have = readFileSync(new URL(copy, CHART));
    expect(Buffer.compare(have, want), `charts/tollgate/${copy} is stale against ${generated}: ${FIX}`).toBe(0);
  });

  it("the freeze policy template adds labels beside the generated one and changes nothing else", () => {
    // The template replaces this exact text; a generator that labels differently must fail here first.
    expect(chartFile("files/tollgate-freeze-policy.yaml")).toContain("  labels:\n    app.kubernetes.io/name: tollgate\n");
    expect(chartFile("templates/freeze-policy.yaml")).toContain('.Files.Get "files/tollgate-freeze-policy.yaml"');
  });

  it("files/tollgate-operator-alerts.yaml is what `tollgate rules --operator` prints, and the alerts template ships it whole", async () => {
    let printed = "";
    await rulesCommand(["--operator"], { read: () => Promise.reject(new Error("no files")), write: (t) => void (printed += t), help: () => undefined });
    expect(printed).toContain("alert: TollgateProfileFrozenLong");
    expect(chartFile("files/tollgate-operator-alerts.yaml"), `charts/tollgate/files/tollgate-operator-alerts.yaml is stale: ${FIX}`).toBe(printed);
    const template = chartFile("templates/operator-alerts.yaml");
    expect(template).toContain('$.Files.Get "files/tollgate-operator-alerts.yaml" | trimSuffix "\\n" | nindent 2');
    expect(template).toContain("kind: PrometheusRule");
  });

  it("files/tollgate-dashboard.json is what `tollgate dashboard` prints, and the dashboard template ships it whole", () => {
    expect(chartFile("files/tollgate-dashboard.json"), `charts/tollgate/files/tollgate-dashboard.json is stale: ${FIX}`).toBe(dashboardJson());
    const template = chartFile("templates/dashboard.yaml");
    expect(template).toContain("kind: ConfigMap");
    expect(template).toContain('$.Files.Get "files/tollgate-dashboard.json" | trimSuffix "\\n" | nindent 4');
    // Off by default, and labelled as Grafana's sidecar looks for it when on.
    expect(values.dashboard).toMatchObject({ enabled: false, labels: { grafana_dashboard: "1" }, folderAnnotation: "grafana_folder" });
  });

  it("runs the operator version the package is", () => {
    const chart = parse(chartFile("Chart.yaml")) as { appVersion: string; kubeVersion: string };
    const pkg = JSON.parse(read(new URL("package.json", ROOT))) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
  });
});

describe("values.schema.json", () => {
  it("is draft-07 and closes the top level", () => {
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.additionalProperties).toBe(false);
  });

  it("accepts values.yaml and describes every top-level key of it", () => {
    expect(validate(schema, values)).toEqual([]);
    expect(Object.keys(values).sort()).toEqual(Object.keys(schema.properties ?? {}).filter((k) => k !== "global").sort());
  });

  it.each(ciFiles)("accepts ci/%s over the defaults", (file) => {
    expect(validate(schema, merge(values, parse(chartFile(`ci/${file}`))))).toEqual([]);
  });

  it.each([
    ["an unknown top-level key", { replicas: 2 }, "unknown key replicas"],
    ["an unknown nested key", { image: { tagg: "1" } }, "unknown key tagg"],
    ["a string for an integer", { replicaCount: "2" }, "/replicaCount: string, want integer|null"],
    ["no shard", { shards: 0 }, "/shards: 0 < 1"],
    ["more shards than leader election's client renews in time", { shards: 33 }, "/shards: 33 > 32"],
    ["a fractional shard count", { shards: 1.5 }, "/shards: number, want integer"],
    ["a boolean as a string", { leaderElection: { enabled: "true" } }, "/leaderElection/enabled: string, want boolean"],
    ["a read mode that does not exist", { readMode: "Recorded" }, "/readMode"],
    ["a log level that does not exist", { logLevel: "verbose" }, "/logLevel"],
    ["zero workers", { workers: 0 }, "/workers: 0 < 1"],
    ["a Kubernetes API rate of zero", { kubeApi: { qps: 0 } }, "/kubeApi/qps: 0 <= 0"],
    ["a fractional burst", { kubeApi: { burst: 1.5 } }, "/kubeApi/burst: number, want integer"],
    ["an unknown key of the API rate", { kubeApi: { QPS: 50 } }, "/kubeApi: unknown key QPS"],
    ["a port out of range", { metrics: { port: 70000 } }, "/metrics/port"],
    ["a Prometheus URL without a scheme", { prometheus: { url: "prometheus:9090" } }, "/prometheus/url"],
    ["a relative rules directory", { rulesDir: "rules" }, "/rulesDir"],
    ["an unknown key of the operator alerts", { alerts: { operator: { enable: true } } }, "/alerts/operator: unknown key enable"],
    ["a label of the operator alerts that is no string", { alerts: { operator: { labels: { release: 1 } } } }, "/alerts/operator/labels/release: integer, want string"],
    ["a namespace name Kubernetes refuses", { watchNamespace: "Team_A" }, "/watchNamespace"],
    ["an unknown key of the dashboard", { dashboard: { enable: true } }, "/dashboard: unknown key enable"],
    ["a dashboard label that is no string", { dashboard: { labels: { grafana_dashboard: 1 } } }, "/dashboard/labels/grafana_dashboard: integer, want string"],
    ["a dashboard namespace Kubernetes refuses", { dashboard: { namespace: "Monitoring" } }, "/dashboard/namespace"],
    ["a folder annotation that is no annotation key", { dashboard: { folderAnnotation: "grafana folder" } }, "/dashboard/folderAnnotation"],
    ["an allowed gateway without its namespace", { istio: { allowedGateways: ["public-gateway"] } }, "/istio/allowedGateways/0"],
    ["an allowed host with a wildcard inside", { istio: { allowedHosts: ["shop.*.example.com"] } }, "/istio/allowedHosts/0"],
    ["a bare * as an allowed host", { istio: { allowedHosts: ["*"] } }, "/istio/allowedHosts/0"],
  ])("refuses %s", (_name, override, problem) => {
    const problems = validate(schema, merge(values, override));
    expect(problems.join("\n")).toContain(problem);
  });
});

describe("the operator's flags", () => {
  const cli = read(new URL("src/cli/main.ts", ROOT));
  const options = cli.slice(cli.indexOf("options: {", cli.indexOf("async function controller(")));
  const flags = [...options.slice(0, options.indexOf("strict: true")).matchAll(/^\s+"?([a-z-]+)"?: \{ type:/gm)].map((m) => m[1]!);
  const deployment = chartFile("templates/deployment.yaml");
  // Flags the chart sets another way: in-cluster credentials, and the Lease in the release namespace
  // through POD_NAMESPACE (the fallback of --leader-election-namespace).
  const notFlags: Record<string, string> = { kubeconfig: "", "leader-election-namespace": "name: POD_NAMESPACE", help: "" };

  it("finds the controller's flags in src/cli/main.ts", () => {
    expect(flags).toContain("prometheus-url");
    expect(flags.length).toBeGreaterThan(10);
  });

  it("passes every controller flag from a value, or says why not", () => {
    const missing = flags.filter((f) => !(f in notFlags) && !deployment.includes(`"--${f}=`));
    expect(missing, "flags of `tollgate controller` the chart's Deployment does not set").toEqual([]);
    expect(deployment).toContain(notFlags["leader-election-namespace"]);
    expect(deployment).toContain("name: POD_NAME\n");
  });

  it("takes each value it uses from values.yaml, and documents the flag values there", () => {
    const doc = parseDocument(chartFile("values.yaml"));
    for (const path of new Set([...deployment.matchAll(/\.Values\.([A-Za-z.]+)/g)].map((m) => m[1]!))) {
      expect(doc.hasIn(path.split(".")), `.Values.${path} is used by the Deployment but not in values.yaml`).toBe(true);
    }
    const top = doc.contents as unknown as { items: Array<{ key: { value: string; commentBefore?: string } }> };
    for (const key of ["watchNamespace", "readMode", "rulesDir", "workers", "resyncSeconds", "pagerDutyUrl", "logLevel", "shards"]) {
      const item = top.items.find((i) => i.key.value === key);
      expect(item?.key.commentBefore, `values.yaml documents ${key} with its flag`).toMatch(/--[a-z-]+/);
    }
  });
});

describe("the operator's RBAC", () => {
  interface Rule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames?: string[];
  }
  const rbac = chartFile("templates/rbac.yaml");
  /** The YAML body of a `define` block: plain YAML with a comment above each rule. */
  const block = (name: string) => {
    const start = rbac.indexOf(`{{- define "${name}" -}}`);
    const body = rbac.slice(rbac.indexOf("\n", start) + 1, rbac.indexOf("{{- end }}", start));
    return { text: body, rules: parse(body) as Rule[] };
  };
  const operator = block("tollgate.operatorRules");
  const crd = block("tollgate.crdRule");
  const all = [...operator.rules, ...crd.rules];
  const verbsOf = (group: string, resource: string) =>
    all.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.verbs);
  const templates = readdirSync(new URL("templates/", CHART)).map((f) => chartFile(`templates/${f}`));

  it("names the code that needs each rule in a comment above it", () => {
    for (const text of [operator.text, crd.text, chartFile("templates/rbac-leader-election.yaml")]) {
      const lines = text.split("\n");
      lines.forEach((line, i) => {
        if (/^\s*- apiGroups:/.test(line)) expect(lines[i - 1], `no comment above "${line.trim()}"`).toMatch(/^\s*#/);
      });
      expect(text).toMatch(/src\/[a-z/-]+\.ts/);
    }
  });

  it("has no wildcards anywhere", () => {
    for (const t of templates) expect(t).not.toMatch(/(verbs|resources|apiGroups|resourceNames):.*"\*"/);
  });

  it("reads Secrets only by name", () => {
    expect(verbsOf("", "secrets")).toEqual(["get"]);
  });

  it("deletes only the objects Tollgate applies or creates (<target>-primary) and garbage-collects the rest", () => {
    const deleters = all.filter((r) => r.verbs.includes("delete") || r.verbs.includes("deletecollection")).flatMap((r) => r.resources).sort();
    expect(deleters).toEqual(["deployments", "destinationrules", "horizontalpodautoscalers", "virtualservices"]);
    expect(all.some((r) => r.verbs.includes("deletecollection"))).toBe(false);
    expect(verbsOf("apps", "deployments")).not.toContain("update");
  });

  it("reads CustomResourceDefinitions only by name", () => {
    expect(crd.rules).toEqual([
      { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], resourceNames: ["prometheusrules.monitoring.coreos.com"], verbs: ["get"] },
    ]);
  });

  it("covers the verbs the operator's calls need", () => {
    expect(verbsOf("tollgate.dev", "performanceprofiles").sort()).toEqual(["get", "list", "patch", "watch"]);
    expect(verbsOf("tollgate.dev", "performanceprofiles/status")).toEqual(["patch"]);
    expect(verbsOf("apps", "deployments").sort()).toEqual(["create", "delete", "list", "patch", "watch"]);
    expect(verbsOf("apps", "replicasets").sort()).toEqual(["get", "list", "watch"]);
    for (const [group, resource] of [["autoscaling", "horizontalpodautoscalers"], ["networking.istio.io", "virtualservices"], ["networking.istio.io", "destinationrules"]] as const) {
      expect(verbsOf(group, resource).sort()).toEqual(["create", "delete", "list", "patch", "watch"]);
    }
    expect(verbsOf("monitoring.coreos.com", "prometheusrules").sort()).toEqual(["create", "patch"]);
    expect(verbsOf("", "events").sort()).toEqual(["create", "patch"]);
  });
});

describe("sharding", () => {
  const helpers = chartFile("templates/_helpers.tpl");
  const deployment = chartFile("templates/deployment.yaml");
  const pdb = chartFile("templates/pdb.yaml");
  const leaseRole = chartFile("templates/rbac-leader-election.yaml");
  /** The YAML of the template between two markers of its own, with the Helm lines dropped. */
  const between = (text: string, from: string, to: string) => {
    const start = text.indexOf(from);
    const body = text.slice(start + from.length, text.indexOf(to, start + from.length));
    return body.split("\n").filter((l) => !/^\s*\{\{/.test(l)).join("\n");
  };
  interface Rule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames?: string[];
  }

  it("is off by default: one shard, and replicas unset so the chart picks them", () => {
    expect(values.shards).toBe(1);
    expect(values.replicaCount).toBeNull();
    expect(schema.properties?.shards).toMatchObject({ type: "integer", minimum: 1, maximum: 32 });
  });

  it("scales replicas with the shards unless replicaCount is set: min(shards, 3), else 2 as before", () => {
    expect(helpers).toContain('{{- if include "tollgate.sharded" . }}{{ min (int .Values.shards) 3 }}{{ else }}2{{ end }}');
    expect(helpers).toContain('{{- if kindIs "invalid" .Values.replicaCount }}');
    expect(deployment).toContain('replicas: {{ include "tollgate.replicas" . }}');
    expect(pdb).toContain('(gt (int (include "tollgate.replicas" .)) 1)');
  });

  it("passes --shards and the Pod's UID only when sharded, so one shard renders as before", () => {
    const sharded = between(deployment, '{{- if include "tollgate.sharded" . }}', "{{- end }}");
    expect(sharded).toContain('- {{ printf "--shards=%d" (int .Values.shards) | quote }}');
    const env = deployment.slice(deployment.indexOf("- name: POD_NAMESPACE"));
    expect(between(env, '{{- if include "tollgate.sharded" . }}', "{{- end }}")).toContain("fieldPath: metadata.uid");
  });

  it("lets one replica at a time go when sharded, and keeps one running otherwise", () => {
    expect(pdb).toMatch(/\{\{- if include "tollgate\.sharded" \. \}\}\n  maxUnavailable: 1\n  \{\{- else \}\}\n  minAvailable: 1/);
  });

  it("grants the Lease calls sharded election makes (create, list, get, update) in the release namespace, and one Lease by name otherwise", () => {
    const always = parse(between(leaseRole, "rules:\n", '{{- if include "tollgate.sharded" . }}')) as Rule[];
    const sharded = parse(between(leaseRole, '{{- if include "tollgate.sharded" . }}', "{{- else }}")) as Rule[];
    const singleText = between(leaseRole, "{{- else }}", "{{- end }}");
    const single = parse(singleText.replace("[{{ .Values.leaderElection.id | quote }}]", "[tollgate-leader]")) as Rule[];
    const verbs = (rules: Rule[]) => rules.flatMap((r) => r.verbs).sort();
    expect(verbs([...always, ...sharded])).toEqual(["create", "get", "list", "update"]);
    expect([...always, ...sharded].every((r) => r.apiGroups.join() === "coordination.k8s.io" && r.resources.join() === "leases" && !r.resourceNames)).toBe(true);
    expect(verbs([...always, ...single])).toEqual(["create", "get", "update"]);
    expect(singleText).toContain("resourceNames: [{{ .Values.leaderElection.id | quote }}]");
    expect(single[0]?.resourceNames).toEqual(["tollgate-leader"]);
  });

  it("refuses shards without leader election, and an election id too long to label the Leases", () => {
    expect(helpers).toContain('{{- fail "shards > 1 needs leaderElection.enabled');
    expect(helpers).toContain("(gt (len .Values.leaderElection.id) 63)");
  });
});
