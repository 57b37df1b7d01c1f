import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { KubeClient } from "./kube/client.ts";
import { ApiError } from "./kube/errors.ts";
import { istioServed } from "./operator.ts";

const silent = pino({ level: "silent" });

/** A client whose discovery requests answer from a script, counting them. */
function discovery(...answers: Array<() => Promise<unknown>>): { client: KubeClient; calls: () => number } {
  let calls = 0;
  const client = {
    request: () => answers[Math.min(calls++, answers.length - 1)]!(),
  } as unknown as KubeClient;
  return { client, calls: () => calls };
}

const refused = async () => {
  throw ApiError.transport("GET", "/apis/networking.istio.io/v1", new Error("ECONNREFUSED"));
};

describe("istioServed", () => {
  it("asks again while the API server cannot answer, rather than failing the start", async () => {
    const { client, calls } = discovery(refused, refused, async () => ({ kind: "APIResourceList" }));
    expect(await istioServed(client, silent, () => false)).toBe(true);
    expect(calls()).toBe(3);
  });

  it("takes a 404 as no Istio, at once", async () => {
    const { client, calls } = discovery(async () => {
      throw new ApiError("GET", "/apis/networking.istio.io/v1", 404, "NotFound", "the server could not find the requested resource");
    });
    expect(await istioServed(client, silent, () => false)).toBe(false);
    expect(calls()).toBe(1);
  });

  it("gives up when the operator is stopping", async () => {
    const { client } = discovery(refused);
    await expect(istioServed(client, silent, () => true)).rejects.toThrow(/ECONNREFUSED/);
  });
});
