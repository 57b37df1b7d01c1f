import { describe, expect, it } from "vitest";
import { PrometheusClient, PrometheusError } from "../prometheus/client.ts";
import { errorKind } from "./profile.ts";

describe("errorKind", () => {
  it("labels the client's own failure messages by kind", async () => {
    const unreachable = await new PrometheusClient({ url: "http://127.0.0.1:1", retries: 0 }).query("up").catch((e: unknown) => e);
    expect(errorKind((unreachable as PrometheusError).message)).toBe("unreachable");
    expect(errorKind(new PrometheusError("timeout", "Prometheus at http://p:9090 did not answer within 10000 ms").message)).toBe("timeout");
    expect(errorKind("Prometheus at http://p:9090 answered 500: boom")).toBe("server");
  });
});
