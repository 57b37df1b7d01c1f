import { parseArgs } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { API_VERSION, KIND } from "../api/meta.ts";
import { DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN } from "../api/names.ts";
import { validateSpec } from "../api/validate.ts";
import { operatorAlertGroup } from "../slo/alerts.ts";
import type { SloProfile } from "../slo/plan.ts";
import { operatorPrometheusRule, profileRuleSet, prometheusRule, type PrometheusRuleObject } from "../slo/profile-rules.ts";
import { rulesFileYaml, type Rule, type RuleGroup, type RuleOptions } from "../slo/rules.ts";
import { DEFAULT_TILE } from "../slo/tiles.ts";
import { InputError, tileFlag, UsageError } from "./flags.ts";

/**
 * `tollgate rules`: what the operator would have Prometheus load for a profile in RecordingRules mode,
 * printed for people who ship rules through a pipeline of their own (GitOps, a rules repository,
 * promtool in CI). Pure apart from the `io` it is given, so it is tested without spawning anything.
 */

export const RULES_USAGE = `Usage: tollgate rules -f FILE [-f FILE ...] [flags]
       tollgate rules --operator [flags]

Prints the recording rules and burn-rate alerts Tollgate writes for each PerformanceProfile in FILE
(several documents, other kinds skipped, a kubectl List too; - reads stdin), as it writes them in
RecordingRules mode. Expressions in ratio indicators are not parsed here: promtool check rules does.

Flags:
  -f, --filename FILE    a file of PerformanceProfiles; repeatable
  -n, --namespace NS     namespace of profiles that name none (default: default); with --operator
                         -o prometheusrule, the namespace of Tollgate's own PrometheusRule
      --operator         also print Tollgate's own alerts (Prometheus reads failing, reconciles
                         failing, a profile frozen for over a day), read from its /metrics
  -o, --output FORMAT    yaml: one Prometheus rules file (rule_files); prometheusrule: a
                         PrometheusRule per profile (<profile>-tollgate-slos in its namespace) and
                         tollgate-operator-alerts (default: yaml)
      --label KEY=VALUE  a label for every PrometheusRule, e.g. what your Prometheus's ruleSelector
                         matches (release=prometheus); repeatable
      --tile DURATION    record each SLO's events once per tile, as the operator's --tile   (default: ${DEFAULT_TILE})
                         does. Every window is still read raw here: a Tollgate that reads
                         Direct sums the windows the tiles cover from them. off: no tiles

Exit codes: 0 printed; 1 a file could not be read or a profile is invalid (the message names the
file, the profile and the field); 2 a flag is wrong.
`;

export type RulesOutput = "yaml" | "prometheusrule";

export interface RulesArgs {
  files: string[];
  /** -n: undefined when not given. */
  namespace: string | undefined;
  operator: boolean;
  output: RulesOutput;
  /** The tile, or null for none. */
  tile: string | null;
  labels: Record<string, string>;
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = new RegExp(DNS_SUBDOMAIN_PATTERN);
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** KEY=VALUE as Kubernetes takes a label: an optional DNS-subdomain prefix and a name, a value of at most 63 characters. */
function label(raw: string): [string, string] {
  const eq = raw.indexOf("=");
  const key = eq < 0 ? raw : raw.slice(0, eq);
  const value = eq < 0 ? undefined : raw.slice(eq + 1);
  const slash = key.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = key.slice(slash + 1);
  const keyOk = LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && LABEL_PREFIX.test(prefix)));
  if (value === undefined || !keyOk || !LABEL_VALUE.test(value)) {
    throw new UsageError(`--label must be KEY=VALUE with a Kubernetes label key and value, not ${JSON.stringify(raw)}`);
  }
  return [key, value];
}

const OPTIONS = {
  filename: { type: "string", short: "f", multiple: true },
  namespace: { type: "string", short: "n" },
  operator: { type: "boolean" },
  output: { type: "string", short: "o" },
  label: { type: "string", multiple: true },
  tile: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The flags of `tollgate rules`; "help" for -h. Throws UsageError. */
export function parseRulesArgs(argv: readonly string[]): RulesArgs | "help" {
  const values = (() => {
    try {
      return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values;
    } catch (err) {
      // node:util's own messages ("Unknown option '--x'") name the flag.
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
  })();
  if (values.help) return "help";
  const files = values.filename ?? [];
  const operator = values.operator ?? false;
  if (files.length === 0 && !operator) throw new UsageError("rules needs -f FILE, --operator, or both");
  const output = values.output ?? "yaml";
  if (output !== "yaml" && output !== "prometheusrule") throw new UsageError(`-o must be yaml or prometheusrule, not ${JSON.stringify(output)}`);
  const namespace = values.namespace;
  if (namespace !== undefined && !(namespace.length <= 63 && new RegExp(DNS_LABEL_PATTERN).test(namespace))) {
    throw new UsageError(`-n must be a namespace name, not ${JSON.stringify(namespace)}`);
  }
  return {
    files,
    namespace,
    operator,
    output,
    tile: tileFlag(values.tile ?? DEFAULT_TILE),
    labels: Object.fromEntries((values.label ?? []).map(label)),
  };
}

/** A profile as read from a file, with where it was found for messages. */
export interface ProfileDocument {
  /** `profile.yaml: PerformanceProfile game`: prefixes every message about it. */
  where: string;
  profile: SloProfile;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The objects of a YAML file, each with where it was found (`file, document 2`, `..., items[0]` for a
 * kubectl List). Throws InputError naming the document that is not YAML or not an object.
 */
export function objectsFromYaml(text: string, source: string): Array<{ at: string; obj: unknown }> {
  const out: Array<{ at: string; obj: unknown }> = [];
  parseAllDocuments(text).forEach((doc, d) => {
    const document = `${source}, document ${d + 1}`;
    const error = doc.errors[0];
    if (error) throw new InputError(`${document}: ${error.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    if (!isObject(value)) throw new InputError(`${document}: not a Kubernetes object`);
    // `kubectl get pp -o yaml` prints a List.
    if (value.kind === "List" && Array.isArray(value.items)) value.items.forEach((item, i) => out.push({ at: `${document}, items[${i}]`, obj: item }));
    else out.push({ at: document, obj: value });
  });
  return out;
}

/**
 * The PerformanceProfiles of a YAML file, validated as the operator validates them; other kinds are
 * skipped, so a file of a Deployment with its profile (examples/) works as it is. A profile without a
 * namespace gets `namespace`, as kubectl would apply it there. Throws InputError naming the file, the
 * document or profile, and the field.
 */
export function profilesFromYaml(text: string, source: string, namespace: string): ProfileDocument[] {
  const out: ProfileDocument[] = [];
  for (const { at, obj } of objectsFromYaml(text, source)) {
    const profile = profileOf(obj, at, source, namespace);
    if (profile) out.push(profile);
  }
  return out;
}

/**
 * One object as a PerformanceProfile: undefined for another kind; InputError naming the document or
 * profile and the field when it is a profile the operator would refuse.
 */
export function profileOf(obj: unknown, at: string, source: string, defaultNamespace: string): ProfileDocument | undefined {
  if (!isObject(obj)) throw new InputError(`${at}: not a Kubernetes object`);
  if (obj.kind !== KIND) return undefined;
  if (obj.apiVersion !== API_VERSION) throw new InputError(`${at}: apiVersion: a ${KIND} is ${API_VERSION}, not ${JSON.stringify(obj.apiVersion ?? null)}`);
  const metadata = isObject(obj.metadata) ? obj.metadata : {};
  const name = metadata.name;
  if (typeof name !== "string" || name.length > 253 || !new RegExp(DNS_SUBDOMAIN_PATTERN).test(name)) {
    throw new InputError(`${at}: metadata.name: a ${KIND} needs a Kubernetes object name, not ${JSON.stringify(name ?? null)}`);
  }
  const where = `${source}: ${KIND} ${name}`;
  const ns = metadata.namespace ?? defaultNamespace;
  if (typeof ns !== "string" || ns.length > 63 || !new RegExp(DNS_LABEL_PATTERN).test(ns)) {
    throw new InputError(`${where}: metadata.namespace: not a namespace name: ${JSON.stringify(ns)}`);
  }
  const spec = validateSpec(obj.spec);
  if (!spec.ok) throw new InputError(`${where}: ${spec.message}`);
  return { where, profile: { namespace: ns, name, spec: spec.spec } };
}

export interface RenderOptions {
  operator: boolean;
  output: RulesOutput;
  tile: string | null;
  labels: Record<string, string>;
  /** -n as given: the namespace of Tollgate's own PrometheusRule; none when undefined. */
  namespace: string | undefined;
}

/**
 * The rules of `profiles` (and Tollgate's own alerts with `operator`) as the operator writes them for a
 * new profile: tiles recorded and every window read raw, since nothing here knows how far a pipeline's
 * tiles reach. Throws InputError when a profile appears twice (its groups would collide and
 * Prometheus refuse the file) or has an SLO that cannot be measured.
 */
export function renderRules(profiles: readonly ProfileDocument[], opts: RenderOptions): string {
  const seen = new Map<string, string>();
  for (const { where, profile } of profiles) {
    const key = `${profile.namespace}/${profile.name}`;
    const first = seen.get(key);
    if (first !== undefined) throw new InputError(`${where}: ${KIND} ${key} is also in ${first}; each profile's rules may be printed once`);
    seen.set(key, where);
  }
  const ruleOpts: RuleOptions = opts.tile === null ? {} : { tiles: { tile: opts.tile, coverageMs: {} } };
  const sets = profiles.map(({ where, profile }) => {
    const set = profileRuleSet(profile, ruleOpts);
    const problem = set.problems[0];
    if (problem) {
      const index = profile.spec.slos.findIndex((s) => s.name === problem.slo);
      throw new InputError(`${where}: spec.slos[${index}].indicator: SLO ${problem.slo} cannot be measured: ${problem.error}`);
    }
    return { profile, groups: set.groups };
  });
  if (opts.output === "yaml") {
    const groups: Array<RuleGroup<Rule>> = sets.flatMap((s) => s.groups);
    if (opts.operator) groups.push(operatorAlertGroup());
    return rulesFileYaml(groups);
  }
  const objects: PrometheusRuleObject[] = sets.map(({ profile }) => prometheusRule(profile, { ...ruleOpts, labels: opts.labels, managed: false }).object);
  if (opts.operator) objects.push(operatorPrometheusRule({ namespace: opts.namespace, labels: opts.labels }));
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

export interface RulesIo {
  /** A file's text; "-" is stdin. */
  read(path: string): Promise<string>;
  write(text: string): void;
  help(): void;
}

/** `tollgate rules ARGS`. Throws UsageError (exit 2) or InputError (exit 1). */
export async function rulesCommand(argv: readonly string[], io: RulesIo): Promise<void> {
  const args = parseRulesArgs(argv);
  if (args === "help") return io.help();
  const profiles: ProfileDocument[] = [];
  for (const file of args.files) {
    let text: string;
    try {
      text = await io.read(file);
    } catch (err) {
      throw new InputError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const found = profilesFromYaml(text, file === "-" ? "stdin" : file, args.namespace ?? "default");
    if (found.length === 0) throw new InputError(`${file === "-" ? "stdin" : file}: no ${KIND} (${API_VERSION}) in it`);
    profiles.push(...found);
  }
  io.write(renderRules(profiles, args));
}
