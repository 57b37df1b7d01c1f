import { describe, expect, it } from "vitest";
import { leaseRecords, terms, writesOutsideTerms } from "./lease.ts";
import { lease, NS, OPERATOR, T0, w } from "./test-builders.ts";

const opts = { operatorUser: OPERATOR, namespace: NS, lease: { namespace: NS, name: "tollgate-leader" }, slackMs: 1_000 };
const deploymentWrite = (t: number, credential: string) => w({ at: t, resource: "deployments.apps", name: "svc", credential: `JTI=${credential}` });

describe("lease terms from the audit log", () => {
  it("runs a term from its acquisition to its last renewal's lease, cut short by the next holder or a release", () => {
    const records = leaseRecords([lease(0, "a", "ca"), lease(2, "a", "ca"), lease(4, "a", "ca"), lease(19, "b", "cb"), lease(21, "b", "cb"), lease(22, "", "cb"), lease(23, "a", "ca2")], NS, "tollgate-leader");
    expect(terms(records).map((t) => [t.holder, (t.from - T0) / 1000, (t.to - T0) / 1000])).toEqual([
      ["a", 0, 19],
      ["b", 19, 22],
      ["a", 23, 38],
    ]);
  });

  it("a renewal after the lease ran out starts a new term", () => {
    expect(terms(leaseRecords([lease(0, "a", "ca"), lease(20, "a", "ca")], NS, "tollgate-leader")).map((t) => (t.from - T0) / 1000)).toEqual([0, 20]);
  });

  it("accepts writes by the holder's credential inside its term", () => {
    const writes = [lease(0, "a", "ca"), lease(2, "a", "ca"), deploymentWrite(3, "ca"), deploymentWrite(16.5, "ca")];
    expect(writesOutsideTerms(writes, opts)).toEqual([]);
  });

  it("flags a write by the standby while the other holds the lease, and one after the writer's own lease ran out", () => {
    const writes = [lease(0, "a", "ca"), lease(1, "b", "cb"), lease(30, "a", "ca"), deploymentWrite(5, "ca"), deploymentWrite(20, "cb")];
    // b took over at 1 s (a's term ends there), b's lease ran out at 16 s, a came back at 30 s.
    const v = writesOutsideTerms(writes, opts);
    expect(v.map((x) => [x.writer, x.holderThen, (x.write.at - T0) / 1000])).toEqual([
      ["a", "b", 5],
      ["b", undefined, 20],
    ]);
  });

  it("allows the stated clock slack at a term's edge, no more", () => {
    const writes = [lease(0, "a", "ca"), lease(10, "b", "cb"), deploymentWrite(10.8, "ca"), deploymentWrite(11.5, "ca")];
    expect(writesOutsideTerms(writes, opts).map((x) => (x.write.at - T0) / 1000)).toEqual([11.5]);
  });

  it("flags writes by a credential that never held the lease, and writes the log cannot attribute; ignores failed writes and other users", () => {
    const writes = [
      lease(0, "a", "ca"),
      deploymentWrite(2, "stranger"),
      w({ at: 3, resource: "deployments.apps", name: "svc" }),
      { ...deploymentWrite(4, "stranger"), code: 409 },
      { ...deploymentWrite(5, "stranger"), user: "tollgate-admin" },
      w({ at: 6, resource: "replicasets.apps", name: "svc-1", credential: "JTI=stranger" }),
    ];
    expect(writesOutsideTerms(writes, opts).map((x) => x.why)).toEqual([
      "credential JTI=stranger had never written the Lease as its holder",
      "the audit log names no credential for this write, so its writer cannot be told apart",
    ]);
  });
});
