import { describe, expect, it } from "vitest";
import { applyPatch, defaultParams, parseWorkloadPatch, validateWorkloadKey, ValidationError } from "./workload.ts";

function rejection(body: unknown): string {
  try {
    parseWorkloadPatch(body);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).message;
  }
  throw new Error(`expected ${JSON.stringify(body)} to be rejected`);
}

describe("parseWorkloadPatch", () => {
  it("accepts every field and normalises a numeric error code", () => {
    expect(
      parseWorkloadPatch({
        rate: 12.5,
        errorRatio: 0.05,
        errorCode: 503,
        latencies: [{ ms: 50, weight: 95 }, { ms: 800, weight: 5 }],
        service: "game-service",
        version: "v2",
      }),
    ).toEqual({
      rate: 12.5,
      errorRatio: 0.05,
      errorCode: "503",
      latencies: [{ ms: 50, weight: 95 }, { ms: 800, weight: 5 }],
      service: "game-service",
      version: "v2",
    });
  });

  it("returns only the fields given", () => {
    expect(parseWorkloadPatch({})).toEqual({});
    expect(parseWorkloadPatch({ errorRatio: 1 })).toEqual({ errorRatio: 1 });
    expect(parseWorkloadPatch({ rate: 0, errorRatio: 0 })).toEqual({ rate: 0, errorRatio: 0 });
  });

  it("rejects bad rates", () => {
    expect(rejection({ rate: -1 })).toBe("rate must be >= 0 requests per second, got -1");
    expect(rejection({ rate: "10" })).toBe('rate must be a finite number, got "10"');
    expect(rejection({ rate: null })).toBe("rate must be a finite number, got null");
  });

  it("rejects error ratios outside [0, 1]", () => {
    expect(rejection({ errorRatio: 1.01 })).toBe("errorRatio must be within [0, 1], got 1.01");
    expect(rejection({ errorRatio: -0.1 })).toBe("errorRatio must be within [0, 1], got -0.1");
  });

  it("rejects error codes that are not HTTP statuses, and 200", () => {
    expect(rejection({ errorCode: "5xx" })).toMatch(/^errorCode must be an HTTP status code/);
    expect(rejection({ errorCode: 600 })).toMatch(/^errorCode must be an HTTP status code/);
    expect(rejection({ errorCode: 500.5 })).toMatch(/^errorCode must be an HTTP status code/);
    expect(rejection({ errorCode: "200" })).toBe("errorCode must not be 200, which is the success code");
  });

  it("rejects bad latency mixes", () => {
    expect(rejection({ latencies: [] })).toMatch(/^latencies must be a non-empty array/);
    expect(rejection({ latencies: { ms: 5, weight: 1 } })).toMatch(/^latencies must be a non-empty array/);
    expect(rejection({ latencies: [{ ms: 50, weight: 0 }] })).toBe("latencies[0].weight must be > 0, got 0");
    expect(rejection({ latencies: [{ ms: 50, weight: 1 }, { ms: 9, weight: -2 }] })).toBe(
      "latencies[1].weight must be > 0, got -2",
    );
    expect(rejection({ latencies: [{ ms: -1, weight: 1 }] })).toBe("latencies[0].ms must be >= 0, got -1");
    expect(rejection({ latencies: [{ ms: 50 }] })).toBe("latencies[0].weight must be a finite number, got undefined");
    expect(rejection({ latencies: [{ ms: 50, weight: 1, p: 2 }] })).toMatch(/^latencies\[0\] has unknown field "p"/);
    expect(rejection({ latencies: [{ ms: 50, weight: 1 }, { ms: 50, weight: 2 }] })).toMatch(/ms 50 is listed twice/);
    expect(rejection({ latencies: [7] })).toMatch(/^latencies\[0\] must be an object/);
  });

  it("rejects names Kubernetes would not accept", () => {
    expect(rejection({ service: "Game_Service" })).toMatch(/^service must be a DNS label/);
    expect(rejection({ version: "v 2" })).toMatch(/^version must be a Kubernetes label value/);
    expect(rejection({ version: "" })).toMatch(/^version must be a Kubernetes label value/);
  });

  it("rejects unknown fields, so a typo is not silently ignored", () => {
    expect(rejection({ errorratio: 0.5 })).toBe(
      'unknown field "errorratio" (allowed: rate, errorRatio, errorCode, latencies, service, version)',
    );
  });

  it("rejects bodies that are not objects", () => {
    expect(rejection([])).toBe("body must be a JSON object, got []");
    expect(rejection("x")).toBe('body must be a JSON object, got "x"');
    expect(rejection(null)).toBe("body must be a JSON object, got null");
  });
});

describe("validateWorkloadKey", () => {
  it("accepts DNS names", () => {
    expect(() => validateWorkloadKey("default", "game-service")).not.toThrow();
    expect(() => validateWorkloadKey("team-a", "api.v2")).not.toThrow();
  });

  it("rejects what Kubernetes would", () => {
    expect(() => validateWorkloadKey("Default", "x")).toThrow(/^namespace must be a DNS label/);
    expect(() => validateWorkloadKey("a.b", "x")).toThrow(/^namespace must be a DNS label/);
    expect(() => validateWorkloadKey("default", "-x")).toThrow(/^name must be a DNS subdomain/);
    expect(() => validateWorkloadKey("default", "")).toThrow(/^name must be a DNS subdomain/);
  });
});

describe("applyPatch", () => {
  it("keeps the fields a patch does not set", () => {
    const base = { ...defaultParams("checkout"), rate: 5, errorRatio: 0.2 };
    expect(applyPatch(base, { errorRatio: 0 })).toEqual({ ...base, errorRatio: 0 });
  });

  it("defaults the service to the workload name and the version to unknown", () => {
    expect(defaultParams("checkout")).toEqual({
      rate: 0,
      errorRatio: 0,
      errorCode: "500",
      latencies: [{ ms: 50, weight: 1 }],
      service: "checkout",
      version: "unknown",
    });
  });
});
