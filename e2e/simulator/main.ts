// Runs the traffic simulator: node e2e/simulator/main.ts [--port N] [--host H] [--targets-dir D]
//   [--job J] [--workload ns/name=rate[,errorRatio]]... [--exit-with-stdin]
// Prints one JSON line, {"msg":"listening","url":...}, once it accepts requests.

import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { Mesh } from "./mesh.ts";
import { createSimulatorServer } from "./server.ts";
import { removeTargetsFile, writeTargetsFile } from "./targets-file.ts";
import type { WorkloadInput } from "./workload.ts";

function fail(message: string): never {
  process.stderr.write(`simulator: ${message}\n`);
  process.exit(2);
}

function parsePreload(spec: string): { namespace: string; name: string; input: WorkloadInput } {
  const m = /^([^/=]+)\/([^/=]+)=([^,]+)(?:,([^,]+))?$/.exec(spec);
  if (!m) fail(`--workload must look like ns/name=rate[,errorRatio], got ${JSON.stringify(spec)}`);
  const [, namespace = "", name = "", rate = "", errorRatio] = m;
  const input: WorkloadInput = { rate: Number(rate) };
  if (errorRatio !== undefined) input.errorRatio = Number(errorRatio);
  return { namespace, name, input };
}

function hostForUrl(host: string): string {
  // A wildcard address is not one a client can connect to; loopback reaches it.
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    "targets-dir": { type: "string" },
    job: { type: "string", default: "istio-mesh" },
    workload: { type: "string", multiple: true, default: [] },
    // A test runner that dies without stopping its simulators closes their stdin; without this
    // they would linger and stay registered with Prometheus.
    "exit-with-stdin": { type: "boolean", default: false },
  },
  strict: true,
  allowPositionals: false,
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be an integer in [0, 65535], got ${values.port}`);
const targetsDir = values["targets-dir"] ?? process.env.PROMETHEUS_TARGETS_DIR;

const mesh = new Mesh();
for (const spec of values.workload) {
  const { namespace, name, input } = parsePreload(spec);
  try {
    mesh.put(namespace, name, input);
  } catch (err) {
    fail(`--workload ${spec}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const server = createSimulatorServer(mesh);
let targetsFile: string | undefined;

function shutdown(): void {
  if (targetsFile !== undefined) removeTargetsFile(targetsFile);
  targetsFile = undefined;
  server.close();
  server.closeAllConnections();
  process.exit(0);
}

process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
// Also on a crash: a stale file would have Prometheus scrape a dead target forever.
process.on("exit", () => {
  if (targetsFile !== undefined) removeTargetsFile(targetsFile);
});
if (values["exit-with-stdin"]) {
  process.stdin.on("end", shutdown);
  process.stdin.on("close", shutdown);
  process.stdin.resume();
}

server.on("error", (err) => fail(`cannot listen on ${values.host}:${port}: ${err.message}`));
server.listen(port, values.host, () => {
  const address = server.address() as AddressInfo;
  const hostPort = `${hostForUrl(values.host)}:${address.port}`;
  if (targetsDir !== undefined && targetsDir !== "") {
    try {
      targetsFile = writeTargetsFile(targetsDir, address.port, hostPort, values.job);
    } catch (err) {
      fail(`cannot register in ${targetsDir}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  process.stdout.write(JSON.stringify({ msg: "listening", url: `http://${hostPort}` }) + "\n");
});
