import type { ProfileSpec } from "../../api/profile.ts";
import type { PerformanceProfile } from "../../api/types.ts";
import type { CanaryMeasurement } from "../../canary/index.ts";
import type { OverrideAnnotation } from "../../policy/index.ts";
import type { Measurements } from "../../slo/types.ts";
import type { DestinationRule, HorizontalPodAutoscaler, VirtualService } from "../../traffic/index.ts";
import type { Deployment, ReplicaSet } from "../../workload/deployment.ts";
import type { SpecProblem } from "./spec-problem.ts";

/**
 * Everything one pass of one profile knows, read before anything is decided: the profile, the
 * Deployments it governs, the objects it owns and what Prometheus said. `plan` is a pure function of a
 * snapshot and the time, so a pass can be replayed from one.
 */
export interface Snapshot {
  namespace: string;
  name: string;
  /** The freshest copy: the informer's, or what our own last status write returned if newer. */
  profile: PerformanceProfile;
  /** metadata.deletionTimestamp is set: the pass hands the Deployment back and lets the profile go. */
  deleting: boolean;
  /** The spec as validated and defaulted; absent when it is invalid (see `problem`). */
  spec?: ProfileSpec;
  /** Why the spec cannot be acted on: refused by validation, by Prometheus's parser or by a reading. */
  problem?: SpecProblem;
  /**
   * The older profile that governs the same Deployment, when there is one: this profile then governs
   * nothing, and only hands back what it may still hold.
   */
  claimedBy?: string;
  /** The Deployments by name, as the informer has them: the target, `<target>-primary`, a former target. */
  deployments: ReadonlyMap<string, Deployment>;
  /** The ReplicaSets of `deployments` (by owner uid): revisions to roll back to and templates to promote. */
  replicaSets: readonly ReplicaSet[];
  /** Every object in the namespace Tollgate manages (by label), whoever's: what an apply compares with. */
  managed: {
    virtualServices: readonly VirtualService[];
    destinationRules: readonly DestinationRule[];
    hpas: readonly HorizontalPodAutoscaler[];
  };
  /** Of those, the objects this profile owns (by owner uid): the only ones it deletes. */
  owned: {
    virtualServices: readonly VirtualService[];
    destinationRules: readonly DestinationRule[];
    hpas: readonly HorizontalPodAutoscaler[];
  };
  /** False where Istio's networking CRDs are not served: no canary or traffic policy can run. */
  istio: boolean;
  /** The budget's reading; absent when none was taken (invalid spec, deleting, claimed). */
  measurements?: Measurements;
  /** The canary's own reading, taken only when a check is due. */
  canaryMeasurement?: CanaryMeasurement;
  /** The profile is read from recording rules, which must then exist. */
  recordingRules: boolean;
  /**
   * With tiles on (--tile): the tile, and how long each SLO's tiles have been recorded as the reading
   * said; coverageMs is absent when Prometheus did not say (unreachable), and then the rules stay as
   * they are rather than fall back to raw windows for a pass.
   */
  tiles?: { tile: string; coverageMs?: Readonly<Record<string, number>> };
  /** The URL of the profile's Prometheus, once resolved: rule files are kept per Prometheus. */
  prometheusUrl?: string;
  override?: OverrideAnnotation;
}
