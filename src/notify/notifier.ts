import type { Logger } from "pino";
import type { Notification as NotificationSpec } from "../api/notifications.ts";
import type { SecretReader } from "../kube/secrets.ts";
import { pagerDutyPayload, slackPayload, webhookPayload, type Notification } from "./messages.ts";

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

export interface DeliveryResult {
  receiver: string;
  type: NotificationSpec["type"];
  event: Notification["event"];
  ok: boolean;
  attempts: number;
  error?: string;
}

export interface NotifierOptions {
  readSecret: SecretReader;
  logger: Logger;
  pagerDutyUrl?: string;
  retries?: number;
  retryBaseMs?: number;
  timeoutMs?: number;
  onResult?: (result: DeliveryResult) => void;
}

/**
 * Delivers notifications without ever blocking a reconcile: `send` queues and returns; delivery
 * retries with backoff in the background. The policy decides when a transition deserves a message,
 * so each transition is sent once here.
 */
export class Notifier {
  private readonly opts: NotifierOptions;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(opts: NotifierOptions) {
    this.opts = opts;
  }

  send(receivers: readonly NotificationSpec[], n: Notification): void {
    for (const receiver of receivers) {
      if (!receiver.events.includes(n.event)) continue;
      const p = this.deliver(receiver, n).then((result) => {
        this.opts.onResult?.(result);
        const log = { profile: n.profile, namespace: n.namespace, receiver: receiver.name, event: n.event, attempts: result.attempts };
        if (result.ok) this.opts.logger.info(log, "notification sent");
        else this.opts.logger.warn({ ...log, err: result.error }, "notification failed");
      });
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }
  }

  /** Waits for every queued delivery: for shutdown and tests. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private async deliver(receiver: NotificationSpec, n: Notification): Promise<DeliveryResult> {
    const base = { receiver: receiver.name, type: receiver.type, event: n.event };
    let target: { url: string; body: Record<string, unknown> };
    try {
      target = await this.target(receiver, n);
    } catch (err) {
      return { ...base, ok: false, attempts: 0, error: err instanceof Error ? err.message : String(err) };
    }
    const retries = this.opts.retries ?? 4;
    let error = "";
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      try {
        const res = await fetch(target.url, {
          method: "POST",
          headers: { "Content-Type": "application/json", "User-Agent": "tollgate" },
          body: JSON.stringify(target.body),
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
        });
        await res.arrayBuffer();
        if (res.ok) return { ...base, ok: true, attempts: attempt };
        error = `HTTP ${res.status}`;
        // 4xx other than 429 will not succeed on retry: the URL or key is wrong.
        if (res.status < 500 && res.status !== 429) return { ...base, ok: false, attempts: attempt, error };
      } catch (err) {
        error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      }
      if (attempt <= retries) await new Promise((r) => setTimeout(r, (this.opts.retryBaseMs ?? 1_000) * 2 ** (attempt - 1)));
    }
    return { ...base, ok: false, attempts: retries + 1, error };
  }

  private async target(receiver: NotificationSpec, n: Notification): Promise<{ url: string; body: Record<string, unknown> }> {
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
}
