#!/usr/bin/env node
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { crdYaml } from "../api/crd.ts";
import { dashboardJson } from "../dashboard/grafana.ts";
import { freezePolicyYaml } from "../kube/freeze-policy.ts";
import { createLogger } from "../log.ts";
import { createOperator, DEFAULT_KUBE_API_RATE, DEFAULT_WORKERS } from "../operator.ts";
import type { ReadMode } from "../prometheus/slo-reader.ts";
import { parseCanaryScope, type CanaryScope } from "../traffic/scope.ts";
import { readFile } from "node:fs/promises";
import type { NamedConnection } from "../prometheus/connections.ts";
import { parseConnections } from "../prometheus/connections-file.ts";
import { parseEndpointPattern, type EndpointPattern } from "../tenancy/endpoints.ts";
import { VERSION as TOLLGATE_VERSION } from "../version.ts";
import { DEFAULT_TILE } from "../slo/tiles.ts";
import { KubeconfigError } from "../kube/kubeconfig.ts";
import { InputError, kubeApiRateFlags, shardsFlag, tileFlag, UsageError } from "./flags.ts";
import { MAX_SHARDS } from "../sharding/lease-names.ts";
import { rulesCommand, RULES_USAGE } from "./rules.ts";
import { importCommand, IMPORT_USAGE, type ConvertIo } from "./import.ts";
import { exportCommand, EXPORT_USAGE } from "./export.ts";
import { readInput } from "./read-input.ts";

const USAGE = `tollgate ${TOLLGATE_VERSION}: error budgets decide what ships

Usage: tollgate <command> [flags]

Commands:
  controller   run the operator
  crds         print the CRD and the freeze admission policy (or write them with --out DIR)
  dashboard    print Tollgate's Grafana dashboard (JSON, to import or provision)
  rules        print a profile file's recording rules and alerts, and Tollgate's own alerts, for
               a rules pipeline of your own
  import       print PerformanceProfiles from OpenSLO v1 or Sloth prometheus/v1 files
  export       print a profile file's PerformanceProfiles as OpenSLO v1 documents
  version      print the version

Run 'tollgate <command> --help' for a command's flags.
`;

const CONTROLLER_USAGE = `Usage: tollgate controller [flags]

Flags (each falls back to the environment variable named):
  --kubeconfig PATH      kubeconfig to use; in-cluster or ~/.kube/config otherwise  (KUBECONFIG)
  --namespace NS         watch only this namespace; all namespaces when empty     (TOLLGATE_NAMESPACE)
  --workers N            concurrent reconciles; a pass mostly waits on Prometheus,  (TOLLGATE_WORKERS, ${DEFAULT_WORKERS})
                         so with P profiles evaluated every I seconds and reads
                         taking R seconds, at least P x R / I keep every profile
                         on its interval
  --resync SECONDS       re-deliver every cached object this often               (TOLLGATE_RESYNC_SECONDS, 300)
  --kube-api-qps QPS     Kubernetes API requests per second, on average, of each     (TOLLGATE_KUBE_API_QPS, ${DEFAULT_KUBE_API_RATE.qps})
                         of the operator's clients (controllers and informers; leader
                         election has its own, so it never waits behind them); a watch
                         counts once, when it opens. Requests over it wait their turn
  --kube-api-burst N     requests a client may send at once above --kube-api-qps     (TOLLGATE_KUBE_API_BURST, ${DEFAULT_KUBE_API_RATE.burst})
  --prometheus-url URL   Prometheus for profiles that do not set spec.prometheus   (TOLLGATE_PROMETHEUS_URL)
  --prometheus-timeout SECONDS
                         how long one Prometheus query may take                    (TOLLGATE_PROMETHEUS_TIMEOUT_SECONDS, 10)
  --prometheus-connections FILE
                         named Prometheus connections profiles may use in           (TOLLGATE_PROMETHEUS_CONNECTIONS)
                         spec.prometheus.connection, YAML or JSON:
                         connections: [{name, url, headers, bearerTokenFile,
                         caFile, timeout, insecureSkipVerify}]. Tenant headers
                         (X-Scope-OrgID) and credentials belong here
  --prometheus-allowed-address PATTERN
                         an address profiles may name in spec.prometheus.address,  (TOLLGATE_PROMETHEUS_ALLOWED_ADDRESSES, none)
                         a URL prefix such as https://*.monitoring.svc:9090/;
                         repeatable. Without any, profiles use the default or a
                         connection, and an address is Ready=False EndpointNotAllowed
  --prometheus-profile-header NAME
                         a header profiles may set in spec.prometheus.headers;      (TOLLGATE_PROMETHEUS_PROFILE_HEADERS, none)
                         repeatable
  --notification-allowed-url PATTERN
                         a URL prefix Slack and webhook receivers may call;          (TOLLGATE_NOTIFICATION_ALLOWED_URLS, https://hooks.slack.com/)
                         repeatable; replaces the default
  --read-mode MODE       Direct or RecordingRules, for profiles without              (TOLLGATE_READ_MODE, Direct)
                         spec.prometheus.mode. Direct: queries per SLO and window
                         each cycle. RecordingRules: recording rules, read with two
                         queries per cycle for all profiles on one Prometheus
  --rules-dir DIR        write recording rules to DIR/tollgate_<ns>_<profile>.yaml   (TOLLGATE_RULES_DIR)
                         and POST <prometheus>/-/reload on change, for a Prometheus
                         that loads DIR/*.yaml. When set it wins over the
                         PrometheusRule CRD; without it, rules are PrometheusRule
                         objects <profile>-tollgate-slos owned by the profile, and
                         without that CRD RecordingRules profiles are read Direct.
                         A file outlives a profile deleted while no operator ran.
  --tile DURATION        recording rules record each SLO's events once per tile and   (TOLLGATE_TILE, 5m)
                         sum windows longer than twelve tiles from them once the
                         tiles cover the window, reading every raw sample about once
                         instead of every window's on every evaluation; at least 4x
                         the scrape interval. off: every window read raw
  --pagerduty-url URL    PagerDuty Events API v2 endpoint                          (TOLLGATE_PAGERDUTY_URL, https://events.pagerduty.com/v2/enqueue)
  --allowed-gateway NS/NAME
                         a gateway in another namespace that spec.canary.service.   (TOLLGATE_ALLOWED_GATEWAYS, none)
                         gateways may bind, e.g. istio-system/public-gateway;
                         repeatable. Without any, a profile binds only mesh and
                         gateways in its own namespace; another gateway is
                         Ready=False GatewayNotAllowed
  --allowed-host PATTERN
                         a hostname spec.canary.service.hosts may name besides the  (TOLLGATE_ALLOWED_HOSTS, none)
                         profile's own Service (svc, svc.ns, svc.ns.svc,
                         svc.ns.svc.cluster.local): exact, or *.domain for any name
                         under it; repeatable, on any gateway the profile may bind.
                         Another host is Ready=False HostNotAllowed
  --metrics-addr ADDR    serve /metrics, /healthz, /readyz here; port 0 = any      (TOLLGATE_METRICS_ADDR, :8080)
  --leader-elect BOOL    hold a Lease so only one replica reconciles               (TOLLGATE_LEADER_ELECT, true)
  --leader-election-namespace NS
                         namespace of the Lease                                    (POD_NAMESPACE; else --namespace; else default)
  --leader-election-id NAME
                         name of the Lease                                         (TOLLGATE_LEADER_ELECTION_ID, tollgate-leader)
  --shards N             spread profiles over N shards, each a Lease               (TOLLGATE_SHARDS, 1)
                         <id>-shard-<i>-of-<N>, so several replicas reconcile at
                         once, each the profiles of the shards it holds; replicas
                         share them fairly by member Leases <id>-member-<identity>.
                         1: the one Lease <id>, as without sharding. At most ${MAX_SHARDS};
                         more than 1 needs --leader-elect and an id of at most 63
                         characters (it labels the Leases)
  --log-level LEVEL      trace, debug, info, warn, error                           (TOLLGATE_LOG_LEVEL, info)

Leader election uses a 15 s lease, renewed every 2 s; a leader that cannot renew for 10 s stops
reconciling at once. SIGTERM stops taking work, lets in-flight reconciles finish and releases the lease.
With --shards, each shard's Lease is held the same way, and a dead replica's shards are taken by the
others within 17 s of its last renewal (README, Sharding).
`;

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v;
}

function positiveInt(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, not ${JSON.stringify(raw)}`);
  return n;
}

function bool(flag: string, raw: string): boolean {
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new UsageError(`${flag} must be true or false, not ${JSON.stringify(raw)}`);
}

/** A repeatable flag's values, or else its environment variable's comma-separated list. */
function list(values: string[] | undefined, variable: string): string[] {
  if (values?.length) return values;
  return (env(variable) ?? "").split(",").map((v) => v.trim()).filter((v) => v !== "");
}

function patterns(flag: string, raw: string[]): EndpointPattern[] {
  return raw.map((p) => {
    try {
      return parseEndpointPattern(p);
    } catch (err) {
      throw new UsageError(`${flag}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

/** Undefined when neither the flag nor its variable is given, so the operator's default applies. */
function optionalPatterns(flag: string, values: string[] | undefined, variable: string): EndpointPattern[] | undefined {
  const raw = list(values, variable);
  return raw.length ? patterns(flag, raw) : undefined;
}

async function connectionsFrom(path: string | undefined): Promise<NamedConnection[] | undefined> {
  if (path === undefined) return undefined;
  try {
    return parseConnections(await readFile(path, "utf8"), path);
  } catch (err) {
    throw new UsageError(`--prometheus-connections: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** --allowed-gateway and --allowed-host, repeatable, else their variables' comma-separated lists. */
function canaryScope(gateways: string[] | undefined, hosts: string[] | undefined): CanaryScope {
  try {
    return parseCanaryScope(gateways ?? [env("TOLLGATE_ALLOWED_GATEWAYS") ?? ""], hosts ?? [env("TOLLGATE_ALLOWED_HOSTS") ?? ""]);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

function readMode(raw: string): ReadMode {
  if (raw === "Direct" || raw === "RecordingRules") return raw;
  throw new UsageError(`--read-mode must be Direct or RecordingRules, not ${JSON.stringify(raw)}`);
}

async function controller(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: "string" },
      namespace: { type: "string" },
      workers: { type: "string" },
      resync: { type: "string" },
      "kube-api-qps": { type: "string" },
      "kube-api-burst": { type: "string" },
      "metrics-addr": { type: "string" },
      "prometheus-url": { type: "string" },
      "prometheus-timeout": { type: "string" },
      "prometheus-connections": { type: "string" },
      "prometheus-allowed-address": { type: "string", multiple: true },
      "prometheus-profile-header": { type: "string", multiple: true },
      "notification-allowed-url": { type: "string", multiple: true },
      "pagerduty-url": { type: "string" },
      "allowed-gateway": { type: "string", multiple: true },
      "allowed-host": { type: "string", multiple: true },
      "read-mode": { type: "string" },
      "rules-dir": { type: "string" },
      tile: { type: "string" },
      "leader-elect": { type: "string" },
      "leader-election-namespace": { type: "string" },
      "leader-election-id": { type: "string" },
      shards: { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(CONTROLLER_USAGE);
    return;
  }
  const logger = createLogger(values["log-level"] ?? env("TOLLGATE_LOG_LEVEL"));
  const namespace = values.namespace ?? env("TOLLGATE_NAMESPACE");
  const leaderElect = bool("--leader-elect", values["leader-elect"] ?? env("TOLLGATE_LEADER_ELECT") ?? "true");
  const leaderElectionId = values["leader-election-id"] ?? env("TOLLGATE_LEADER_ELECTION_ID") ?? "tollgate-leader";
  const sharding = shardsFlag(values.shards ?? env("TOLLGATE_SHARDS") ?? "1", leaderElect, leaderElectionId, env("POD_NAME"), env("POD_UID"));
  const operator = createOperator(
    {
      kubeconfig: values.kubeconfig ?? env("KUBECONFIG"),
      namespace,
      workers: positiveInt("--workers", values.workers ?? env("TOLLGATE_WORKERS") ?? String(DEFAULT_WORKERS)),
      resyncMs: positiveInt("--resync", values.resync ?? env("TOLLGATE_RESYNC_SECONDS") ?? "300") * 1000,
      kubeApiRate: kubeApiRateFlags(
        values["kube-api-qps"] ?? env("TOLLGATE_KUBE_API_QPS") ?? String(DEFAULT_KUBE_API_RATE.qps),
        values["kube-api-burst"] ?? env("TOLLGATE_KUBE_API_BURST") ?? String(DEFAULT_KUBE_API_RATE.burst),
      ),
      prometheusUrl: values["prometheus-url"] ?? env("TOLLGATE_PROMETHEUS_URL"),
      prometheusTimeoutMs: positiveInt("--prometheus-timeout", values["prometheus-timeout"] ?? env("TOLLGATE_PROMETHEUS_TIMEOUT_SECONDS") ?? "10") * 1000,
      prometheusConnections: await connectionsFrom(values["prometheus-connections"] ?? env("TOLLGATE_PROMETHEUS_CONNECTIONS")),
      prometheusAllowedAddresses: patterns("--prometheus-allowed-address", list(values["prometheus-allowed-address"], "TOLLGATE_PROMETHEUS_ALLOWED_ADDRESSES")),
      prometheusProfileHeaders: list(values["prometheus-profile-header"], "TOLLGATE_PROMETHEUS_PROFILE_HEADERS"),
      notificationAllowedUrls: optionalPatterns("--notification-allowed-url", values["notification-allowed-url"], "TOLLGATE_NOTIFICATION_ALLOWED_URLS"),
      pagerDutyUrl: values["pagerduty-url"] ?? env("TOLLGATE_PAGERDUTY_URL"),
      ...canaryScope(values["allowed-gateway"], values["allowed-host"]),
      readMode: readMode(values["read-mode"] ?? env("TOLLGATE_READ_MODE") ?? "Direct"),
      rulesDir: values["rules-dir"] ?? env("TOLLGATE_RULES_DIR"),
      tile: tileFlag(values.tile ?? env("TOLLGATE_TILE") ?? DEFAULT_TILE),
      metricsAddr: values["metrics-addr"] ?? env("TOLLGATE_METRICS_ADDR") ?? ":8080",
      leaderElect,
      leaderElectionNamespace: values["leader-election-namespace"] ?? env("POD_NAMESPACE") ?? namespace ?? "default",
      leaderElectionId,
      ...sharding,
    },
    logger,
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    operator.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  await operator.start();
}

function crds(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { out: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) {
    process.stdout.write("Usage: tollgate crds [--out DIR]\n");
    return;
  }
  const files: Array<[string, string]> = [
    ["tollgate.dev_performanceprofiles.yaml", crdYaml()],
    ["tollgate-freeze-policy.yaml", freezePolicyYaml()],
  ];
  if (!values.out) {
    process.stdout.write(files.map(([, yaml]) => yaml).join("---\n"));
    return;
  }
  mkdirSync(values.out, { recursive: true });
  for (const [name, yaml] of files) {
    const file = join(values.out, name);
    writeFileSync(file, yaml);
    process.stderr.write(`wrote ${file}\n`);
  }
}

function dashboard(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { help: { type: "boolean", short: "h" } } });
  if (values.help) {
    process.stdout.write("Usage: tollgate dashboard\n\nPrints Tollgate's Grafana dashboard as JSON (dashboards/tollgate.json): every panel reads through\nits datasource variable, so it imports into any Grafana with a Prometheus that scrapes Tollgate.\n");
    return;
  }
  process.stdout.write(dashboardJson());
}

async function rules(argv: string[]): Promise<void> {
  await rulesCommand(argv, {
    read: readInput,
    write: (text) => void process.stdout.write(text),
    help: () => void process.stdout.write(RULES_USAGE),
  });
}

function convertIo(usage: string): ConvertIo {
  return {
    read: readInput,
    write: (text) => void process.stdout.write(text),
    warn: (line) => void process.stderr.write(`${line}\n`),
    help: () => void process.stdout.write(usage),
  };
}


async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "controller":
      return controller(rest);
    case "crds":
      return crds(rest);
    case "rules":
      return rules(rest);
    case "import":
      return importCommand(rest, convertIo(IMPORT_USAGE));
    case "export":
      return exportCommand(rest, convertIo(EXPORT_USAGE));
    case "dashboard":
      return dashboard(rest);
    case "version":
    case "--version":
      process.stdout.write(`${TOLLGATE_VERSION}\n`);
      return;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || (err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS"))) {
    process.stderr.write(`tollgate: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  // A kubeconfig the operator cannot use is input too: its message names the file and the field.
  if (err instanceof InputError || err instanceof KubeconfigError) {
    process.stderr.write(`tollgate: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`tollgate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
