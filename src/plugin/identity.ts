/**
 * The caller's user name from a SelfSubjectReview (authentication.k8s.io/v1): who the API server
 * authenticated, not a name the caller typed. Throws with what was missing.
 */
export function reviewedUser(review: unknown): string {
  const username = (review as { status?: { userInfo?: { username?: unknown } } } | undefined)?.status?.userInfo?.username;
  if (typeof username !== "string" || username.trim() === "") throw new Error("the SelfSubjectReview has no status.userInfo.username");
  return username;
}
