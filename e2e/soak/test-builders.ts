// Small hand-made runs for the checker's unit tests.

import type { AuditEvent, Write } from "./audit.ts";
import { Counters, type RawSeries } from "./budget.ts";
import type { FaultRecord, Meta, ReceiverRecord, RssSample, RunData, StatusSample } from "./run.ts";
import { toProfile } from "./run.ts";

export const NS = "soak";
export const OPERATOR = "system:serviceaccount:soak:tollgate-soak";
export const T0 = Date.parse("2026-11-29T21:00:00Z");
export const at = (s: number) => new Date(T0 + s * 1000).toISOString();

/** An audit line as the API server writes it. */
export function auditLine(e: Partial<AuditEvent> & { verb: string; resource: string; name?: string; t: number; credential?: string; user?: string; subresource?: string; apiGroup?: string; namespace?: string }): string {
  const ts = new Date(T0 + e.t * 1000).toISOString().replace("Z", "123Z");
  return JSON.stringify({
    kind: "Event",
    apiVersion: "audit.k8s.io/v1",
    level: "RequestResponse",
    stage: "ResponseComplete",
    verb: e.verb,
    user: { username: e.user ?? OPERATOR, ...(e.credential ? { extra: { "authentication.kubernetes.io/credential-id": [`JTI=${e.credential}`] } } : {}) },
    objectRef: { resource: e.resource, namespace: e.namespace ?? NS, name: e.name, ...(e.apiGroup ? { apiGroup: e.apiGroup } : {}), ...(e.subresource ? { subresource: e.subresource } : {}) },
    responseStatus: e.responseStatus ?? { code: 200 },
    ...(e.requestObject !== undefined ? { requestObject: e.requestObject } : {}),
    ...(e.responseObject !== undefined ? { responseObject: e.responseObject } : {}),
    requestReceivedTimestamp: ts,
    stageTimestamp: ts,
  });
}

export function w(partial: Partial<Write> & { at: number; resource: string }): Write {
  return { verb: "patch", user: OPERATOR, namespace: NS, code: 200, ...partial, at: T0 + partial.at * 1000 };
}

export const lease = (t: number, holder: string, credential: string): Write =>
  w({ at: t, verb: "update", resource: "leases.coordination.k8s.io", name: "tollgate-leader", credential: `JTI=${credential}`, responseObject: { spec: { holderIdentity: holder, leaseDurationSeconds: 15 } } });

/** A counter growing at `perS` from t0 to t1 (seconds from T0), one sample a second. */
export function counter(metric: Record<string, string>, t0: number, t1: number, perS: (t: number) => number, start = 0): RawSeries {
  const samples: Array<[number, number]> = [];
  let v = start;
  for (let t = t0; t <= t1; t++) {
    samples.push([T0 + t * 1000, v]);
    v += perS(t);
  }
  return { metric, samples };
}

export function requests(workload: string, code: string, t0: number, t1: number, perS: (t: number) => number): RawSeries {
  return counter({ destination_workload_namespace: NS, destination_workload: workload, response_code: code }, t0, t1, perS);
}

export const budgetProfile = (name: string, policy: Record<string, unknown> = {}): Meta["profiles"][number] => ({
  name,
  mode: "budget",
  spec: {
    targetRef: { name },
    slos: [{ name: "availability", objective: 99.5, window: "1m", indicator: { istio: { kind: "availability" } } }],
    policy: { evaluationInterval: "5s", minEvents: 100, ...policy },
  },
});

export function run(parts: {
  profiles?: Meta["profiles"];
  writes?: Write[];
  faults?: FaultRecord[];
  receiver?: ReceiverRecord[];
  rss?: RssSample[];
  statuses?: StatusSample[];
  requests?: RawSeries[];
  buckets?: RawSeries[];
  activeFrom?: number;
  activeTo?: number;
  stoppedAt?: number;
}): RunData {
  const meta: Meta = {
    namespace: NS,
    seed: 1,
    minutes: 5,
    activeFrom: at(parts.activeFrom ?? 0),
    activeTo: at(parts.activeTo ?? 300),
    operatorsStoppedAt: at(parts.stoppedAt ?? parts.activeTo ?? 300),
    operatorUser: OPERATOR,
    lease: { namespace: NS, name: "tollgate-leader" },
    profiles: parts.profiles ?? [],
  };
  return {
    meta,
    profiles: meta.profiles.map(toProfile),
    writes: (parts.writes ?? []).sort((a, b) => a.at - b.at),
    faults: parts.faults ?? [],
    receiver: parts.receiver ?? [],
    rss: parts.rss ?? [],
    statuses: parts.statuses ?? [],
    counters: new Counters(parts.requests ?? [], parts.buckets ?? []),
  };
}
