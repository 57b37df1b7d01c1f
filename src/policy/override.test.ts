import { describe, expect, it } from "vitest";
import { OVERRIDE_ANNOTATION, OVERRIDE_MAX, overrideActive, overrideFromAnnotations, parseOverride } from "./override.ts";

const valid = { by: "alice", reason: "hotfix INC-123", expires: "2026-11-22T12:00:00Z" };
// The morning the override is written: its expiry is that noon.
const now = new Date("2026-11-22T08:00:00Z");

describe("parseOverride", () => {
  it.each([
    ["the documented example", JSON.stringify(valid), { by: "alice", reason: "hotfix INC-123", expires: "2026-11-22T12:00:00.000Z" }],
    ["an offset, normalised to UTC", JSON.stringify({ ...valid, expires: "2026-11-22T14:00:00+02:00" }), { ...valid, expires: "2026-11-22T12:00:00.000Z" }],
    ["fractional seconds and spaces around values", `{ "by": " bob ", "reason": "rollback v2", "expires": "2026-11-22T12:00:00.5Z" }`, { by: "bob", reason: "rollback v2", expires: "2026-11-22T12:00:00.500Z" }],
  ])("accepts %s", (_name, value, override) => {
    expect(parseOverride(value, now)).toEqual({ ok: true, override });
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
    const got = parseOverride(value, now);
    expect(got?.ok).toBe(false);
    if (got?.ok === false) {
      expect(got.problem).toContain(problem);
      expect(got.problem).toContain("expected JSON like");
    }
  });

  it("is undefined when the annotation is absent", () => {
    expect(parseOverride(undefined, now)).toBeUndefined();
    expect(overrideFromAnnotations(undefined, now)).toBeUndefined();
    expect(overrideFromAnnotations({ other: "x" }, now)).toBeUndefined();
    expect(overrideFromAnnotations({ [OVERRIDE_ANNOTATION]: JSON.stringify(valid) }, now)?.ok).toBe(true);
  });
});

describe("the override's cap", () => {
  const expiring = (expires: string) => JSON.stringify({ ...valid, expires });

  it("is a week", () => {
    expect(OVERRIDE_MAX).toBe("7d");
  });

  it.each([
    ["exactly a week ahead", "2026-11-29T08:00:00Z"],
    ["a week ahead, given with an offset", "2026-11-29T10:00:00+02:00"],
    ["already past, which is an expired override, not a problem", "2026-11-21T12:00:00Z"],
  ])("accepts an expiry %s", (_name, expires) => {
    expect(parseOverride(expiring(expires), now)?.ok).toBe(true);
  });

  it.each([
    ["a millisecond past the week", "2026-11-29T08:00:00.001Z"],
    ["a typo of 2036 for 2026", "2036-11-22T12:00:00Z"],
    ["the end of time", "9999-12-31T23:59:59Z"],
  ])("refuses %s, naming the cap and both times", (_name, expires) => {
    const got = parseOverride(expiring(expires), now);
    expect(got).toEqual({
      ok: false,
      problem: `"expires" ${new Date(expires).toISOString()} is more than 7d after 2026-11-22T08:00:00.000Z; an override lasts at most 7d: set an earlier expiry, and renew it if the fix takes longer`,
    });
  });

  it("is measured from the evaluation's time, so an override accepted once stays accepted until it expires", () => {
    const value = expiring("2026-11-29T08:00:00Z");
    for (const at of ["2026-11-22T08:00:00Z", "2026-11-25T00:00:00Z", "2026-11-29T07:59:59Z"]) expect(parseOverride(value, new Date(at))?.ok, at).toBe(true);
    // Written a minute too early for its expiry, it is refused; a minute later it would be taken.
    expect(parseOverride(value, new Date("2026-11-22T07:59:00Z"))?.ok).toBe(false);
  });
});

describe("overrideActive", () => {
  const parsed = parseOverride(JSON.stringify(valid), now);
  it.each([
    ["before the expiry", "2026-11-22T11:59:59Z", true],
    ["at the expiry", "2026-11-22T12:00:00Z", false],
    ["after the expiry", "2026-11-22T12:00:01Z", false],
  ])("%s: %s", (_name, now, active) => {
    expect(overrideActive(parsed, new Date(now))).toBe(active);
  });

  it("is never active when malformed or absent", () => {
    expect(overrideActive(parseOverride("nope", now), new Date("2020-01-01T00:00:00Z"))).toBe(false);
    expect(overrideActive(undefined, new Date("2020-01-01T00:00:00Z"))).toBe(false);
  });
});
