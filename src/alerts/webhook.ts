/**
 * Alert webhooks: a JSON POST over verified HTTPS (the gateway's resolver
 * and trusted CAs, like TLS-RPT uploads), retried a bounded number of times.
 * The retry schedule is pure; the monitor keeps the pending posts.
 */
import type { DnsResolver } from '../delivery/dns.js';
import { httpsPost } from '../net/https-client.js';
import type { AlertJson } from './message.js';

/** Delay before each attempt after the first (ms): 3 attempts in all. */
export const WEBHOOK_RETRY_DELAYS = [30_000, 120_000] as const;
/** Most posts waiting for a retry; past it the oldest is given up (and audited). */
export const MAX_PENDING_WEBHOOKS = 100;

export interface WebhookDeps {
  readonly resolver: DnsResolver;
  readonly trustedCas: readonly string[];
  readonly timeoutMs?: number;
}

/** Pure: when the next attempt is due after `attempt` (1-based) failed at `now`; undefined: give up. */
export function nextWebhookAttempt(attempt: number, now: number): number | undefined {
  const delay = WEBHOOK_RETRY_DELAYS[attempt - 1];
  return delay === undefined ? undefined : now + delay;
}

/** One POST; `status` is the HTTP status or a failure kind (resolve, connect, certificate, timeout, too-large). */
export async function postAlert(url: string, body: AlertJson, deps: WebhookDeps): Promise<{ ok: boolean; status: string }> {
  try {
    const r = await httpsPost(url, 'application/json', Buffer.from(JSON.stringify(body)), { resolver: deps.resolver, trustedCas: deps.trustedCas, timeoutMs: deps.timeoutMs ?? 15_000, maxResponseBytes: 16 * 1024 });
    return { ok: r.ok, status: r.status };
  } catch {
    return { ok: false, status: 'error' };
  }
}
