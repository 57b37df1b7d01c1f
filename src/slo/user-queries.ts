import type { ProfileSpec } from "../api/profile.ts";
import { WINDOW_PLACEHOLDER } from "../api/slo.ts";

/** A PromQL expression a user wrote, with the spec field it came from. */
export interface UserQuery {
  field: string;
  expr: string;
}

/**
 * The PromQL the user wrote themselves (ratio indicators), with {{window}} filled in. The schema
 * cannot parse PromQL, so these are checked against Prometheus's parser at runtime; the presets
 * Tollgate builds itself need no such check.
 */
export function userQueries(spec: ProfileSpec, sampleWindow = "5m"): UserQuery[] {
  const out: UserQuery[] = [];
  spec.slos.forEach((slo, i) => {
    const ratio = slo.indicator.ratio;
    if (!ratio) return;
    for (const part of ["errors", "total"] as const) {
      out.push({ field: `spec.slos[${i}].indicator.ratio.${part}`, expr: ratio[part].replaceAll(WINDOW_PLACEHOLDER, sampleWindow) });
    }
  });
  return out;
}
