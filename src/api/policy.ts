import { z } from "zod";
import { defaulted, withRules } from "./cel.ts";
import { duration } from "./duration.ts";
import { notificationsSchema } from "./notifications.ts";

/** The seeds' error-budget policy: warn at 90 %, freeze at 100 %, roll back at 150 %, lift below 70 %. */
export const POLICY_DEFAULTS = {
  warnAt: 90,
  freezeAt: 100,
  rollbackAt: 150,
  unfreezeBelow: 70,
  evaluationInterval: "30s",
  onNoData: "Hold",
  minEvents: 100,
  stableAfter: "10m",
} as const;

/**
 * Most events a window may be asked to hold. A million events reads any ratio to well under a tenth
 * of a percent; a larger floor means short windows of a busy service never reach a verdict.
 */
export const MAX_MIN_EVENTS = 1_000_000;

/** A minEvents field, 1 to MAX_MIN_EVENTS. */
export const minEvents = (field: string, description: string) =>
  z
    .int()
    .min(1, `${field} must be at least 1.`)
    .max(MAX_MIN_EVENTS, `${field} must be at most ${MAX_MIN_EVENTS}.`)
    .describe(description);

// Percent of the budget consumed; consumption may exceed 100 %, the bound only catches typos like 9000.
const percentConsumed = (description: string) => z.number().gt(0).max(1000).describe(description);

const rollbackSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        "Whether Tollgate rolls the Deployment back to the last known good revision at rollbackAt. When false it stays Frozen and says so in the RollbackSkipped condition. Defaults to true.",
      ),
  })
  .describe("Automatic rollback at policy.rollbackAt.");

export const policySchema = withRules(
  z.object({
    warnAt: percentConsumed(
      "Percent of the error budget consumed at which the profile turns Warning: an event, BudgetHealthy=False and the Warning notification. Defaults to 90.",
    ).default(POLICY_DEFAULTS.warnAt),
    freezeAt: percentConsumed(
      "Percent of the error budget consumed at which rollouts of the target are frozen: the Deployment is paused and template changes are refused until the budget recovers. Defaults to 100.",
    ).default(POLICY_DEFAULTS.freezeAt),
    rollbackAt: percentConsumed(
      "Percent of the error budget consumed at which Tollgate rolls back to the last known good revision, if the service is still burning (short-window burn rate above 1) and the live revision is newer. Defaults to 150.",
    ).default(POLICY_DEFAULTS.rollbackAt),
    unfreezeBelow: percentConsumed(
      "A freeze lifts only when consumption falls below this percent (hysteresis, so the freeze does not flap around freezeAt), or by an expiring tollgate.dev/override-freeze annotation. Defaults to 70.",
    ).default(POLICY_DEFAULTS.unfreezeBelow),
    evaluationInterval: duration(
      "policy.evaluationInterval",
      "How often Tollgate reads the burn rates and evaluates the policy, e.g. 30s. A budget crossing acts within one interval. 1s to 1h: faster than 1s outruns any scrape interval and only loads the operator and Prometheus; slower than an hour leaves a burning service unfrozen too long. Defaults to 30s.",
      { min: "1s", max: "1h" },
    ).default(POLICY_DEFAULTS.evaluationInterval),
    onNoData: z
      .enum(["Hold", "Freeze"])
      .default(POLICY_DEFAULTS.onNoData)
      .describe(
        "What to do when Prometheus is unreachable or returns no data: Hold keeps the current state (never unfreezes, never rolls back); Freeze also blocks rollouts until data returns. Missing data never causes a rollback. Defaults to Hold.",
      ),
    minEvents: minEvents(
      "policy.minEvents",
      "Fewest events a window must hold for its burn rate to count. With fewer (zero traffic, a quiet night) the SLO's verdict is InsufficientData, never 0 % or 100 %. 1 to 1000000. Defaults to 100.",
    ).default(POLICY_DEFAULTS.minEvents),
    stableAfter: duration(
      "policy.stableAfter",
      "How long a revision must run while consumption is below freezeAt and the short-window burn rate below 1 to become the last known good revision, the rollback target. 1s to 7d: a revision that must run longer than a week would leave no rollback target for most release cycles. Defaults to 10m.",
      { min: "1s", max: "7d" },
    ).default(POLICY_DEFAULTS.stableAfter),
    rollback: defaulted(rollbackSchema),
    notifications: notificationsSchema.optional(),
  }),
  [
    {
      rule: "self.unfreezeBelow < self.warnAt",
      message: "policy.unfreezeBelow must be lower than policy.warnAt, so a lifted freeze starts below the warning level.",
      fieldPath: ".unfreezeBelow",
      check: (p) => p.unfreezeBelow < p.warnAt,
    },
    {
      rule: "self.warnAt <= self.freezeAt",
      message: "policy.warnAt must not exceed policy.freezeAt: the warning comes before the freeze.",
      fieldPath: ".warnAt",
      check: (p) => p.warnAt <= p.freezeAt,
    },
    {
      rule: "self.freezeAt < self.rollbackAt",
      message: "policy.freezeAt must be lower than policy.rollbackAt: a rollback only follows a freeze.",
      fieldPath: ".freezeAt",
      check: (p) => p.freezeAt < p.rollbackAt,
    },
  ],
  {
    description:
      "The error-budget policy. Thresholds are percent of an SLO's error budget consumed over its window: 100 means the budget is spent (a burn rate of 1 over the whole window), and the worst SLO decides. They must keep unfreezeBelow < warnAt <= freezeAt < rollbackAt; defaults are 70, 90, 100 and 150 (the seeds' policy).",
  },
);

export type Policy = z.output<typeof policySchema>;
