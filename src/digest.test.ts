import { describe, expect, it } from "vitest";
import { digest } from "./digest.ts";

describe("digest", () => {
  it("is 44 characters whatever the length of the text, the same for the same text and different for another", () => {
    const rules = "groups:\n".repeat(5_000);
    expect(digest(rules)).toHaveLength(44);
    expect(digest(rules)).toBe(digest(`${rules}`));
    expect(digest(`${rules} `)).not.toBe(digest(rules));
  });
});
