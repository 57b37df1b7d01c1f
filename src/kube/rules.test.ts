import { describe, expect, it } from "vitest";
import type { KubeClient } from "./client.ts";
import { ApiError } from "./errors.ts";
import { PrometheusRuleApplier } from "./rules.ts";

/** A client whose CRD lookups answer from a script, counting the requests. */
function scripted(...answers: Array<() => Promise<unknown>>): { client: KubeClient; calls: () => number } {
  let calls = 0;
  const client = {
    find: () => {
      const answer = answers[Math.min(calls, answers.length - 1)]!;
      calls++;
      return answer();
    },
  } as unknown as KubeClient;
  return { client, calls: () => calls };
}

const served = async () => ({ metadata: { name: "prometheusrules.monitoring.coreos.com" }, spec: { versions: [{ name: "v1", served: true }] } });

describe("PrometheusRuleApplier.crdServed", () => {
  it("asks once when the CRD is served", async () => {
    const { client, calls } = scripted(served);
    const applier = new PrometheusRuleApplier(client);
    expect(await applier.crdServed()).toBe(true);
    expect(await applier.crdServed()).toBe(true);
    expect(calls()).toBe(1);
  });

  it("takes a refusal to read CRDs as absent, and does not ask again", async () => {
    const { client, calls } = scripted(async () => {
      throw new ApiError("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x", 403, "Forbidden", "forbidden");
    });
    const applier = new PrometheusRuleApplier(client);
    expect(await applier.crdServed()).toBe(false);
    expect(await applier.crdServed()).toBe(false);
    expect(calls()).toBe(1);
  });

  it("asks again after the API was unreachable", async () => {
    const { client, calls } = scripted(async () => {
      throw ApiError.transport("GET", "/x", new Error("ECONNREFUSED"));
    }, served);
    const applier = new PrometheusRuleApplier(client);
    await expect(applier.crdServed()).rejects.toThrow(/TransportError/);
    expect(await applier.crdServed()).toBe(true);
    expect(calls()).toBe(2);
  });
});
