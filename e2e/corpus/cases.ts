// The bad-input corpus of e2e/corpus.e2e.test.ts: malformed and hostile PerformanceProfiles, one entry
// per case, each with where it must be refused and how that refusal must read.
//
// A case is refused either by the API server (the CRD's schema and CEL rules), with kubectl's error
// naming the field, or, admitted, by the operator: Ready=False with a reason of its own and a message
// naming the field and the offending value. Runtime reasons are the operator's contract (issue 11):
// InvalidSpec, TargetNotFound, TargetClaimed, EndpointNotAllowed, ConnectionNotFound,
// HeadersNotAllowed, SecretNotFound, HostNotAllowed, GatewayNotAllowed, RulesRejected.
//
// Every address a case names is either a loopback trap the suite listens on and that must never be
// connected to, or a name under .invalid (RFC 2606), which never resolves: the operator must refuse it
// before it would try.

export const KINDS = [
  "wrong type",
  "boundary number",
  "huge or unicode string",
  "PromQL injection",
  "forbidden or unreachable URL",
  "missing Secret or key",
  "target",
  "duplicate or two profiles",
  "tenant limit",
] as const;
export type Kind = (typeof KINDS)[number];

/** What the suite knows once its listeners and namespace exist; cases are built from it. */
export interface CorpusContext {
  namespace: string;
  /** The operator's --prometheus-url, the only Prometheus a profile may use by default. */
  prometheusUrl: string;
  /** A loopback listener standing for a Prometheus nobody allowed. */
  promTrap: { url: string; port: number };
  /** A loopback listener standing for a notification receiver nobody allowed. */
  hookTrap: { url: string; port: number };
  /** A Prometheus of the suite's own whose rules directory is the operator's --rules-dir. */
  privatePrometheusUrl: string;
}

/** Refused by the API server: kubectl fails and its error names `field` (and each of `mentions`). */
export interface ApiRefusal {
  api: { field: string; mentions?: string[] };
}

/** Admitted, then refused by the operator: Ready=False, one of `reasons`, the message naming `field`. */
export interface OperatorRefusal {
  ready: {
    reasons: string[];
    /** Must appear in the message; a prefix of the narrowest field is enough where noted. */
    field?: string;
    /** Further things the message must name: the offending value, the Secret, the first profile. */
    mentions?: Array<string | RegExp>;
  };
  /** For input the API server may refuse just as well: its error must then name this field. */
  orApi?: { field: string };
}

export type Expectation = ApiRefusal | OperatorRefusal;

export interface CorpusCase {
  /** metadata.name of the profile (and of its own Deployment for runtime cases). */
  id: string;
  name: string;
  kind: Kind;
  build: (ctx: CorpusContext) => Profile;
  expect: Expectation | ((ctx: CorpusContext) => Expectation);
  /**
   * Runtime cases get a Deployment of their own named `id`, so nothing but the case's own problem
   * can refuse them; `target` names another (or a missing) one instead.
   */
  target?: string;
  /** The target's traffic burns its budget: were the profile admitted, it would freeze and notify. */
  burning?: boolean;
  /** Read through recording rules on the suite's private Prometheus; run on its own, see the suite. */
  rules?: boolean;
}

export interface Profile {
  apiVersion: string;
  kind: string;
  metadata: { name: string } & Record<string, unknown>;
  spec: Record<string, unknown>;
}

export const isApi = (e: Expectation): e is ApiRefusal => "api" in e;
export const expectationOf = (c: CorpusCase, ctx: CorpusContext): Expectation => (typeof c.expect === "function" ? c.expect(ctx) : c.expect);

// ---------------------------------------------------------------------------------------------------
// Building blocks: a valid profile for each case to break in one place.

/** Corpus profiles are read every 5 s: often enough to load the operator, not the two CPUs. */
const POLICY = { evaluationInterval: "5s", minEvents: 10, rollbackAt: 1000 };
const ISTIO_SLO = { name: "availability", objective: 99.5, window: "1m", indicator: { istio: { kind: "availability" } } };
const ratio = (errors: string, total = "sum(rate(http_requests_total[{{window}}]))") => ({
  name: "availability",
  objective: 99.5,
  window: "1m",
  indicator: { ratio: { errors, total } },
});
const latency = (selector: string) => ({
  name: "latency",
  objective: 95,
  window: "1m",
  indicator: { latency: { metric: "http_request_duration_seconds", selector, threshold: "500ms" } },
});

function profile(id: string, spec: Record<string, unknown> = {}, target = id): Profile {
  return {
    apiVersion: "tollgate.dev/v1alpha1",
    kind: "PerformanceProfile",
    metadata: { name: id },
    spec: { targetRef: { name: target }, slos: [ISTIO_SLO], policy: { ...POLICY }, ...spec },
  };
}

/** `profile` with `policy` merged into the corpus policy. */
const withPolicy = (id: string, policy: Record<string, unknown>, spec: Record<string, unknown> = {}) => profile(id, { ...spec, policy: { ...POLICY, ...policy } });
const canary = (id: string, extra: Record<string, unknown> = {}, service: Record<string, unknown> = {}) =>
  profile(id, { canary: { service: { name: id, port: 8080, ...service }, ...extra } });
const api = (field: string, ...mentions: string[]): ApiRefusal => ({ api: { field, ...(mentions.length ? { mentions } : {}) } });
const refused = (reason: string, field: string | undefined, ...mentions: Array<string | RegExp>): OperatorRefusal => ({
  ready: { reasons: [reason], ...(field ? { field } : {}), ...(mentions.length ? { mentions } : {}) },
});
const A_PARSE_ERROR = /pars/i;

/** The valid PagerDuty receiver the two-receiver cases start with: its key exists, its URL is the operator's. */
const PAGER = { name: "oncall", type: "pagerduty", events: ["Frozen"], secretRef: { name: "corpus-alerting", key: "pagerduty" } };

/** The notification host the operator is told to allow, when it takes --notification-allowed-host. */
export const ALLOWED_NOTIFICATION_HOST = "hooks.tollgate-corpus.invalid";

// ---------------------------------------------------------------------------------------------------
// Refused by the API server.

const apiCases: CorpusCase[] = [
  // Wrong types.
  { id: "wt-objective-bool", name: "objective as a boolean", kind: "wrong type", build: () => profile("wt-objective-bool", { slos: [{ ...ISTIO_SLO, objective: true }] }), expect: api("spec.slos[0].objective") },
  { id: "wt-slos-object", name: "slos as an object instead of a list", kind: "wrong type", build: () => profile("wt-slos-object", { slos: { availability: ISTIO_SLO } }), expect: api("spec.slos") },
  { id: "wt-target-string", name: "targetRef as a string", kind: "wrong type", build: () => profile("wt-target-string", { targetRef: "deployment/web" }), expect: api("spec.targetRef") },
  { id: "wt-warnat-word", name: "warnAt in words", kind: "wrong type", build: () => withPolicy("wt-warnat-word", { warnAt: "ninety" }), expect: api("spec.policy.warnAt") },
  { id: "wt-interval-number", name: "evaluationInterval as a bare number", kind: "wrong type", build: () => withPolicy("wt-interval-number", { evaluationInterval: 30 }), expect: api("spec.policy.evaluationInterval") },
  { id: "wt-port-name", name: "canary port as a port name", kind: "wrong type", build: () => canary("wt-port-name", {}, { port: "http" }), expect: api("spec.canary.service.port") },
  {
    id: "wt-events-string",
    name: "notification events as a string",
    kind: "wrong type",
    build: () => withPolicy("wt-events-string", { notifications: [{ ...PAGER, events: "Frozen" }] }),
    expect: api("spec.policy.notifications[0].events"),
  },
  { id: "wt-headers-list", name: "prometheus headers as a list", kind: "wrong type", build: () => profile("wt-headers-list", { prometheus: { headers: ["X-Team: a"] } }), expect: api("spec.prometheus.headers") },
  { id: "wt-minevents-float", name: "minEvents as a fraction", kind: "wrong type", build: () => withPolicy("wt-minevents-float", { minEvents: 1.5 }), expect: api("spec.policy.minEvents") },
  { id: "wt-rollback-yes", name: "rollback.enabled as the string yes", kind: "wrong type", build: () => withPolicy("wt-rollback-yes", { rollback: { enabled: "yes" } }), expect: api("spec.policy.rollback.enabled") },
  {
    id: "wt-istio-kind-number",
    name: "istio kind as a number",
    kind: "wrong type",
    build: () => profile("wt-istio-kind-number", { slos: [{ ...ISTIO_SLO, indicator: { istio: { kind: 5 } } }] }),
    expect: api("spec.slos[0].indicator.istio.kind"),
  },

  // Boundary numbers: 0, negative, just past each bound, huge.
  { id: "bn-objective-zero", name: "objective 0", kind: "boundary number", build: () => profile("bn-objective-zero", { slos: [{ ...ISTIO_SLO, objective: 0 }] }), expect: api("spec.slos[0].objective") },
  { id: "bn-objective-negative", name: "objective -1", kind: "boundary number", build: () => profile("bn-objective-negative", { slos: [{ ...ISTIO_SLO, objective: -1 }] }), expect: api("spec.slos[0].objective") },
  {
    id: "bn-objective-past-100",
    name: "objective just past 100",
    kind: "boundary number",
    build: () => profile("bn-objective-past-100", { slos: [{ ...ISTIO_SLO, objective: 100.0000001 }] }),
    expect: api("spec.slos[0].objective"),
  },
  { id: "bn-objective-huge", name: "objective 1e308", kind: "boundary number", build: () => profile("bn-objective-huge", { slos: [{ ...ISTIO_SLO, objective: 1e308 }] }), expect: api("spec.slos[0].objective") },
  { id: "bn-warnat-zero", name: "warnAt 0", kind: "boundary number", build: () => withPolicy("bn-warnat-zero", { warnAt: 0, unfreezeBelow: 0 }), expect: api("spec.policy.warnAt") },
  { id: "bn-rollbackat-past-1000", name: "rollbackAt just past 1000", kind: "boundary number", build: () => withPolicy("bn-rollbackat-past-1000", { rollbackAt: 1000.0001 }), expect: api("spec.policy.rollbackAt") },
  { id: "bn-unfreeze-negative", name: "unfreezeBelow -5", kind: "boundary number", build: () => withPolicy("bn-unfreeze-negative", { unfreezeBelow: -5 }), expect: api("spec.policy.unfreezeBelow") },
  { id: "bn-minevents-zero", name: "minEvents 0", kind: "boundary number", build: () => withPolicy("bn-minevents-zero", { minEvents: 0 }), expect: api("spec.policy.minEvents") },
  // 2^63 does not fit an int64: the decoder reads it as a float.
  { id: "bn-minevents-2-63", name: "minEvents 2^63", kind: "boundary number", build: () => withPolicy("bn-minevents-2-63", { minEvents: 2 ** 63 }), expect: api("spec.policy.minEvents") },
  { id: "bn-stepweight-zero", name: "canary stepWeight 0", kind: "boundary number", build: () => canary("bn-stepweight-zero", { stepWeight: 0 }), expect: api("spec.canary.stepWeight") },
  { id: "bn-maxweight-101", name: "canary maxWeight 101", kind: "boundary number", build: () => canary("bn-maxweight-101", { maxWeight: 101 }), expect: api("spec.canary.maxWeight") },
  { id: "bn-port-65536", name: "canary port 65536", kind: "boundary number", build: () => canary("bn-port-65536", {}, { port: 65536 }), expect: api("spec.canary.service.port") },
  { id: "bn-port-negative", name: "canary port -1", kind: "boundary number", build: () => canary("bn-port-negative", {}, { port: -1 }), expect: api("spec.canary.service.port") },
  { id: "bn-maxburnrate-zero", name: "canary maxBurnRate 0", kind: "boundary number", build: () => canary("bn-maxburnrate-zero", { maxBurnRate: 0 }), expect: api("spec.canary.maxBurnRate") },
  { id: "bn-failurelimit-101", name: "canary failureLimit 101", kind: "boundary number", build: () => canary("bn-failurelimit-101", { failureLimit: 101 }), expect: api("spec.canary.failureLimit") },
  {
    id: "bn-ejection-101",
    name: "maxEjectionPercent 101",
    kind: "boundary number",
    build: () => profile("bn-ejection-101", { trafficPolicy: { circuitBreaker: { maxEjectionPercent: 101 } } }),
    expect: api("spec.trafficPolicy.circuitBreaker.maxEjectionPercent"),
  },
  {
    id: "bn-maxretries-negative",
    name: "maxRetries -1",
    kind: "boundary number",
    build: () => profile("bn-maxretries-negative", { trafficPolicy: { connectionPool: { maxRetries: -1 } } }),
    expect: api("spec.trafficPolicy.connectionPool.maxRetries"),
  },
  { id: "bn-cpu-101", name: "cpuUtilization 101", kind: "boundary number", build: () => profile("bn-cpu-101", { autoscaling: { cpuUtilization: 101 } }), expect: api("spec.autoscaling.cpuUtilization") },
  { id: "bn-maxreplicas-1001", name: "maxReplicas 1001", kind: "boundary number", build: () => profile("bn-maxreplicas-1001", { autoscaling: { maxReplicas: 1001 } }), expect: api("spec.autoscaling.maxReplicas") },
  { id: "bn-minreplicas-zero", name: "minReplicas 0", kind: "boundary number", build: () => profile("bn-minreplicas-zero", { autoscaling: { minReplicas: 0 } }), expect: api("spec.autoscaling.minReplicas") },
  { id: "bn-interval-999ms", name: "evaluationInterval 999ms", kind: "boundary number", build: () => withPolicy("bn-interval-999ms", { evaluationInterval: "999ms" }), expect: api("spec.policy.evaluationInterval") },
  { id: "bn-interval-1h1s", name: "evaluationInterval 1h1s", kind: "boundary number", build: () => withPolicy("bn-interval-1h1s", { evaluationInterval: "1h1s" }), expect: api("spec.policy.evaluationInterval") },
  { id: "bn-window-90d1ms", name: "SLO window 90d1ms", kind: "boundary number", build: () => profile("bn-window-90d1ms", { slos: [{ ...ISTIO_SLO, window: "90d1ms" }] }), expect: api("spec.slos[0].window") },
  // 2^64 years: past every integer type, still a string of 21 characters the pattern matches.
  {
    id: "bn-window-2-64-years",
    name: "SLO window of 2^64 years",
    kind: "boundary number",
    build: () => profile("bn-window-2-64-years", { slos: [{ ...ISTIO_SLO, window: "18446744073709551616y" }] }),
    expect: api("spec.slos[0].window"),
  },
  { id: "bn-timeout-zero", name: "prometheus timeout 0s", kind: "boundary number", build: () => profile("bn-timeout-zero", { prometheus: { timeout: "0s" } }), expect: api("spec.prometheus.timeout") },

  // Huge and unicode strings.
  {
    id: "hu-slo-name-umlaut",
    name: "SLO name with an umlaut",
    kind: "huge or unicode string",
    build: () => profile("hu-slo-name-umlaut", { slos: [{ ...ISTIO_SLO, name: "verfügbarkeit" }] }),
    expect: api("spec.slos[0].name"),
  },
  {
    id: "hu-slo-name-bidi",
    name: "SLO name with a right-to-left override",
    kind: "huge or unicode string",
    build: () => profile("hu-slo-name-bidi", { slos: [{ ...ISTIO_SLO, name: "avail\u202eytilib" }] }),
    expect: api("spec.slos[0].name"),
  },
  { id: "hu-slo-name-64", name: "SLO name of 64 characters", kind: "huge or unicode string", build: () => profile("hu-slo-name-64", { slos: [{ ...ISTIO_SLO, name: "a".repeat(64) }] }), expect: api("spec.slos[0].name") },
  {
    id: "hu-description-513",
    name: "SLO description of 513 accented characters",
    kind: "huge or unicode string",
    build: () => profile("hu-description-513", { slos: [{ ...ISTIO_SLO, description: "é".repeat(513) }] }),
    expect: api("spec.slos[0].description"),
  },
  { id: "hu-target-unicode", name: "target name in unicode", kind: "huge or unicode string", build: () => profile("hu-target-unicode", {}, "spiel-dienst-ä"), expect: api("spec.targetRef.name") },
  { id: "hu-target-254", name: "target name of 254 characters", kind: "huge or unicode string", build: () => profile("hu-target-254", {}, "a".repeat(254)), expect: api("spec.targetRef.name") },
  {
    id: "hu-metric-cyrillic",
    name: "latency metric in Cyrillic",
    kind: "huge or unicode string",
    build: () => profile("hu-metric-cyrillic", { slos: [{ ...latency('{job="api"}'), indicator: { latency: { metric: "запросы_seconds", selector: '{job="api"}', threshold: "500ms" } } }] }),
    expect: api("spec.slos[0].indicator.latency.metric"),
  },
  {
    id: "hu-selector-1025",
    name: "latency selector of 1025 characters",
    kind: "huge or unicode string",
    build: () => profile("hu-selector-1025", { slos: [latency(`{job="${"a".repeat(1025 - 8)}"}`)] }),
    expect: api("spec.slos[0].indicator.latency.selector"),
  },
  {
    id: "hu-promql-4097",
    name: "PromQL of 4097 characters",
    kind: "huge or unicode string",
    build: () => profile("hu-promql-4097", { slos: [ratio(`sum(rate(e[{{window}}]))${" ".repeat(4097 - 24)}`)] }),
    expect: api("spec.slos[0].indicator.ratio.errors"),
  },
  {
    id: "hu-header-value-4097",
    name: "Prometheus header value of 4097 characters",
    kind: "huge or unicode string",
    build: () => profile("hu-header-value-4097", { prometheus: { headers: { "X-Team": "t".repeat(4097) } } }),
    expect: api("spec.prometheus.headers"),
  },
  {
    id: "hu-header-name-crlf",
    name: "Prometheus header name carrying CR LF and a second header",
    kind: "huge or unicode string",
    build: () => profile("hu-header-name-crlf", { prometheus: { headers: { "X-Team\r\nX-Scope-OrgID": "tenant-b" } } }),
    expect: api("spec.prometheus.headers"),
  },
  {
    id: "hu-receiver-name-emoji",
    name: "receiver name with an emoji",
    kind: "huge or unicode string",
    build: () => withPolicy("hu-receiver-name-emoji", { notifications: [{ ...PAGER, name: "oncall-🔥" }] }),
    expect: api("spec.policy.notifications[0].name"),
  },
  {
    id: "hu-address-2049",
    name: "Prometheus address of 2049 characters",
    kind: "huge or unicode string",
    build: () => profile("hu-address-2049", { prometheus: { address: `http://prometheus.tollgate-corpus.invalid/${"p".repeat(2049 - 42)}` } }),
    expect: api("spec.prometheus.address"),
  },
  {
    id: "hu-profile-name-umlaut",
    name: "profile name with an umlaut",
    kind: "huge or unicode string",
    build: () => ({ ...profile("hu-profile-name-umlaut"), metadata: { name: "prüfung" } }),
    expect: api("metadata.name"),
  },

  // PromQL injection the schema can see.
  {
    id: "pi-errors-spaced-window",
    name: "errors with {{ window }} spelled with spaces",
    kind: "PromQL injection",
    build: () => profile("pi-errors-spaced-window", { slos: [ratio("sum(rate(http_requests_total{code=~\"5..\"}[{{ window }}]))")] }),
    expect: api("spec.slos[0].indicator.ratio.errors"),
  },
  {
    id: "pi-total-upper-window",
    name: "total with {{WINDOW}} in capitals",
    kind: "PromQL injection",
    build: () => profile("pi-total-upper-window", { slos: [ratio("sum(rate(http_requests_total{code=~\"5..\"}[{{window}}]))", "sum(rate(http_requests_total[{{WINDOW}}]))")] }),
    expect: api("spec.slos[0].indicator.ratio.total"),
  },
  {
    id: "pi-selector-outside-braces",
    name: "latency selector that leaves its braces: job=\"a\"} or vector(1) or {",
    kind: "PromQL injection",
    build: () => profile("pi-selector-outside-braces", { slos: [latency('job="a"} or vector(1) or {')] }),
    expect: api("spec.slos[0].indicator.latency.selector"),
  },
  {
    id: "pi-target-name-quote",
    name: "target name closing the workload matcher: web\"} or vector(1) #",
    kind: "PromQL injection",
    build: () => profile("pi-target-name-quote", {}, 'web"} or vector(1) #'),
    expect: api("spec.targetRef.name"),
  },
  {
    id: "pi-slo-name-quote",
    name: "SLO name closing its rule label: availability\"} or vector(1)",
    kind: "PromQL injection",
    build: () => profile("pi-slo-name-quote", { slos: [{ ...ISTIO_SLO, name: 'availability"} or vector(1)' }] }),
    expect: api("spec.slos[0].name"),
  },

  // URLs the schema refuses.
  { id: "url-file-scheme", name: "Prometheus address file:///etc/passwd", kind: "forbidden or unreachable URL", build: () => profile("url-file-scheme", { prometheus: { address: "file:///etc/passwd" } }), expect: api("spec.prometheus.address") },
  {
    id: "url-unix-socket",
    name: "Prometheus address on a unix socket",
    kind: "forbidden or unreachable URL",
    build: () => profile("url-unix-socket", { prometheus: { address: "unix:///var/run/prometheus.sock" } }),
    expect: api("spec.prometheus.address"),
  },
  {
    id: "url-webhook-no-host",
    name: "webhook URL without a host",
    kind: "forbidden or unreachable URL",
    build: () => withPolicy("url-webhook-no-host", { notifications: [{ name: "hook", type: "webhook", events: ["Frozen"], url: "http://" }] }),
    expect: api("spec.policy.notifications[0].url"),
  },

  // Secret references the schema refuses.
  {
    id: "ms-secret-other-namespace",
    name: "bearer token Secret in another namespace (kube-system/admin-token)",
    kind: "missing Secret or key",
    build: () => profile("ms-secret-other-namespace", { prometheus: { bearerTokenSecretRef: { name: "kube-system/admin-token", key: "token" } } }),
    expect: api("spec.prometheus.bearerTokenSecretRef.name"),
  },
  {
    id: "ms-key-traversal",
    name: "bearer token key ../../token",
    kind: "missing Secret or key",
    build: () => profile("ms-key-traversal", { prometheus: { bearerTokenSecretRef: { name: "corpus-tokens", key: "../../token" } } }),
    expect: api("spec.prometheus.bearerTokenSecretRef.key"),
  },

  // Targets of another kind.
  { id: "tg-statefulset-kind", name: "a StatefulSet target", kind: "target", build: () => profile("tg-statefulset-kind", { targetRef: { kind: "StatefulSet", name: "store" } }), expect: api("spec.targetRef.kind") },
  {
    id: "tg-old-api-version",
    name: "target apiVersion apps/v1beta1",
    kind: "target",
    build: () => profile("tg-old-api-version", { targetRef: { apiVersion: "apps/v1beta1", name: "tg-old-api-version" } }),
    expect: api("spec.targetRef.apiVersion"),
  },

  // Duplicates.
  { id: "dup-slo-names", name: "two SLOs named availability", kind: "duplicate or two profiles", build: () => profile("dup-slo-names", { slos: [ISTIO_SLO, { ...ISTIO_SLO, objective: 99 }] }), expect: api("spec.slos[1]") },
  {
    id: "dup-receiver-names",
    name: "two receivers named oncall",
    kind: "duplicate or two profiles",
    build: () => withPolicy("dup-receiver-names", { notifications: [PAGER, { ...PAGER, events: ["Warning"] }] }),
    expect: api("spec.policy.notifications[1]"),
  },
  { id: "dup-canary-slos", name: "canary.slos naming one SLO twice", kind: "duplicate or two profiles", build: () => canary("dup-canary-slos", { slos: ["availability", "availability"] }), expect: api("spec.canary.slos[1]") },
  { id: "dup-gateways", name: "the mesh gateway twice", kind: "duplicate or two profiles", build: () => canary("dup-gateways", {}, { gateways: ["mesh", "mesh"] }), expect: api("spec.canary.service.gateways[1]") },

  // Tenant limits the schema already draws.
  // No "/", so it looks local; Istio reads a dotted bare name as name.namespace, istio-system's here.
  {
    id: "tl-gateway-dotted",
    name: "canary gateway of istio-system in the legacy name.namespace form",
    kind: "tenant limit",
    build: () => canary("tl-gateway-dotted", {}, { gateways: ["public-gateway.istio-system"] }),
    expect: api("spec.canary.service.gateways[0]"),
  },
  { id: "tl-host-star", name: "canary host *", kind: "tenant limit", build: () => canary("tl-host-star", {}, { hosts: ["*"] }), expect: api("spec.canary.service.hosts[0]") },
  { id: "tl-unknown-field", name: "a misspelt field: prometheus.adress", kind: "wrong type", build: () => profile("tl-unknown-field", { prometheus: { adress: "http://prometheus.tollgate-corpus.invalid:9090" } }), expect: api("spec.prometheus.adress") },
];

// ---------------------------------------------------------------------------------------------------
// Admitted, then refused by the operator.

/** The field of canary hosts and gateways: the brief's spec.canary.hosts[i] or the schema's spec.canary.service.hosts[i]. */
const canaryField = (list: "hosts" | "gateways", i: number) => new RegExp(`spec\\.canary\\.(service\\.)?${list}\\[${i}\\]`);

const runtimeCases: CorpusCase[] = [
  // PromQL the schema cannot judge: Prometheus's parser, and Tollgate's own selector parser, must.
  {
    id: "pi-errors-breakout",
    name: "errors closing its sum and adding or vector(1)",
    kind: "PromQL injection",
    build: () => profile("pi-errors-breakout", { slos: [ratio('sum(rate(http_requests_total{code=~"5.."}[{{window}}]))) or vector(1) or (vector(0)')] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator.ratio.errors", A_PARSE_ERROR),
  },
  {
    id: "pi-total-breakout",
    name: "total closing its sum and adding or vector(1e9)",
    kind: "PromQL injection",
    build: () => profile("pi-total-breakout", { slos: [ratio('sum(rate(http_requests_total{code=~"5.."}[{{window}}]))', "sum(rate(http_requests_total[{{window}}]))) or vector(1e9) or (vector(0)")] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator.ratio.total", A_PARSE_ERROR),
  },
  {
    id: "pi-matcher-quote-newline",
    name: "label matcher with an escaped quote and a newline",
    kind: "PromQL injection",
    build: () => profile("pi-matcher-quote-newline", { slos: [ratio('sum(rate(http_requests_total{code="5\\"\n} or vector(1) #"}[{{window}}]))')] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator.ratio.errors", A_PARSE_ERROR),
  },
  {
    id: "pi-window-twice",
    name: "{{window}}{{window}} in one range",
    kind: "PromQL injection",
    build: () => profile("pi-window-twice", { slos: [ratio("sum(rate(http_requests_total{code=~\"5..\"}[{{window}}{{window}}]))")] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator.ratio.errors", A_PARSE_ERROR),
  },
  {
    id: "pi-window-as-metric",
    name: "{{window}} as a metric name",
    kind: "PromQL injection",
    build: () => profile("pi-window-as-metric", { slos: [ratio('sum(rate(http_requests_total{code=~"5.."}[{{window}}]))', "sum(rate({{window}}[{{window}}]))")] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator.ratio.total", A_PARSE_ERROR),
  },
  // Parses with the 5m Tollgate checks with, not with the 10s its shortest window of a 1m SLO is: [10s30s].
  {
    id: "pi-window-unit-order",
    name: "{{window}}30s, which parses for 5m but not for the 10s window",
    kind: "PromQL injection",
    build: () => profile("pi-window-unit-order", { slos: [ratio('sum(rate(http_requests_total{code=~"5.."}[{{window}}30s]))')] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator.ratio.errors", "10s30s"),
  },
  {
    id: "pi-cyrillic-metric",
    name: "errors on a metric named in Cyrillic",
    kind: "huge or unicode string",
    build: () => profile("pi-cyrillic-metric", { slos: [ratio("sum(rate(запросы_total[{{window}}]))")] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator.ratio.errors", A_PARSE_ERROR),
  },
  {
    id: "pi-promql-4096",
    name: "PromQL of exactly 4096 characters that does not parse",
    kind: "huge or unicode string",
    build: () => profile("pi-promql-4096", { slos: [ratio(`sum(rate(e[{{window}}]))${")".repeat(4096 - 24)}`)] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator.ratio.errors", A_PARSE_ERROR),
  },
  {
    id: "pi-second-slo",
    name: "a parse error in the second SLO's total",
    kind: "PromQL injection",
    build: () => profile("pi-second-slo", { slos: [ISTIO_SLO, { ...ratio('sum(rate(http_requests_total{code=~"5.."}[{{window}}]))', "sum(rate(http_requests_total[{{window}}])"), name: "requests" }] }),
    expect: refused("InvalidSpec", "spec.slos[1].indicator.ratio.total", A_PARSE_ERROR),
  },
  // Tollgate reads latency selectors itself to add its le matcher; what it cannot read is named with
  // the indicator's field and the selector's own words.
  {
    id: "pi-selector-breakout",
    name: "latency selector {job=\"api\"} or vector(1) or {job=\"api\"}",
    kind: "PromQL injection",
    build: () => profile("pi-selector-breakout", { slos: [latency('{job="api"} or vector(1) or {job="api"}')] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator", "or vector(1)"),
  },
  {
    id: "pi-selector-le",
    name: "latency selector setting le itself",
    kind: "PromQL injection",
    build: () => profile("pi-selector-le", { slos: [latency('{job="api",le="+Inf"}')] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator", 'le="+Inf"'),
  },
  {
    id: "pi-selector-unterminated",
    name: "latency selector with an unterminated quote",
    kind: "PromQL injection",
    build: () => profile("pi-selector-unterminated", { slos: [latency('{job="api}')] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator", 'job="api'),
  },
  {
    id: "pi-selector-newline",
    name: "latency selector with a newline inside its quotes",
    kind: "PromQL injection",
    build: () => profile("pi-selector-newline", { slos: [latency('{job="api\nx"}')] }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator"),
  },
  {
    id: "pi-several-series",
    name: "errors without sum, returning a series per workload",
    kind: "PromQL injection",
    build: (ctx) =>
      profile("pi-several-series", {
        slos: [
          ratio(
            `rate(istio_requests_total{destination_workload_namespace="${ctx.namespace}",destination_workload=~"noise-a|noise-b",reporter="destination",response_code=~"5.."}[{{window}}])`,
            `sum(rate(istio_requests_total{destination_workload_namespace="${ctx.namespace}",destination_workload=~"noise-a|noise-b",reporter="destination"}[{{window}}]))`,
          ),
        ],
      }),
    expect: refused("InvalidSpec", "spec.slos[0].indicator.ratio.errors", /\b([2-9]|[1-9]\d+) series\b/),
  },

  // Targets that do not exist, or are of another kind.
  { id: "tg-missing", name: "a Deployment that does not exist", kind: "target", target: "no-such-deployment", build: () => profile("tg-missing", {}, "no-such-deployment"), expect: refused("TargetNotFound", undefined, "no-such-deployment") },
  { id: "tg-names-service", name: "a name that is a Service, not a Deployment", kind: "target", target: "svc-only", build: () => profile("tg-names-service", {}, "svc-only"), expect: refused("TargetNotFound", undefined, "svc-only") },
  { id: "tg-names-statefulset", name: "a name that is a StatefulSet, not a Deployment", kind: "target", target: "store", build: () => profile("tg-names-statefulset", {}, "store"), expect: refused("TargetNotFound", undefined, "store") },

  // Two profiles on one Deployment: claim-owner, created by the suite before the corpus, governs it.
  {
    id: "dup-claim-second",
    name: "a second profile on a Deployment another governs",
    kind: "duplicate or two profiles",
    target: "claimed",
    build: () => profile("dup-claim-second", {}, "claimed"),
    expect: refused("TargetClaimed", undefined, "PerformanceProfile claim-owner"),
  },
  {
    id: "dup-claim-third",
    name: "a third profile on the same Deployment, with its own healthy-looking policy",
    kind: "duplicate or two profiles",
    target: "claimed",
    build: () => withPolicy("dup-claim-third", { freezeAt: 900, warnAt: 800, rollbackAt: 1000 }, { targetRef: { name: "claimed" } }),
    expect: refused("TargetClaimed", undefined, "PerformanceProfile claim-owner"),
  },

  // Prometheus addresses nobody allowed.
  {
    id: "url-prom-trap",
    name: "Prometheus address on a loopback port nobody allowed",
    kind: "forbidden or unreachable URL",
    build: (ctx) => profile("url-prom-trap", { prometheus: { address: ctx.promTrap.url } }),
    expect: (ctx) => refused("EndpointNotAllowed", "spec.prometheus.address", String(ctx.promTrap.port)),
  },
  {
    id: "url-prom-localhost",
    name: "Prometheus address spelled localhost",
    kind: "forbidden or unreachable URL",
    build: (ctx) => profile("url-prom-localhost", { prometheus: { address: `http://localhost:${ctx.promTrap.port}` } }),
    expect: (ctx) => refused("EndpointNotAllowed", "spec.prometheus.address", String(ctx.promTrap.port)),
  },
  // Starts with the allowed URL: the allowed host:port is only userinfo here.
  {
    id: "url-prom-userinfo",
    name: "Prometheus address starting with the allowed URL as userinfo",
    kind: "forbidden or unreachable URL",
    build: (ctx) => profile("url-prom-userinfo", { prometheus: { address: `${ctx.prometheusUrl.replace(/\/+$/, "")}@127.0.0.1:${ctx.promTrap.port}/` } }),
    expect: (ctx) => refused("EndpointNotAllowed", "spec.prometheus.address", String(ctx.promTrap.port)),
  },
  {
    id: "url-prom-decimal-ip",
    name: "Prometheus address with 127.0.0.1 written as 2130706433",
    kind: "forbidden or unreachable URL",
    build: (ctx) => profile("url-prom-decimal-ip", { prometheus: { address: `http://2130706433:${ctx.promTrap.port}` } }),
    expect: (ctx) => refused("EndpointNotAllowed", "spec.prometheus.address", String(ctx.promTrap.port)),
  },
  {
    id: "url-prom-https-trap",
    name: "https Prometheus address on the trap, certificate checks off",
    kind: "forbidden or unreachable URL",
    build: (ctx) => profile("url-prom-https-trap", { prometheus: { address: `https://127.0.0.1:${ctx.promTrap.port}`, tls: { insecureSkipVerify: true } } }),
    expect: (ctx) => refused("EndpointNotAllowed", "spec.prometheus.address", String(ctx.promTrap.port)),
  },
  {
    id: "url-prom-invalid-name",
    name: "Prometheus address on a name that never resolves",
    kind: "forbidden or unreachable URL",
    build: () => profile("url-prom-invalid-name", { prometheus: { address: "http://prometheus.tollgate-corpus.invalid:9090" } }),
    expect: refused("EndpointNotAllowed", "spec.prometheus.address", "tollgate-corpus.invalid"),
  },
  // Begins with the allowed host's address, then goes elsewhere.
  {
    id: "url-prom-prefix-host",
    name: "Prometheus address on a host named after the allowed one: 127.0.0.1.tollgate-corpus.invalid",
    kind: "forbidden or unreachable URL",
    build: (ctx) => profile("url-prom-prefix-host", { prometheus: { address: `http://127.0.0.1.tollgate-corpus.invalid:${new URL(ctx.prometheusUrl).port || "80"}` } }),
    expect: refused("EndpointNotAllowed", "spec.prometheus.address", "127.0.0.1.tollgate-corpus.invalid"),
  },

  // Notification endpoints nobody allowed, on targets that burn: admitted, they would be told at once.
  {
    id: "url-hook-trap",
    name: "webhook URL on a loopback port nobody allowed",
    kind: "forbidden or unreachable URL",
    burning: true,
    build: (ctx) => withPolicy("url-hook-trap", { notifications: [{ name: "hook", type: "webhook", events: ["Warning", "Frozen"], url: `${ctx.hookTrap.url}/hook` }] }),
    expect: (ctx) => refused("EndpointNotAllowed", "spec.policy.notifications[0].url", String(ctx.hookTrap.port)),
  },
  {
    id: "url-hook-invalid-name",
    name: "webhook URL on a name that never resolves",
    kind: "forbidden or unreachable URL",
    burning: true,
    build: () => withPolicy("url-hook-invalid-name", { notifications: [{ name: "hook", type: "webhook", events: ["Warning", "Frozen"], url: "http://hooks.elsewhere.tollgate-corpus.invalid/hook" }] }),
    expect: refused("EndpointNotAllowed", "spec.policy.notifications[0].url", "hooks.elsewhere.tollgate-corpus.invalid"),
  },
  {
    id: "url-hook-from-secret",
    name: "webhook URL from a Secret, on the trap",
    kind: "forbidden or unreachable URL",
    burning: true,
    build: () => withPolicy("url-hook-from-secret", { notifications: [{ name: "hook", type: "webhook", events: ["Warning", "Frozen"], secretRef: { name: "corpus-alerting", key: "hook-trap" } }] }),
    expect: refused("EndpointNotAllowed", "spec.policy.notifications[0].secretRef"),
  },
  {
    id: "url-slack-from-secret",
    name: "Slack webhook from a Secret, on the trap as localhost",
    kind: "forbidden or unreachable URL",
    burning: true,
    build: () => withPolicy("url-slack-from-secret", { notifications: [{ name: "team-slack", type: "slack", events: ["Warning", "Frozen"], secretRef: { name: "corpus-alerting", key: "slack-trap" } }] }),
    expect: refused("EndpointNotAllowed", "spec.policy.notifications[0].secretRef"),
  },
  // The allowed notification host appears, as userinfo; the host is the trap.
  {
    id: "url-hook-userinfo",
    name: "second receiver's webhook URL with the allowed host as userinfo",
    kind: "forbidden or unreachable URL",
    burning: true,
    build: (ctx) =>
      withPolicy("url-hook-userinfo", {
        notifications: [PAGER, { name: "hook", type: "webhook", events: ["Warning", "Frozen"], url: `http://${ALLOWED_NOTIFICATION_HOST}@127.0.0.1:${ctx.hookTrap.port}/hook` }],
      }),
    expect: (ctx) => refused("EndpointNotAllowed", "spec.policy.notifications[1].url", String(ctx.hookTrap.port)),
  },

  // What only the operator's configuration may grant.
  {
    id: "tl-connection-unknown",
    name: "a Prometheus connection the operator was not given",
    kind: "tenant limit",
    build: () => profile("tl-connection-unknown", { prometheus: { connection: "tenant-b" } }),
    expect: refused("ConnectionNotFound", "spec.prometheus.connection", "tenant-b"),
  },
  {
    id: "tl-header-orgid",
    name: "X-Scope-OrgID of another tenant",
    kind: "tenant limit",
    build: () => profile("tl-header-orgid", { prometheus: { headers: { "X-Scope-OrgID": "tenant-b" } } }),
    expect: refused("HeadersNotAllowed", "spec.prometheus.headers.X-Scope-OrgID"),
  },
  {
    id: "tl-header-orgid-lower",
    name: "x-scope-orgid in lower case",
    kind: "tenant limit",
    build: () => profile("tl-header-orgid-lower", { prometheus: { headers: { "x-scope-orgid": "tenant-b" } } }),
    expect: refused("HeadersNotAllowed", "spec.prometheus.headers.x-scope-orgid"),
  },
  // Header smuggling through a value: no contract names its reason, so either refusal that names it counts.
  {
    id: "tl-header-value-crlf",
    name: "a header value smuggling X-Scope-OrgID after CR LF",
    kind: "tenant limit",
    build: () => profile("tl-header-value-crlf", { prometheus: { headers: { "X-Team": "payments\r\nX-Scope-OrgID: tenant-b" } } }),
    expect: { ready: { reasons: ["InvalidSpec", "HeadersNotAllowed"], field: "spec.prometheus.headers.X-Team" }, orApi: { field: "spec.prometheus.headers" } },
  },
  {
    id: "tl-host-external",
    name: "canary host outside the cluster",
    kind: "tenant limit",
    build: () => canary("tl-host-external", {}, { hosts: ["api.tollgate-corpus.invalid"] }),
    expect: refused("HostNotAllowed", undefined, canaryField("hosts", 0), "api.tollgate-corpus.invalid"),
  },
  {
    id: "tl-host-other-namespace",
    name: "canary host of another namespace's Service, second in the list",
    kind: "tenant limit",
    build: () => canary("tl-host-other-namespace", {}, { hosts: ["tl-host-other-namespace", "checkout.other-team.svc.cluster.local"] }),
    expect: refused("HostNotAllowed", undefined, canaryField("hosts", 1), "checkout.other-team.svc.cluster.local"),
  },
  {
    id: "tl-host-wildcard",
    name: "canary wildcard host",
    kind: "tenant limit",
    build: () => canary("tl-host-wildcard", {}, { hosts: ["*.tollgate-corpus.invalid"] }),
    expect: refused("HostNotAllowed", undefined, canaryField("hosts", 0), "*.tollgate-corpus.invalid"),
  },
  // Starts with every name of the profile's own Service, then leaves the cluster.
  {
    id: "tl-host-own-prefix",
    name: "canary host that begins with the profile's own Service's full name",
    kind: "tenant limit",
    build: (ctx) => canary("tl-host-own-prefix", {}, { hosts: [`tl-host-own-prefix.${ctx.namespace}.svc.cluster.local.tollgate-corpus.invalid`] }),
    expect: refused("HostNotAllowed", undefined, canaryField("hosts", 0), "cluster.local.tollgate-corpus.invalid"),
  },
  {
    id: "tl-gateway-ingress",
    name: "canary bound to istio-system's ingress gateway",
    kind: "tenant limit",
    build: () => canary("tl-gateway-ingress", {}, { gateways: ["istio-system/ingressgateway"] }),
    expect: refused("GatewayNotAllowed", undefined, canaryField("gateways", 0), "istio-system/ingressgateway"),
  },
  {
    id: "tl-gateway-other-team",
    name: "canary bound to another team's gateway, after mesh",
    kind: "tenant limit",
    build: () => canary("tl-gateway-other-team", {}, { gateways: ["mesh", "other-team/gateway"] }),
    expect: refused("GatewayNotAllowed", undefined, canaryField("gateways", 1), "other-team/gateway"),
  },

  // Missing Secrets and keys, checked at every reconcile.
  {
    id: "ms-bearer-secret",
    name: "bearer token from a Secret that does not exist",
    kind: "missing Secret or key",
    build: () => profile("ms-bearer-secret", { prometheus: { bearerTokenSecretRef: { name: "no-such-secret", key: "token" } } }),
    expect: refused("SecretNotFound", "spec.prometheus.bearerTokenSecretRef", "no-such-secret"),
  },
  {
    id: "ms-bearer-key",
    name: "bearer token from a key the Secret does not have",
    kind: "missing Secret or key",
    build: () => profile("ms-bearer-key", { prometheus: { bearerTokenSecretRef: { name: "corpus-tokens", key: "missing-key" } } }),
    expect: refused("SecretNotFound", "spec.prometheus.bearerTokenSecretRef", "missing-key"),
  },
  {
    id: "ms-ca-secret",
    name: "CA bundle from a Secret that does not exist",
    kind: "missing Secret or key",
    build: () => profile("ms-ca-secret", { prometheus: { tls: { caSecretRef: { name: "no-such-ca", key: "ca.crt" } } } }),
    expect: refused("SecretNotFound", "spec.prometheus.tls.caSecretRef", "no-such-ca"),
  },
  {
    id: "ms-slack-secret",
    name: "Slack webhook from a Secret that does not exist",
    kind: "missing Secret or key",
    build: () => withPolicy("ms-slack-secret", { notifications: [{ name: "team-slack", type: "slack", events: ["Warning"], secretRef: { name: "no-such-alerting", key: "slack" } }] }),
    expect: refused("SecretNotFound", "spec.policy.notifications[0].secretRef", "no-such-alerting"),
  },
  {
    id: "ms-second-receiver-key",
    name: "second receiver's key missing from an existing Secret",
    kind: "missing Secret or key",
    build: () => withPolicy("ms-second-receiver-key", { notifications: [PAGER, { name: "hook", type: "webhook", events: ["Frozen"], secretRef: { name: "corpus-alerting", key: "no-such-key" } }] }),
    expect: refused("SecretNotFound", "spec.policy.notifications[1].secretRef", "no-such-key"),
  },

  // Recording rules Prometheus refuses: [{{window}}30s] is [10s30s] in the 10s window's rule. Tollgate
  // may instead find it out first and call it InvalidSpec, naming the field; both name the problem.
  {
    id: "tl-rules-refused",
    name: "recording rules Prometheus refuses to load",
    kind: "tenant limit",
    rules: true,
    build: (ctx) =>
      profile("tl-rules-refused", {
        prometheus: { address: ctx.privatePrometheusUrl, mode: "RecordingRules" },
        slos: [ratio('sum(rate(http_requests_total{code=~"5.."}[{{window}}30s]))')],
      }),
    expect: { ready: { reasons: ["RulesRejected", "InvalidSpec"], field: "spec.slos" } },
  },
];

export const CORPUS: readonly CorpusCase[] = [...apiCases, ...runtimeCases];
