/** The API group, version and names of Tollgate's custom resource. */
export const GROUP = "tollgate.dev";
export const VERSION = "v1alpha1";
export const KIND = "PerformanceProfile";
export const PLURAL = "performanceprofiles";
export const SINGULAR = "performanceprofile";
export const SHORT_NAMES = ["pp"];
export const API_VERSION = `${GROUP}/${VERSION}`;
