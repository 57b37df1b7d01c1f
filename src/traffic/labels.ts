/**
 * The pod label the DestinationRule's subsets select on. Tollgate sets it on `<name>-primary`'s pod
 * template (primary) and on the target's (canary); the Service selects both tracks, the subsets split them.
 */
export const TRACK_LABEL = "tollgate.dev/track";

export const PRIMARY = "primary";
export const CANARY = "canary";
export type Track = typeof PRIMARY | typeof CANARY;
