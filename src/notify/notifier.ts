import { setTimeout as sleep } from "node:timers/promises";
import { send } from "../http/transport.ts";
import type { Logger } from "pino";
import type { Notification as NotificationSpec } from "../api/notifications.ts";
import type { SecretReader } from "../kube/secrets.ts";
import { pagerDutyPayload, slackPayload, webhookPayload, type Notification } from "./messages.ts";

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

/** How one notification fared at one receiver in one delivery pass. */
export interface DeliveryResult {
  receiver: string;
  type: NotificationSpec["type"];
  event: Notification["event"];
  ok: boolean;
  /**
   * A later pass cannot help either: the receiver refused the request (a 4xx other than 429) or its
   * URL is malformed. A missing Secret key is not permanent: the tenant may create it later.
   */
  permanent: boolean;
  /** Requests sent; 0 when none could be (no secret, bad URL, cancelled first). */
  attempts: number;
  error?: string;
}

export interface DeliverOptions {
  /** Receivers that already accepted this notification in an earlier pass: never told twice. */
  skip?: readonly string[];
  /** Cancels in-flight requests and the wait before a retry, e.g. on shutdown or lost leadership. */
  signal?: AbortSignal;
}

export interface NotifierOptions {
  readSecret: SecretReader;
  logger: Logger;
  pagerDutyUrl?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** Before the one quick retry; default 500 ms. */
  retryDelayMs?: number;
  onResult?: (result: DeliveryResult) => void;
  /**
   * Whether a tenant's URL (Slack's and webhooks', from the profile or its Secret) may be called; the
   * PagerDuty endpoint is the operator's own. Checked again at each delivery, since a Secret may have
   * changed since the profile was last reconciled. Everything is allowed when absent.
   */
  allowed?: (url: string) => boolean;
}

interface Request {
  url: string;
  body: Record<string, unknown>;
}

/** One request's outcome: `retry` when a second try soon may succeed. */
type Attempt = { ok: true } | { ok: false; error: string; retry: boolean; permanent: boolean };

const CANCELLED = { ok: false, error: "delivery cancelled", retry: false, permanent: false } as const;

/**
 * Delivers notifications in one awaited pass per call. The caller (the status outbox) records a
 * notification before delivering it and retries across reconciles, so a pass tries each receiver
 * at most twice and reports per receiver; the Idempotency-Key lets a receiver drop the copy a
 * crash between delivery and the outbox update may send again.
 */
export class Notifier {
  private readonly opts: NotifierOptions;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(opts: NotifierOptions) {
    this.opts = opts;
  }

  /** Delivers `n` to every receiver of `receivers` that listens to n.event and is not in `skip`; one pass, never throws. */
  deliver(receivers: readonly NotificationSpec[], n: Notification, opts: DeliverOptions = {}): Promise<DeliveryResult[]> {
    const skip = new Set(opts.skip ?? []);
    const due = receivers.filter((r) => r.events.includes(n.event) && !skip.has(r.name));
    const pass = Promise.all(due.map(async (r) => this.report(n, await this.deliverTo(r, n, opts.signal))));
    this.inFlight.add(pass);
    void pass.finally(() => this.inFlight.delete(pass));
    return pass;
  }

  /** Waits for every delivery pass under way: for shutdown and tests. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private async deliverTo(receiver: NotificationSpec, n: Notification, signal: AbortSignal | undefined): Promise<DeliveryResult> {
    const result = (a: Attempt, attempts: number): DeliveryResult => ({
      receiver: receiver.name,
      type: receiver.type,
      event: n.event,
      attempts,
      ...(a.ok ? { ok: true, permanent: false } : { ok: false, permanent: a.permanent, error: a.error }),
    });
    let req: Request;
    try {
      req = await this.request(receiver, n);
    } catch (err) {
      return result({ ok: false, error: message(err), retry: false, permanent: false }, 0);
    }
    // Checked here, not left to fetch: its parse error quotes the URL, and a Slack URL is a credential.
    if (!isHttpUrl(req.url)) {
      return result({ ok: false, error: `receiver ${receiver.name} has no valid http(s) URL`, retry: false, permanent: true }, 0);
    }
    if (receiver.type !== "pagerduty" && this.opts.allowed && !this.opts.allowed(req.url)) {
      return result({ ok: false, error: `receiver ${receiver.name}'s URL is not one the operator allows (--notification-allowed-url)`, retry: false, permanent: true }, 0);
    }
    if (signal?.aborted) return result(CANCELLED, 0);
    const first = await this.attempt(req, n.id, signal);
    if (first.ok || !first.retry) return result(first, 1);
    if (!(await this.pause(signal))) return result(CANCELLED, 1);
    return result(await this.attempt(req, n.id, signal), 2);
  }

  private async attempt(req: Request, id: string, signal: AbortSignal | undefined): Promise<Attempt> {
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    let status: number;
    try {
      // Redirects are never followed: an allowed receiver must not forward the call somewhere that is not.
      const res = await send(new URL(req.url), {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": id },
        body: JSON.stringify(req.body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      status = res.status;
      // Read only to free the connection: the status already says whether the receiver took it.
      await res.discard().catch(() => undefined);
    } catch (err) {
      if (signal?.aborted) return CANCELLED;
      if (timeout.aborted) return { ok: false, error: `no answer within ${timeoutMs} ms`, retry: true, permanent: false };
      return { ok: false, error: message(err), retry: true, permanent: false };
    }
    if (status >= 200 && status < 300) return { ok: true };
    if (status >= 300 && status < 400) return { ok: false, error: `HTTP ${status}: redirects are not followed`, retry: false, permanent: true };
    // A 4xx other than 429 will not succeed on retry: the URL or key is wrong, or the body refused.
    const permanent = status >= 400 && status < 500 && status !== 429;
    return { ok: false, error: `HTTP ${status}`, retry: !permanent, permanent };
  }

  /** Waits before the retry; false when cancelled meanwhile. */
  private async pause(signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await sleep(this.opts.retryDelayMs ?? 500, undefined, signal ? { signal } : {});
      return true;
    } catch {
      return false;
    }
  }

  private async request(receiver: NotificationSpec, n: Notification): Promise<Request> {
    const secret = receiver.secretRef
      ? await this.opts.readSecret(n.namespace, receiver.secretRef.name, receiver.secretRef.key)
      : undefined;
    if (receiver.secretRef && !secret) {
      throw new Error(`secret ${n.namespace}/${receiver.secretRef.name} has no key ${receiver.secretRef.key}`);
    }
    switch (receiver.type) {
      case "slack":
        return { url: secret!.trim(), body: slackPayload(n) };
      case "pagerduty":
        return {
          url: this.opts.pagerDutyUrl ?? PAGERDUTY_EVENTS_URL,
          body: pagerDutyPayload(n, secret!.trim(), receiver.severity ?? n.severity),
        };
      case "webhook":
        return { url: (secret ?? receiver.url ?? "").trim(), body: webhookPayload(n) };
    }
  }

  private report(n: Notification, result: DeliveryResult): DeliveryResult {
    const log = { id: n.id, profile: n.profile, namespace: n.namespace, receiver: result.receiver, event: n.event, attempts: result.attempts };
    if (result.ok) this.opts.logger.info(log, "notification sent");
    else this.opts.logger.warn({ ...log, permanent: result.permanent, err: result.error }, "notification failed");
    try {
      this.opts.onResult?.(result);
    } catch (err) {
      // A failing metrics hook must not turn a delivered notification into a thrown pass.
      this.opts.logger.error({ err, receiver: result.receiver }, "notification onResult hook failed");
    }
    return result;
  }
}

function message(err: unknown): string {
  // A transport failure carries Node's own error (ECONNREFUSED, a TLS error) as its cause.
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? err.cause.message : err.message;
}

function isHttpUrl(url: string): boolean {
  const parsed = URL.parse(url);
  return parsed !== null && (parsed.protocol === "http:" || parsed.protocol === "https:");
}
