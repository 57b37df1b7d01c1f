// Lease terms as the audit log shows them, and which writes fell outside their writer's term.

import { RESOURCES, succeeded, type Write } from "./audit.ts";

export interface LeaseRecord {
  at: number;
  holder: string;
  credential?: string;
  durationMs: number;
}

/** One holder's continuous tenure: from the write that made it holder to the end of its last renewal's lease (or the next holder's write, if sooner). */
export interface Term {
  holder: string;
  from: number;
  to: number;
  /** The last renewal in the term. */
  lastRenewal: number;
}

interface LeaseSpec {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number };
}

/** Successful writes of the Lease `namespace/name`, as holder records, oldest first. */
export function leaseRecords(writes: readonly Write[], namespace: string, name: string): LeaseRecord[] {
  return writes
    .filter((w) => w.resource === RESOURCES.leases && w.namespace === namespace && w.name === name && succeeded(w) && w.verb !== "delete")
    .map((w) => {
      const obj = (w.responseObject ?? w.requestObject) as LeaseSpec | undefined;
      return {
        at: w.at,
        holder: obj?.spec?.holderIdentity ?? "",
        ...(w.credential ? { credential: w.credential } : {}),
        durationMs: (obj?.spec?.leaseDurationSeconds ?? 15) * 1000,
      };
    })
    .sort((a, b) => a.at - b.at);
}

/** The terms the records describe. A write naming nobody (a release) ends the term at once. */
export function terms(records: readonly LeaseRecord[]): Term[] {
  const out: Term[] = [];
  let cur: Term | undefined;
  let validUntil = 0;
  for (const r of records) {
    if (cur && r.holder === cur.holder && r.at <= validUntil) {
      cur.lastRenewal = r.at;
      validUntil = r.at + r.durationMs;
      cur.to = validUntil;
      continue;
    }
    if (cur) {
      cur.to = Math.min(validUntil, r.at);
      out.push(cur);
      cur = undefined;
    }
    if (r.holder !== "") {
      cur = { holder: r.holder, from: r.at, to: r.at + r.durationMs, lastRenewal: r.at };
      validUntil = r.at + r.durationMs;
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** Which lease identity each credential wrote the Lease as, over time: credential → [(at, holder)]. */
export function identities(records: readonly LeaseRecord[]): Map<string, Array<{ at: number; holder: string }>> {
  const map = new Map<string, Array<{ at: number; holder: string }>>();
  for (const r of records) {
    if (!r.credential || r.holder === "") continue;
    const list = map.get(r.credential) ?? [];
    if (list.at(-1)?.holder !== r.holder) list.push({ at: r.at, holder: r.holder });
    map.set(r.credential, list);
  }
  return map;
}

export interface TermViolation {
  write: Write;
  writer: string | undefined;
  /** Who held the lease when the write landed, per the terms. */
  holderThen: string | undefined;
  why: string;
}

export const JUDGED_RESOURCES: readonly string[] = [
  RESOURCES.deployments,
  RESOURCES.profiles,
  RESOURCES.virtualServices,
  RESOURCES.destinationRules,
  RESOURCES.hpas,
  RESOURCES.events,
];

/**
 * Every successful write by `operatorUser` in `namespace` to a judged resource must come from the
 * credential of the identity holding the lease at that moment, give or take `slackMs` of clock.
 * The writer's identity is the one its credential wrote the Lease as (the audit log records a
 * service account token's JTI as the credential id).
 */
export function writesOutsideTerms(
  writes: readonly Write[],
  opts: { operatorUser: string; namespace: string; lease: { namespace: string; name: string }; slackMs: number },
): TermViolation[] {
  const records = leaseRecords(writes, opts.lease.namespace, opts.lease.name);
  const allTerms = terms(records);
  const ids = identities(records);
  const holderAt = (t: number) => allTerms.find((x) => x.from <= t && t <= x.to)?.holder;
  const out: TermViolation[] = [];
  for (const w of writes) {
    if (w.user !== opts.operatorUser || w.namespace !== opts.namespace || !succeeded(w)) continue;
    if (!JUDGED_RESOURCES.includes(w.resource)) continue;
    if (!w.credential) {
      out.push({ write: w, writer: undefined, holderThen: holderAt(w.at), why: "the audit log names no credential for this write, so its writer cannot be told apart" });
      continue;
    }
    const history = ids.get(w.credential) ?? [];
    const writer = [...history].reverse().find((h) => h.at <= w.at + opts.slackMs)?.holder;
    if (writer === undefined) {
      out.push({ write: w, writer, holderThen: holderAt(w.at), why: `credential ${w.credential} had never written the Lease as its holder` });
      continue;
    }
    const inTerm = allTerms.some((x) => x.holder === writer && x.from - opts.slackMs <= w.at && w.at <= x.to + opts.slackMs);
    if (!inTerm) out.push({ write: w, writer, holderThen: holderAt(w.at), why: `${writer} did not hold the lease then` });
  }
  return out;
}
