import { describe, expect, it } from "vitest";
import { parseConnections } from "./connections-file.ts";

describe("parseConnections", () => {
  it("reads YAML connections, with their timeout in milliseconds", () => {
    const text = `
connections:
  - name: mimir
    url: https://mimir.example.com/prometheus
    headers: {X-Scope-OrgID: team-a}
    bearerTokenFile: /etc/tollgate/mimir/token
    timeout: 15s
  - {name: default-prom, url: "http://prometheus.monitoring.svc:9090"}
`;
    expect(parseConnections(text, "connections.yaml")).toEqual([
      { name: "mimir", url: "https://mimir.example.com/prometheus", headers: { "X-Scope-OrgID": "team-a" }, bearerTokenFile: "/etc/tollgate/mimir/token", timeoutMs: 15_000 },
      { name: "default-prom", url: "http://prometheus.monitoring.svc:9090" },
    ]);
  });

  it.each([
    ["connections: [{name: Mimir, url: 'https://m'}]", "connections.0.name"],
    ["connections: [{name: m, url: 'ftp://m'}]", "connections.0.url"],
    ["connections: [{name: m, url: 'https://m', token: x}]", "connections.0"],
    ["connections: [{name: m, url: 'https://m', timeout: soon}]", "connections.0.timeout"],
    ["connections: [{name: m, url: 'https://a'}, {name: m, url: 'https://b'}]", "unique"],
    ["[]", "(top level)"],
  ])("refuses %s, naming %s", (text, where) => {
    expect(() => parseConnections(text, "c.yaml")).toThrow(where);
  });
});
