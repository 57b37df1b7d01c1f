/**
 * The pod label the DestinationRule's subsets select on. Tollgate sets it on `<name>-primary`'s pod
 * template (primary) and on the target's (canary); the Service selects both tracks, the subsets split them.
 */
export const TRACK_LABEL = "tollgate.dev/track";

export const PRIMARY = "primary";
export const CANARY = "canary";
export type Track = typeof PRIMARY | typeof CANARY;

/** On `<name>-primary`: the pod-template-hash of the target ReplicaSet its template was copied from. */
export const SOURCE_HASH_ANNOTATION = "tollgate.dev/source-template-hash";
/** On `<name>-primary`: the target revision its template was copied from. */
export const SOURCE_REVISION_ANNOTATION = "tollgate.dev/source-revision";
