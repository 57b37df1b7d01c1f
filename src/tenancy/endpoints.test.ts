import { describe, expect, it } from "vitest";
import { endpointAllowed, endpointOrigin, parseEndpointPattern } from "./endpoints.ts";

const allow = (address: string, ...patterns: string[]) => endpointAllowed(address, patterns.map(parseEndpointPattern));

describe("endpointAllowed", () => {
  it.each([
    ["https://mimir.example.com/prometheus", "https://mimir.example.com/prometheus"],
    ["https://mimir.example.com/prometheus/", "https://mimir.example.com/prometheus"],
    ["https://mimir.example.com/prometheus/api", "https://mimir.example.com/prometheus"],
    ["https://MIMIR.example.com./prometheus", "https://mimir.example.com/prometheus"],
    ["https://mimir.example.com:443/prometheus", "https://mimir.example.com/prometheus"],
    ["http://prometheus.monitoring.svc:9090", "http://prometheus.monitoring.svc:9090/"],
    ["http://a.monitoring.svc:9090", "http://*.monitoring.svc:9090"],
    ["http://a.b.monitoring.svc:9090/x", "http://*.monitoring.svc:9090"],
  ])("admits %s under %s", (address, pattern) => {
    expect(allow(address, pattern)).toBe(true);
  });

  it.each([
    ["http://mimir.example.com/prometheus", "https://mimir.example.com/prometheus", "another scheme"],
    ["https://mimir.example.com:8443/prometheus", "https://mimir.example.com/prometheus", "another port"],
    ["https://mimir.example.com/prometheus-other", "https://mimir.example.com/prometheus", "a path that only shares a prefix"],
    ["https://mimir.example.com/", "https://mimir.example.com/prometheus", "a shorter path"],
    ["https://evil-mimir.example.com/prometheus", "https://mimir.example.com/prometheus", "another host"],
    ["https://mimir.example.com.evil.net/prometheus", "https://mimir.example.com/prometheus", "a host with the pattern as prefix"],
    ["http://monitoring.svc:9090", "http://*.monitoring.svc:9090", "the bare domain of a wildcard"],
    ["http://amonitoring.svc:9090", "http://*.monitoring.svc:9090", "a host that only ends like the domain"],
    ["https://user:pass@mimir.example.com/prometheus", "https://mimir.example.com/prometheus", "userinfo"],
    ["http://127.0.0.1:6443/", "http://127.0.0.1:9090/", "the API server's port"],
    ["not a url", "https://mimir.example.com/", "not a URL"],
  ])("refuses %s under %s (%s)", (address, pattern) => {
    expect(allow(address, pattern)).toBe(false);
  });

  it("admits nothing without patterns", () => {
    expect(allow("http://127.0.0.1:9090")).toBe(false);
  });
});

describe("parseEndpointPattern", () => {
  it.each(["ftp://x/", "https://user@x/", "https://x/?q=1", "x.example.com", ""])("refuses %j, naming it", (raw) => {
    expect(() => parseEndpointPattern(raw)).toThrow(JSON.stringify(raw));
  });
});

describe("endpointOrigin", () => {
  it("names scheme, host and port only", () => {
    expect(endpointOrigin("https://hooks.slack.com/services/T000/B000/SECRET")).toBe("https://hooks.slack.com");
    expect(endpointOrigin("garbage")).toBe("(not a URL)");
  });
});
