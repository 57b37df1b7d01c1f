import { describe, expect, it } from "vitest";
import { OVERRIDE_ANNOTATION, overrideActive, overrideFromAnnotations, parseOverride } from "./override.ts";

const valid = { by: "alice", reason: "hotfix INC-123", expires: "2026-11-22T12:00:00Z" };

describe("parseOverride", () => {
  it.each([
    ["the documented example", JSON.stringify(valid), { by: "alice", reason: "hotfix INC-123", expires: "2026-11-22T12:00:00.000Z" }],
    ["an offset, normalised to UTC", JSON.stringify({ ...valid, expires: "2026-11-22T14:00:00+02:00" }), { ...valid, expires: "2026-11-22T12:00:00.000Z" }],
    ["fractional seconds and spaces around values", `{ "by": " bob ", "reason": "rollback v2", "expires": "2026-11-22T12:00:00.5Z" }`, { by: "bob", reason: "rollback v2", expires: "2026-11-22T12:00:00.500Z" }],
  ])("accepts %s", (_name, value, override) => {
    expect(parseOverride(value)).toEqual({ ok: true, override });
  });

  it.each([
    ["not JSON", "alice until noon", "the value is not JSON"],
    ["a JSON string", '"alice"', "not a JSON object"],
    ["a JSON array", "[]", "not a JSON object"],
    ["null", "null", "not a JSON object"],
    ["a missing by", JSON.stringify({ reason: "x", expires: valid.expires }), '"by" must be a non-empty string'],
    ["an empty reason", JSON.stringify({ ...valid, reason: " " }), '"reason" must be a non-empty string'],
    ["a numeric expiry", JSON.stringify({ ...valid, expires: 1795341600 }), '"expires" must be a non-empty string'],
    ["a misspelt field", JSON.stringify({ ...valid, expiry: valid.expires }), 'unknown field "expiry"'],
    ["an expiry without a zone", JSON.stringify({ ...valid, expires: "2026-11-22T12:00:00" }), '"expires" must be an RFC 3339 time'],
    ["a relative expiry", JSON.stringify({ ...valid, expires: "2h" }), '"expires" must be an RFC 3339 time'],
    ["a date without time", JSON.stringify({ ...valid, expires: "2026-11-22" }), '"expires" must be an RFC 3339 time'],
    ["a day that does not exist", JSON.stringify({ ...valid, expires: "2026-02-30T12:00:00Z" }), '"expires" must be an RFC 3339 time'],
    ["an hour that does not exist", JSON.stringify({ ...valid, expires: "2026-11-22T25:00:00Z" }), '"expires" must be an RFC 3339 time'],
    ["a reason that is too long", JSON.stringify({ ...valid, reason: "x".repeat(1025) }), '"reason" is longer than 1024'],
  ])("reports %s as a problem, never an exception", (_name, value, problem) => {
    const got = parseOverride(value);
    expect(got?.ok).toBe(false);
    if (got?.ok === false) {
      expect(got.problem).toContain(problem);
      expect(got.problem).toContain("expected JSON like");
    }
  });

  it("is undefined when the annotation is absent", () => {
    expect(parseOverride(undefined)).toBeUndefined();
    expect(overrideFromAnnotations(undefined)).toBeUndefined();
    expect(overrideFromAnnotations({ other: "x" })).toBeUndefined();
    expect(overrideFromAnnotations({ [OVERRIDE_ANNOTATION]: JSON.stringify(valid) })?.ok).toBe(true);
  });
});

describe("overrideActive", () => {
  const parsed = parseOverride(JSON.stringify(valid));
  it.each([
    ["before the expiry", "2026-11-22T11:59:59Z", true],
    ["at the expiry", "2026-11-22T12:00:00Z", false],
    ["after the expiry", "2026-11-22T12:00:01Z", false],
  ])("%s: %s", (_name, now, active) => {
    expect(overrideActive(parsed, new Date(now))).toBe(active);
  });

  it("is never active when malformed or absent", () => {
    expect(overrideActive(parseOverride("nope"), new Date("2020-01-01T00:00:00Z"))).toBe(false);
    expect(overrideActive(undefined, new Date("2020-01-01T00:00:00Z"))).toBe(false);
  });
});
