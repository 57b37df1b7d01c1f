import type { ObjectMeta } from "../kube/types.ts";
import type { ProfileSpecInput, ProfileStatus } from "./profile.ts";

/** A PerformanceProfile as the API server stores it: spec as written (defaults applied by the CRD). */
export interface PerformanceProfile {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: ProfileSpecInput;
  status?: ProfileStatus;
}
