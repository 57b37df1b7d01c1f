import { stringify } from "yaml";
import { validateSpec } from "../api/validate.ts";
import { KIND } from "../api/meta.ts";
import { InputError, UsageError } from "../cli/flags.ts";
import { objectsFromYaml, profileOf } from "../cli/rules.ts";
import { readDirect } from "../prometheus/slo-reader.ts";
import { HELP_OPTION, namespaceFlag, output, parse } from "./args.ts";
import { evaluate, evaluationText, type Evaluation } from "./evaluate-view.ts";
import { prometheusAt } from "./prometheus.ts";
import type { ProfileSpec } from "../api/profile.ts";

export const EVALUATE_USAGE = `Usage: kubectl tollgate evaluate -f FILE [NAME] --prometheus URL [-n NS] [-o json|yaml]

What Tollgate's error-budget policy would decide now for each PerformanceProfile in FILE, without a
cluster: its SLOs are read from Prometheus with the operator's own Direct-mode queries, and the
operator's own policy decides. Prints the phase, the budget and burn rates per SLO, what Tollgate would
do (freeze, events, notifications) and why (the conditions), and what a file cannot tell: a profile
with no history has no earlier freeze (hysteresis) and no last known good revision (so no rollback).

Flags:
  -f, --filename FILE     a file of PerformanceProfiles (- for stdin); NAME picks one
      --prometheus URL    the Prometheus to read (required)
  -n, --namespace NS      namespace of profiles that name none (default: default); it is part of
                          the Istio presets' queries
  -o, --output FORMAT     json or yaml: {"items": [{profile, conditions, actions, rollbackSkipped,
                          measurementError, problems, assumptions}]}

Exit codes: 0 evaluated; 1 a profile is invalid, the file cannot be read, or Prometheus did not answer
(the evaluation is still printed: what Tollgate does without data); 2 a flag is wrong.
`;

export interface EvaluateIo {
  out(text: string): void;
  now(): Date;
  read(path: string): Promise<string>;
}

const OPTIONS = {
  ...HELP_OPTION,
  filename: { type: "string", short: "f" },
  prometheus: { type: "string" },
  namespace: { type: "string", short: "n" },
  output: { type: "string", short: "o" },
} as const;

/** `kubectl tollgate evaluate`. */
export async function evaluateCommand(argv: readonly string[], io: EvaluateIo): Promise<void> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return io.out(EVALUATE_USAGE);
  if (values.filename === undefined) throw new UsageError("evaluate needs -f FILE");
  if (values.prometheus === undefined) throw new UsageError("evaluate needs --prometheus URL: it measures the SLOs now");
  if (positionals.length > 1) throw new UsageError(`evaluate takes at most one name, not ${positionals.length}: ${positionals.join(" ")}`);
  const format = output(values.output);
  const namespace = namespaceFlag(values.namespace) ?? "default";
  const name = positionals[0];
  const source = values.filename === "-" ? "stdin" : values.filename;
  let text: string;
  try {
    text = await io.read(values.filename);
  } catch (err) {
    throw new InputError(`cannot read ${source}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const profiles: Array<{ namespace: string; name: string; spec: ProfileSpec }> = [];
  for (const { at, obj } of objectsFromYaml(text, source)) {
    const doc = profileOf(obj, at, source, namespace);
    if (!doc || (name !== undefined && doc.profile.name !== name)) continue;
    // profileOf checked it; validateSpec again for the whole spec the policy reads, not the SLO subset.
    const spec = validateSpec((obj as { spec?: unknown }).spec);
    if (!spec.ok) throw new InputError(`${doc.where}: ${spec.message}`);
    profiles.push({ namespace: doc.profile.namespace, name: doc.profile.name, spec: spec.spec });
  }
  if (profiles.length === 0) throw new InputError(`${source}: no ${KIND}${name === undefined ? "" : ` named ${name}`} in it`);

  const now = io.now();
  const readings = await readDirect(prometheusAt(values.prometheus), profiles, now);
  const evaluations: Evaluation[] = profiles.map((p, i) => {
    const r = readings[i];
    return evaluate({ ...p, measurements: r?.measurements ?? { error: "not read", slos: [], at: now }, problems: r?.problems ?? [], now });
  });
  if (format === "json") io.out(`${JSON.stringify({ items: evaluations }, null, 2)}\n`);
  else if (format === "yaml") io.out(stringify({ items: evaluations }, { lineWidth: 0 }));
  else io.out(evaluations.map((e, i) => evaluationText(e, profiles[i]?.spec.targetRef.name ?? "", now)).join("\n"));
  const failed = evaluations.find((e) => e.measurementError !== null);
  if (failed) throw new InputError(`Prometheus did not answer for ${failed.profile.namespace}/${failed.profile.name}: ${failed.measurementError}`);
}
