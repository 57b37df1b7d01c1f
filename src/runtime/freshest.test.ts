import { describe, expect, it } from "vitest";
import { freshest } from "./freshest.ts";

const obj = (rv: string, tag: string) => ({ metadata: { name: "p", resourceVersion: rv }, tag });

describe("freshest", () => {
  it("prefers the written copy while the cache lags, and the cache once it caught up or moved on", () => {
    expect(freshest(obj("10", "cache"), obj("12", "write"))?.tag).toBe("write");
    expect(freshest(obj("12", "cache"), obj("12", "write"))?.tag).toBe("cache");
    expect(freshest(obj("15", "cache"), obj("12", "write"))?.tag).toBe("cache");
  });
  it("falls back to the cache when there is nothing to compare", () => {
    expect(freshest(obj("10", "cache"), undefined)?.tag).toBe("cache");
    expect(freshest(undefined, obj("12", "write"))).toBeUndefined();
    expect(freshest(obj("abc", "cache"), obj("12", "write"))?.tag).toBe("cache");
  });
});
