import { InputError } from "../cli/flags.ts";
import { PrometheusClient, PrometheusError } from "../prometheus/client.ts";
import { budgetQuery, onSteps, sparkline, sparkRange, SPARK_POINTS } from "./sparkline.ts";
import type { ProfileSummary } from "./status-view.ts";

/** A Prometheus named on the command line: the person's own choice, read with the operator's client. */
export function prometheusAt(url: string): PrometheusClient {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error(`${parsed.protocol} is not http or https`);
  } catch (err) {
    throw new InputError(`--prometheus must be an http(s) URL, not ${JSON.stringify(url)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return new PrometheusClient({ url, retries: 1 });
}

/** A Prometheus failure as the plugin's error (exit 1), with what was being read. */
export function prometheusFailure(err: unknown, what: string): Error {
  return err instanceof PrometheusError ? new InputError(`${what}: ${err.message}`) : err instanceof Error ? err : new Error(String(err));
}

/** Each SLO's budget consumed over its window as a sparkline: one range query per distinct window. */
export async function budgetSparklines(url: string, profile: ProfileSummary, now: Date): Promise<Map<string, string>> {
  const client = prometheusAt(url);
  const out = new Map<string, string>();
  const byWindow = new Map<string, string[]>();
  for (const slo of profile.slos) if (slo.window !== null) byWindow.set(slo.window, [...(byWindow.get(slo.window) ?? []), slo.name]);
  for (const [window, slos] of byWindow) {
    const range = sparkRange(window, now);
    let series;
    try {
      series = await client.queryRange(budgetQuery(profile.namespace, profile.name), range.start, range.end, range.stepSeconds);
    } catch (err) {
      throw prometheusFailure(err, `reading the budget of ${profile.namespace}/${profile.name} over ${window}`);
    }
    for (const name of slos) {
      const s = series.find((x) => x.metric.slo === name);
      if (s) out.set(name, sparkline(onSteps(s.values, range, SPARK_POINTS)));
    }
  }
  return out;
}
