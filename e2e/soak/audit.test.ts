import { describe, expect, it } from "vitest";
import { parseAuditLog, parseTime } from "./audit.ts";
import { auditLine, OPERATOR, T0 } from "./test-builders.ts";

describe("the audit log", () => {
  it("keeps the microseconds of its timestamps", () => {
    expect(parseTime("2026-11-29T21:00:00.123456Z")).toBeCloseTo(Date.parse("2026-11-29T21:00:00Z") + 123.456, 6);
    expect(parseTime("2026-11-29T21:00:01Z")).toBe(Date.parse("2026-11-29T21:00:01Z"));
  });

  it("turns completed writes into records with the writer's credential, sorted by time, and skips the rest", () => {
    const text = [
      auditLine({ verb: "patch", resource: "deployments", apiGroup: "apps", name: "b", t: 2, credential: "two" }),
      auditLine({ verb: "update", resource: "performanceprofiles", apiGroup: "tollgate.dev", subresource: "status", name: "a", t: 1, credential: "one", responseObject: { status: { phase: "Frozen" } } }),
      auditLine({ verb: "get", resource: "deployments", apiGroup: "apps", name: "b", t: 3 }),
      JSON.stringify({ stage: "ResponseStarted", verb: "patch", user: { username: "x" }, objectRef: { resource: "deployments" } }),
      '{"cut short by a stopped server',
      "",
    ].join("\n");
    const writes = parseAuditLog(text);
    expect(writes.map((w) => [w.resource, w.subresource, w.name, w.credential, w.user])).toEqual([
      ["performanceprofiles.tollgate.dev", "status", "a", "JTI=one", OPERATOR],
      ["deployments.apps", undefined, "b", "JTI=two", OPERATOR],
    ]);
    expect(writes[0]!.at).toBeCloseTo(T0 + 1000.123, 3);
    expect(writes[0]!.responseObject).toEqual({ status: { phase: "Frozen" } });
  });
});
