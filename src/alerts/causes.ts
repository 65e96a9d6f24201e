/**
 * Pure: what an alert is about, from what the monitor read. Each cause has a
 * dedupe key (one alert per key per period), a severity, a one-line summary
 * and facts — domains, host names, counts, file labels; never an address,
 * a subject or anything from a message.
 */

export type AlertKind = 'posture-downgrade' | 'tls-failures' | 'dlp-blocks' | 'queue-backlog' | 'queue-age' | 'low-disk' | 'audit-chain' | 'certificate-expiry' | 'sender-burst';

export interface AlertCause {
  readonly kind: AlertKind;
  /** One alert per key per period, e.g. `posture-downgrade:example.org`. */
  readonly key: string;
  readonly severity: 'warning' | 'critical';
  /** One line, PHI-free. */
  readonly summary: string;
  readonly facts: Readonly<Record<string, string | number>>;
}

export interface AuditSignal {
  readonly type: string;
  readonly data: unknown;
}

/** Most posture-downgrade causes one pass raises (distinct domains); the rest wait for the next. */
const MAX_DOMAINS_PER_PASS = 20;

function field(data: unknown, name: string): string {
  const v = (data as Record<string, unknown> | null)?.[name];
  return typeof v === 'string' ? v : '';
}

/** Posture downgrades (one cause per domain) and DLP blocks (one cause) among new audit events. */
export function causesFromAudit(rows: readonly AuditSignal[]): AlertCause[] {
  const downgrades = new Map<string, { remembered: string; mx: string; messages: number }>();
  let blocked = 0;
  const bursts = new Map<string, { connector: string; senderDomain: string; messages: number }>();
  for (const r of rows) {
    if (r.type === 'ingress:rate_limited' && field(r.data, 'limit') === 'burst.newRecipients') {
      // one cause per sender (its keyed hash): the alert names the domain and connector, never the address
      const sender = field(r.data, 'senderHash') || field(r.data, 'senderDomain');
      const seen = bursts.get(sender);
      if (seen) seen.messages++;
      else if (bursts.size < MAX_DOMAINS_PER_PASS) bursts.set(sender, { connector: field(r.data, 'connector'), senderDomain: field(r.data, 'senderDomain'), messages: 1 });
      continue;
    }
    if (r.type === 'delivery:posture_downgrade') {
      const domain = field(r.data, 'domain');
      const seen = downgrades.get(domain);
      if (seen) seen.messages++;
      else if (downgrades.size < MAX_DOMAINS_PER_PASS) downgrades.set(domain, { remembered: field(r.data, 'remembered'), mx: field(r.data, 'mx'), messages: 1 });
    } else if (r.type === 'inspect:verdict') {
      const methods = (r.data as { methods?: unknown } | null)?.methods;
      if (Array.isArray(methods) && methods.includes('block')) blocked++;
    }
  }
  const out: AlertCause[] = [...downgrades].map(([domain, d]) => ({
    kind: 'posture-downgrade',
    key: `posture-downgrade:${domain}`,
    severity: 'critical',
    summary: `transport security of ${domain} fell below what it showed before (${d.remembered}); protected mail to it is held`,
    facts: { domain, remembered: d.remembered, mx: d.mx, messages: d.messages },
  }));
  for (const [sender, b] of bursts) {
    out.push({
      kind: 'sender-burst',
      key: `sender-burst:${sender}`,
      severity: 'warning',
      summary: `a sender at ${b.senderDomain || 'an unknown domain'} suddenly mailed many new external recipients through connector ${b.connector}; ${b.messages} message(s) held for review`,
      facts: { connector: b.connector, senderDomain: b.senderDomain, senderHash: sender, messages: b.messages },
    });
  }
  if (blocked > 0) out.push({ kind: 'dlp-blocks', key: 'dlp-blocks', severity: 'warning', summary: `${blocked} message(s) blocked by the DLP policy`, facts: { messages: blocked } });
  return out;
}

/** Pure: the sum of the samples within the last `windowMs` (the samples kept are the caller's to trim). */
export function windowSum(samples: readonly { at: number; n: number }[], now: number, windowMs: number): number {
  return samples.filter((s) => now - s.at < windowMs).reduce((a, s) => a + s.n, 0);
}

export function tlsFailureCause(failures: number, threshold: number, periodMs: number): AlertCause | undefined {
  if (threshold === 0 || failures < threshold) return undefined;
  return {
    kind: 'tls-failures',
    key: 'tls-failures',
    severity: 'warning',
    summary: `${failures} delivery attempts failed their required transport security in the last ${Math.round(periodMs / 60_000)} min`,
    facts: { attempts: failures, threshold },
  };
}

export interface QueueFigures {
  /** Recipients queued or deferred. */
  readonly backlog: number;
  /** ms the oldest message with an active recipient has waited; undefined: none. */
  readonly oldestAgeMs: number | undefined;
}

export function queueCauses(q: QueueFigures, t: { queueBacklog: number; oldestMessage: number }): AlertCause[] {
  const out: AlertCause[] = [];
  if (t.queueBacklog > 0 && q.backlog > t.queueBacklog) {
    out.push({ kind: 'queue-backlog', key: 'queue-backlog', severity: 'warning', summary: `${q.backlog} recipients wait in the queue (threshold ${t.queueBacklog})`, facts: { recipients: q.backlog, threshold: t.queueBacklog } });
  }
  if (t.oldestMessage > 0 && q.oldestAgeMs !== undefined && q.oldestAgeMs > t.oldestMessage) {
    const minutes = Math.floor(q.oldestAgeMs / 60_000);
    out.push({ kind: 'queue-age', key: 'queue-age', severity: 'warning', summary: `the oldest message has waited ${minutes} min for delivery`, facts: { minutes, thresholdMinutes: Math.floor(t.oldestMessage / 60_000) } });
  }
  return out;
}

export function lowDiskCause(disk: { ok: boolean; availableBytes: number; minFreeBytes: number }): AlertCause | undefined {
  if (disk.ok) return undefined;
  return {
    kind: 'low-disk',
    key: 'low-disk',
    severity: 'critical',
    summary: `the spool disk is low on space (${Math.floor(disk.availableBytes / 1_048_576)} MiB free): new mail gets 452 4.3.1`,
    facts: { freeMiB: Math.floor(disk.availableBytes / 1_048_576), minFreeMiB: Math.floor(disk.minFreeBytes / 1_048_576) },
  };
}

export function auditChainCause(result: { ok: true } | { ok: false; brokenAt: number; reason: string }): AlertCause | undefined {
  if (result.ok) return undefined;
  return {
    kind: 'audit-chain',
    key: 'audit-chain',
    severity: 'critical',
    summary: `the audit chain does not verify at event #${result.brokenAt} (${result.reason}): run "sealgate audit verify"`,
    facts: { brokenAt: result.brokenAt, reason: result.reason },
  };
}

export interface CertificateFact {
  /** Which certificate, e.g. `smtp.listeners[relay]`, `portal`, `admin`. */
  readonly label: string;
  readonly notAfter: number;
}

export function certificateCauses(certs: readonly CertificateFact[], now: number, withinMs: number): AlertCause[] {
  if (withinMs === 0) return [];
  return certs
    .filter((c) => c.notAfter - now < withinMs)
    .map((c) => {
      const days = Math.floor((c.notAfter - now) / 86_400_000);
      const expired = c.notAfter <= now;
      return {
        kind: 'certificate-expiry',
        key: `certificate-expiry:${c.label}`,
        severity: expired || days < 7 ? 'critical' : 'warning',
        summary: expired ? `the ${c.label} certificate has expired` : `the ${c.label} certificate expires in ${days} day(s)`,
        facts: { certificate: c.label, notAfter: new Date(c.notAfter).toISOString(), days },
      } satisfies AlertCause;
    });
}

/** Pure: send now, or count it as a repeat within the period. */
export function dedupe(last: { sentAt: number } | undefined, now: number, periodMs: number): 'send' | 'suppress' {
  return last === undefined || now - last.sentAt >= periodMs ? 'send' : 'suppress';
}
