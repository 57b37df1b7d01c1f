/**
 * Which URLs a tenant may make the operator call. A pattern is a URL prefix the operator's owner
 * writes (`--prometheus-allowed-address`, `--notification-allowed-url`), e.g.
 * `https://mimir.example.com/prometheus` or `https://*.monitoring.svc:9090/`: scheme and port must be
 * equal (the scheme's default when absent), the host equal or, for a `*.` pattern, a subdomain of the
 * rest, and the path must start with the pattern's path on a segment boundary. Userinfo in an address
 * is never allowed: it would smuggle credentials past the operator's configuration.
 */
export interface EndpointPattern {
  protocol: string;
  /** Lower-case; a leading "*." matches any subdomain (one label or more), never the bare domain. */
  host: string;
  port: string;
  /** Ends with "/". */
  path: string;
}

/** Parses a pattern, or throws with a message naming it: for the operator's flags at start. */
export function parseEndpointPattern(raw: string): EndpointPattern {
  const wildcard = /^([a-z]+:\/\/)\*\./i.exec(raw);
  const url = tryUrl(wildcard ? raw.replace("*.", "wildcard.") : raw);
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password || url.search || url.hash) {
    throw new Error(`${JSON.stringify(raw)} is not an allowed-endpoint pattern: write an http(s) URL prefix such as https://prometheus.monitoring.svc:9090/ or https://*.example.com/`);
  }
  const host = wildcard ? `*.${url.hostname.slice("wildcard.".length)}` : url.hostname;
  return { protocol: url.protocol, host: host.toLowerCase(), port: url.port || defaultPort(url.protocol), path: withSlash(url.pathname) };
}

/** Whether `address` is admitted by one of `patterns`. */
export function endpointAllowed(address: string, patterns: readonly EndpointPattern[]): boolean {
  const url = tryUrl(address);
  if (!url || url.username || url.password) return false;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const port = url.port || defaultPort(url.protocol);
  const path = withSlash(url.pathname);
  return patterns.some(
    (p) =>
      p.protocol === url.protocol &&
      p.port === port &&
      (p.host.startsWith("*.") ? host.endsWith(p.host.slice(1)) && host.length > p.host.length - 1 : host === p.host) &&
      path.startsWith(p.path),
  );
}

/** The host and port an address names, for messages: never its path or query, which may carry a key. */
export function endpointOrigin(address: string): string {
  const url = tryUrl(address);
  return url ? `${url.protocol}//${url.host}` : "(not a URL)";
}

function tryUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

function defaultPort(protocol: string): string {
  return protocol === "https:" ? "443" : "80";
}

function withSlash(path: string): string {
  return path.endsWith("/") ? path : `${path}/`;
}
