import type { ProfileSpec } from "../api/profile.ts";
import { WINDOW_PLACEHOLDER } from "../api/slo.ts";
import { canonicalWindow, queryWindows } from "./windows.ts";

/** A PromQL expression a user wrote, with the spec field it came from. */
export interface UserQuery {
  field: string;
  expr: string;
}

/**
 * The PromQL the user wrote themselves (ratio indicators), with {{window}} filled in by every window
 * the SLO is read over: `[{{window}}30s]` parses as `[5m30s]` but not as `[10s30s]`, so one sample
 * window would pass a query Prometheus later refuses. The schema cannot parse PromQL, so these are
 * checked against Prometheus's parser at runtime; the presets Tollgate builds itself need no such
 * check. Each expression appears once, under the first field that produces it.
 */
export function userQueries(spec: ProfileSpec): UserQuery[] {
  const out: UserQuery[] = [];
  const seen = new Set<string>();
  spec.slos.forEach((slo, i) => {
    const ratio = slo.indicator.ratio;
    if (!ratio) return;
    for (const part of ["errors", "total"] as const) {
      for (const window of queryWindows(canonicalWindow(slo.window))) {
        const expr = ratio[part].replaceAll(WINDOW_PLACEHOLDER, window);
        if (seen.has(expr)) continue;
        seen.add(expr);
        out.push({ field: `spec.slos[${i}].indicator.ratio.${part}`, expr });
      }
    }
  });
  return out;
}
