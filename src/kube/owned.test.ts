import { describe, expect, it } from "vitest";
import { covers } from "./owned.ts";

describe("covers", () => {
  it("ignores what the desired object does not set", () => {
    expect(covers({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: 1, b: { c: 2 } })).toBe(true);
  });
  it("sees a changed value at any depth", () => {
    expect(covers({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 3 } })).toBe(false);
    expect(covers({ http: [{ route: [{ weight: 90 }, { weight: 10 }] }] }, { http: [{ route: [{ weight: 80 }, { weight: 20 }] }] })).toBe(false);
  });
  it("treats lists as wholes: an extra element is drift", () => {
    expect(covers({ subsets: [{ name: "primary" }, { name: "canary" }, { name: "extra" }] }, { subsets: [{ name: "primary" }, { name: "canary" }] })).toBe(false);
    expect(covers({ subsets: [{ name: "primary", labels: { x: "y" } }] }, { subsets: [{ name: "primary" }] })).toBe(true);
  });
  it("sees a missing field or a changed type", () => {
    expect(covers({}, { a: 1 })).toBe(false);
    expect(covers({ a: "1" }, { a: 1 })).toBe(false);
    expect(covers({ a: [1] }, { a: { 0: 1 } })).toBe(false);
    expect(covers(undefined, undefined)).toBe(true);
  });
});
