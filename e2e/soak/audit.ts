// The kube-apiserver's audit log (JSON lines, audit.k8s.io/v1 Events), as e2e/cluster/cluster.sh has it
// written: writes only, with the object written for the resources the checker judges. This module turns
// its lines into plain write records; it knows nothing of Tollgate.

export interface AuditUser {
  username: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The fields of an audit.k8s.io/v1 Event the checker reads. */
export interface AuditEvent {
  auditID?: string;
  stage?: string;
  verb: string;
  user: AuditUser;
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string; apiGroup?: string };
  responseStatus?: { code?: number };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
}

export interface Write {
  /** When the API server finished the request (stageTimestamp), epoch ms. */
  at: number;
  verb: string;
  user: string;
  /** The credential the request was made with: a service account token's JTI, when the server records one. */
  credential?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  code: number;
  requestObject?: unknown;
  responseObject?: unknown;
}

const CREDENTIAL_ID = "authentication.kubernetes.io/credential-id";

/** Microsecond timestamps ("2026-11-29T20:51:02.123456Z") to epoch ms, keeping the fraction. */
export function parseTime(ts: string | undefined): number {
  if (!ts) return NaN;
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return Date.parse(ts);
  const whole = Date.parse(`${m[1]}${m[3]}`);
  return whole + (m[2] ? Number(m[2]) * 1000 : 0);
}

/** One audit line to a write record; undefined for lines that are not a completed write. */
export function toWrite(e: AuditEvent): Write | undefined {
  if (e.stage !== undefined && e.stage !== "ResponseComplete") return undefined;
  if (!["create", "update", "patch", "delete"].includes(e.verb)) return undefined;
  const ref = e.objectRef ?? {};
  const credential = e.user.extra?.[CREDENTIAL_ID]?.[0];
  return {
    at: parseTime(e.stageTimestamp ?? e.requestReceivedTimestamp),
    verb: e.verb,
    user: e.user.username,
    ...(credential ? { credential } : {}),
    resource: ref.apiGroup ? `${ref.resource ?? ""}.${ref.apiGroup}` : (ref.resource ?? ""),
    ...(ref.subresource ? { subresource: ref.subresource } : {}),
    ...(ref.namespace ? { namespace: ref.namespace } : {}),
    ...(ref.name ? { name: ref.name } : {}),
    code: e.responseStatus?.code ?? 0,
    ...(e.requestObject !== undefined ? { requestObject: e.requestObject } : {}),
    ...(e.responseObject !== undefined ? { responseObject: e.responseObject } : {}),
  };
}

/** Parses audit log text; lines that are not JSON are skipped (a line cut by a crash). Sorted by time. */
export function parseAuditLog(text: string): Write[] {
  const out: Write[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let e: AuditEvent;
    try {
      e = JSON.parse(line) as AuditEvent;
    } catch {
      continue;
    }
    const w = toWrite(e);
    if (w && Number.isFinite(w.at)) out.push(w);
  }
  return out.sort((a, b) => a.at - b.at);
}

export const succeeded = (w: Write): boolean => w.code >= 200 && w.code < 300;

export const RESOURCES = {
  deployments: "deployments.apps",
  profiles: "performanceprofiles.tollgate.dev",
  virtualServices: "virtualservices.networking.istio.io",
  destinationRules: "destinationrules.networking.istio.io",
  hpas: "horizontalpodautoscalers.autoscaling",
  leases: "leases.coordination.k8s.io",
  events: "events",
} as const;
