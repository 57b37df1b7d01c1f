import { afterEach, describe, expect, it } from "vitest";
import { KubeClient, type Verb } from "./client.ts";
import { ApiError } from "./errors.ts";
import { Resources } from "./resources.ts";
import { loopbackApi, type Handle } from "./test-builders.ts";

const servers: Array<() => void> = [];
afterEach(() => {
  for (const close of servers.splice(0)) close();
});

/** A loopback API server closed after the test: `handle` answers each request; every request line is kept in `seen`. */
async function apiServer(handle?: Handle) {
  const api = await loopbackApi(handle);
  servers.push(api.close);
  return { access: api.access, seen: api.seen };
}

/** Waits the hook reported, rounded to whole milliseconds, with their verbs. */
function waits() {
  const seen: Array<[number, Verb]> = [];
  return { seen, hook: (seconds: number, verb: Verb) => void seen.push([Math.round(seconds * 1000), verb]) };
}

// A clock that stands still: the waits are exactly what the bucket hands out, whatever the machine's speed.
const frozen = () => 0;

describe("KubeClient's rate limit", () => {
  it("sends a burst at once and holds the rest to qps, in order", async () => {
    const { access, seen } = await apiServer();
    const w = waits();
    const client = new KubeClient(access, { rateLimit: { qps: 50, burst: 2 }, onRateLimitWait: w.hook, now: frozen });
    const started = performance.now();
    await Promise.all(["a", "b", "c", "d", "e"].map((n) => client.get(Resources.PerformanceProfile, "ns", n)));
    expect(w.seen).toEqual([[0, "GET"], [0, "GET"], [20, "GET"], [40, "GET"], [60, "GET"]]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    const names = seen.map((l) => l.split("/").at(-1));
    // The first two leave together and may arrive either way round; the rest 20 ms apart, in order.
    expect(names.slice(0, 2).sort()).toEqual(["a", "b"]);
    expect(names.slice(2)).toEqual(["c", "d", "e"]);
  });

  it("counts writes by their verb", async () => {
    const { access } = await apiServer();
    const w = waits();
    const client = new KubeClient(access, { rateLimit: { qps: 1000, burst: 10 }, onRateLimitWait: w.hook, now: frozen });
    const obj = { metadata: { name: "p", namespace: "ns" } };
    await client.apply(Resources.PerformanceProfile, obj, { subresource: "status" });
    await client.create(Resources.Event, obj);
    await client.replace(Resources.Lease, obj);
    await client.delete(Resources.Deployment, "ns", "p");
    expect(w.seen.map(([, verb]) => verb)).toEqual(["PATCH", "POST", "PUT", "DELETE"]);
  });

  it("takes one token to open a watch and none for the events it streams", async () => {
    const events = Array.from({ length: 50 }, (_, i) => JSON.stringify({ type: "ADDED", object: { metadata: { name: `p${i}`, resourceVersion: String(i) } } })).join("\n");
    const { access } = await apiServer((_req, res) => void res.writeHead(200, { "Content-Type": "application/json" }).end(`${events}\n`));
    const w = waits();
    const client = new KubeClient(access, { rateLimit: { qps: 0.1, burst: 1 }, onRateLimitWait: w.hook, now: frozen });
    let received = 0;
    await client.watch(Resources.PerformanceProfile, "ns", {}, () => received++);
    expect(received).toBe(50);
    expect(w.seen).toEqual([[0, "WATCH"]]);
  });

  it("lets a caller that gives up while waiting go at once, without sending its request", async () => {
    const { access, seen } = await apiServer();
    const client = new KubeClient(access, { rateLimit: { qps: 0.1, burst: 1 }, now: frozen });
    await client.get(Resources.PerformanceProfile, "ns", "first");
    const started = performance.now();
    const err = await client.get(Resources.PerformanceProfile, "ns", "second", { signal: AbortSignal.timeout(50) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).reason).toBe("TransportError");
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(seen).toHaveLength(1);
  });

  it("refuses a write as fenced when the leadership term ends while it waits for its token", async () => {
    const { access, seen } = await apiServer();
    const term = new AbortController();
    const client = new KubeClient(access, { rateLimit: { qps: 0.1, burst: 1 }, now: frozen, fence: () => ({ open: true, signal: term.signal }) });
    const obj = { metadata: { name: "p", namespace: "ns" } };
    await client.apply(Resources.PerformanceProfile, obj);
    const waiting = client.apply(Resources.PerformanceProfile, obj).catch((e: unknown) => e);
    setTimeout(() => term.abort(new Error("leadership lost")), 20);
    const err = await waiting;
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).reason).toBe("Fenced");
    expect((err as ApiError).message).toMatch(/aborted waiting for the rate limit: leadership lost/);
    expect(seen).toHaveLength(1);
  });

  it("sends everything at once without a rate limit", async () => {
    const { access, seen } = await apiServer();
    const client = new KubeClient(access);
    await Promise.all(Array.from({ length: 40 }, (_, i) => client.get(Resources.PerformanceProfile, "ns", `p${i}`)));
    expect(seen).toHaveLength(40);
  });
});
