import { describe, expect, it } from "vitest";
import { annotationObject, annotationText, expectedShape, ignoredAnnotation } from "./annotation-value.ts";

const FIELDS = ["by", "reason"] as const;

describe("annotationObject", () => {
  it("reads a JSON object with known fields, any of them absent", () => {
    expect(annotationObject('{"by":"alice"}', FIELDS)).toEqual({ ok: true, value: { by: "alice" } });
  });

  it.each([
    ["not JSON", "alice", "the value is not JSON"],
    ["a string", '"alice"', "the value is not a JSON object"],
    ["an array", '["alice"]', "the value is not a JSON object"],
    ["null", "null", "the value is not a JSON object"],
    ["an unknown field", '{"by":"a","who":"b"}', 'unknown field "who" (fields are by, reason)'],
  ])("refuses %s, saying what it is", (_name, value, problem) => {
    expect(annotationObject(value, FIELDS)).toEqual({ ok: false, problem });
  });

  it("quotes unknown fields in bounded pieces, so a huge annotation gives a short problem", () => {
    const long = "x".repeat(10_000);
    const many = Object.fromEntries([long, "a", "b", "c", "d", "e", "f"].map((k) => [k, 1]));
    const read = annotationObject(JSON.stringify(many), FIELDS);
    expect(read).toEqual({ ok: false, problem: expect.stringContaining(`unknown field "${"x".repeat(63)}…", "a", "b", "c", "d" and 2 more (fields are by, reason)`) });
    expect(read.ok ? 0 : read.problem.length).toBeLessThan(200);
  });
});

describe("annotationText", () => {
  it("trims, and bounds the length", () => {
    expect(annotationText({ by: " alice " }, "by", { max: 5 })).toEqual({ ok: true, value: "alice" });
    expect(annotationText({ by: "alice!" }, "by", { max: 5 })).toEqual({ ok: false, problem: '"by" is longer than 5 characters' });
  });

  it.each([
    ["absent", {}],
    ["blank", { by: "  " }],
    ["a number", { by: 7 }],
  ])("refuses a required field that is %s", (_name, obj) => {
    expect(annotationText(obj, "by", { max: 5 })).toEqual({ ok: false, problem: '"by" must be a non-empty string' });
  });

  it("takes an optional field absent or empty as empty, but not another type", () => {
    expect(annotationText({}, "reason", { max: 5, optional: true })).toEqual({ ok: true, value: "" });
    expect(annotationText({ reason: "" }, "reason", { max: 5, optional: true })).toEqual({ ok: true, value: "" });
    expect(annotationText({ reason: 1 }, "reason", { max: 5, optional: true })).toEqual({ ok: false, problem: '"reason" must be a string' });
  });
});

describe("the sentences", () => {
  it("give the documented shape after a problem, and name the annotation a condition ignores", () => {
    expect(expectedShape("the value is not JSON", '{"by":"alice"}')).toBe('the value is not JSON; expected JSON like {"by":"alice"}');
    expect(ignoredAnnotation("tollgate.dev/x", "the value is not JSON")).toBe("The tollgate.dev/x annotation is ignored: the value is not JSON.");
  });
});
