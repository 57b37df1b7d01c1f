/** A condition on a profile's status, as the suites read it with kubectl. */
export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
