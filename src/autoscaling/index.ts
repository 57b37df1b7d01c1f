/**
 * Autoscaling, pure: `boost` turns latency burn into the HPA's effective CPU target (status.autoscaling),
 * `hpaSpec` the HPA object Tollgate server-side applies with it.
 */
export { boost, isLatencySlo, SHORT_ROLE, CONFIRM_ROLE, type AutoscalingStatus, type BoostInput, type BoostReason, type BoostResult } from "./boost.ts";
export { hpaSpec, type HorizontalPodAutoscaler } from "./hpa.ts";
