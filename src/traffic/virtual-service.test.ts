import { describe, expect, it } from "vitest";
import { canarySchema } from "../api/canary.ts";
import { virtualService } from "./virtual-service.ts";

const canary = canarySchema.parse({ service: { name: "game-service", port: 8080 } });

describe("virtualService", () => {
  it("splits the Service port's HTTP traffic between the two subsets by weight", () => {
    const vs = virtualService("shop", "game", canary, { primary: 90, canary: 10 }, "uid-1");
    expect(vs.metadata.name).toBe("game-service");
    expect(vs.metadata.ownerReferences?.[0]?.uid).toBe("uid-1");
    expect(vs.spec).toEqual({
      hosts: ["game-service"],
      gateways: ["mesh"],
      http: [
        {
          name: "tollgate-canary",
          route: [
            { destination: { host: "game-service", subset: "primary", port: { number: 8080 } }, weight: 90 },
            { destination: { host: "game-service", subset: "canary", port: { number: 8080 } }, weight: 10 },
          ],
        },
      ],
    });
  });

  it("keeps the zero-weight destination, so a step changes only numbers", () => {
    const vs = virtualService("shop", "game", canary, { primary: 100, canary: 0 }, "uid-1");
    expect(vs.spec.http[0]?.route.map((r) => r.weight)).toEqual([100, 0]);
  });

  it("takes hosts and gateways from the canary spec", () => {
    const c = canarySchema.parse({ service: { name: "game-service", port: 80, hosts: ["game.example.com"], gateways: ["istio-system/public", "mesh"] } });
    const vs = virtualService("shop", "game", c, { primary: 50, canary: 50 }, "uid-1");
    expect(vs.spec.hosts).toEqual(["game.example.com"]);
    expect(vs.spec.gateways).toEqual(["istio-system/public", "mesh"]);
  });

  it("refuses weights that are not whole percents adding up to 100", () => {
    expect(() => virtualService("shop", "game", canary, { primary: 90, canary: 20 }, "u")).toThrow(/adding up to 100/);
    expect(() => virtualService("shop", "game", canary, { primary: 95.5, canary: 4.5 }, "u")).toThrow();
    expect(() => virtualService("shop", "game", canary, { primary: 110, canary: -10 }, "u")).toThrow();
  });
});
