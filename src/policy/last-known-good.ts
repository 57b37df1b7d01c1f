import { parseDuration } from "../api/duration.ts";
import type { Policy } from "../api/policy.ts";
import type { ProfileStatus } from "../api/status.ts";
import { SHORT_ROLE, type BudgetView } from "./budget.ts";
import type { DeploymentFacts } from "./deployment.ts";

export type RevisionRecord = NonNullable<ProfileStatus["lastKnownGood"]>;

/** Whether this cycle's numbers say the live revision is healthy, is not, or cannot say. */
export type Health = "healthy" | "unhealthy" | "unknown";

/**
 * Healthy: consumption below freezeAt and every Ok SLO's short-window (5m-role) burn rate below 1.
 * Unhealthy as soon as either fails for any Ok SLO: one burning sample is enough to refuse a revision
 * the title of rollback target. Unknown when the picture is incomplete: Prometheus down, an SLO with no
 * data (it might be the one burning), or no SLO with traffic in its short window. An SLO with too few
 * events over its whole window (InsufficientData) is a quiet one, not a missing one, and is left out.
 */
export function health(view: BudgetView, policy: Policy): Health {
  if (view.noData) return "unknown";
  const ok = view.slos.filter((s) => s.verdict === "Ok");
  const burning = ok.some((s) => (s.consumed ?? 0) >= policy.freezeAt || (s.burn[SHORT_ROLE] ?? 0) >= 1);
  if (burning) return "unhealthy";
  if (view.slos.some((s) => s.verdict === "NoData")) return "unknown";
  return ok.some((s) => s.burn[SHORT_ROLE] !== undefined) ? "healthy" : "unknown";
}

export interface Tracked {
  lastKnownGood?: RevisionRecord;
  candidate?: RevisionRecord;
}

/**
 * The last known good revision: the newest that stayed live (rollout complete) for stableAfter while
 * healthy. The live revision is watched as status.candidate from the first healthy observation; the
 * watch restarts when the template changes and is dropped on any unhealthy observation, so a release
 * that burns from the start never qualifies. While the picture is unknown (no data, rollout still
 * running) the candidate is kept but not promoted: a gap neither clears nor earns the title. Revisions
 * are identified by template hash; numbers are refreshed, since a rollback renumbers a template.
 */
export function trackLastKnownGood(prev: Tracked, deployment: DeploymentFacts | undefined, h: Health, policy: Policy, now: Date): Tracked {
  const { lastKnownGood, candidate } = prev;
  const hash = deployment?.templateHash;
  if (!deployment || hash === undefined) return prev;
  const live = (since: string): RevisionRecord => ({ revision: deployment.revision, templateHash: hash, since });
  if (lastKnownGood?.templateHash === hash) {
    return { lastKnownGood: lastKnownGood.revision === deployment.revision ? lastKnownGood : live(lastKnownGood.since) };
  }
  const same = candidate?.templateHash === hash ? candidate : undefined;
  const keep = (c: RevisionRecord | undefined): Tracked => ({
    ...(lastKnownGood ? { lastKnownGood } : {}),
    ...(c ? { candidate: c.revision === deployment.revision ? c : live(c.since) } : {}),
  });
  if (h === "unhealthy") return keep(undefined);
  if (h === "unknown" || !deployment.rolloutComplete) return keep(same);
  const watched = same ?? live(now.toISOString());
  if (now.getTime() - Date.parse(watched.since) >= parseDuration(policy.stableAfter)) {
    return { lastKnownGood: watched.revision === deployment.revision ? watched : live(watched.since) };
  }
  return keep(watched);
}
