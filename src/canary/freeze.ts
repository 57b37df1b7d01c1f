import type { ProfileStatus } from "../api/status.ts";
import type { CanaryFreeze } from "./types.ts";

/**
 * Whether the budget policy's status forbids a canary to start or promote. Frozen and RollingBack do;
 * an active break-glass override (status.freeze.override, until it expires) lifts that, because the
 * hotfix it lets through should still go out as a canary rather than straight to everyone.
 */
export function canaryFreeze(status: ProfileStatus | undefined, now: Date): CanaryFreeze | undefined {
  if (status?.phase !== "Frozen" && status?.phase !== "RollingBack") return undefined;
  const override = status.freeze?.override;
  if (override && Date.parse(override.expires) > now.getTime()) return undefined;
  const reason = status.phase === "RollingBack" ? "RollingBack" : (status.freeze?.reason ?? "Frozen");
  const slo = status.freeze?.slo ? ` by ${status.freeze.slo}` : "";
  return {
    reason,
    message:
      status.phase === "RollingBack"
        ? "a budget rollback is in progress; no canary starts or promotes until it completes and the freeze lifts"
        : `rollouts are frozen (${reason}${slo}); no canary starts or promotes until the freeze lifts`,
  };
}
