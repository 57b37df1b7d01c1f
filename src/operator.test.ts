import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { KubeClient } from "./kube/client.ts";
import type { ClusterAccess } from "./kube/cluster-access.ts";
import { ApiError } from "./kube/errors.ts";
import { Resources } from "./kube/resources.ts";
import { loopbackApi } from "./kube/test-builders.ts";
import { istioServed, kubeClients } from "./operator.ts";
import { RuntimeMetrics } from "./runtime/metrics.ts";

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

describe("kubeClients", () => {
  const closers: Array<() => void> = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });

  async function loopback(): Promise<ClusterAccess> {
    const api = await loopbackApi();
    closers.push(api.close);
    return api.access;
  }

  it("gives leader election its own rate limit: a backlog of the controllers' requests never delays the Lease", async () => {
    const metrics = new RuntimeMetrics();
    // A clock that stands still: no token comes back while the test runs.
    const { client, electionClient } = kubeClients(await loopback(), { rateLimit: { qps: 1, burst: 2 }, fence: undefined, metrics, now: () => 0 });
    await client.get(Resources.PerformanceProfile, "ns", "a");
    await client.get(Resources.PerformanceProfile, "ns", "b");
    // The controllers' bucket is empty: their next request would wait a second.
    const backlog = client.get(Resources.PerformanceProfile, "ns", "c", { signal: AbortSignal.timeout(5_000) });
    const started = performance.now();
    await electionClient.get(Resources.Lease, "tollgate-system", "tollgate-leader");
    await electionClient.get(Resources.Lease, "tollgate-system", "tollgate-leader");
    expect(performance.now() - started).toBeLessThan(900);
    await backlog;

    const text = await metrics.registry.metrics();
    const count = (client: string) => Number(new RegExp(`^tollgate_kube_api_rate_limit_wait_seconds_count\\{client="${client}",verb="GET"\\} (\\S+)$`, "m").exec(text)?.[1]);
    const waited = (client: string) => Number(new RegExp(`^tollgate_kube_api_rate_limit_wait_seconds_sum\\{client="${client}",verb="GET"\\} (\\S+)$`, "m").exec(text)?.[1]);
    expect(count("controllers")).toBe(3);
    expect(waited("controllers")).toBe(1);
    expect(count("leader-election")).toBe(2);
    expect(waited("leader-election")).toBe(0);
    // Requests that did not wait fall in the le="0" bucket.
    expect(text).toMatch(/^tollgate_kube_api_rate_limit_wait_seconds_bucket\{le="0",client="controllers",verb="GET"\} 2$/m);
  });
});
