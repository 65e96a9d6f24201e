/**
 * Pure: an alert as a mail (through the queue, null sender) and as the JSON
 * a webhook gets. Both carry the cause's summary and facts only.
 */
import MimeNode from 'nodemailer/lib/mime-node';
import { rfc5322Date } from '../delivery/dsn.js';
import type { AlertCause } from './causes.js';

/** What the admin should do next, per kind. */
export const NEXT_STEP: Readonly<Record<AlertCause['kind'], string>> = {
  'posture-downgrade': 'Check the domain with "sealgate probe DOMAIN"; if the change is expected, accept it with "sealgate probe accept DOMAIN" (docs/transport-security.md).',
  'tls-failures': 'See which domains fail with "sealgate queue list" and "sealgate probe DOMAIN" (docs/transport-security.md).',
  'dlp-blocks': 'Review the blocked messages with "sealgate audit tail" and the archive (docs/dlp.md).',
  'queue-backlog': 'See what waits and why with "sealgate queue summary" and "sealgate queue list" (docs/queue.md).',
  'queue-age': 'See what waits and why with "sealgate queue list" and "sealgate queue show ID" (docs/queue.md).',
  'low-disk': 'Free space on the data directory\'s file system or lower smtp.minFreeBytes (docs/deployment.md).',
  'audit-chain': 'Run "sealgate audit verify" and "sealgate archive verify"; restore from a backup if rows were altered (docs/audit.md).',
  'sender-burst': 'Review the held mail with "sealgate queue list --held"; release it with "sealgate queue release ID" or bounce it; check whether the sender\'s account is compromised (docs/rate-limits.md).',
  'certificate-expiry': 'Renew the certificate and send SIGHUP to the daemon (docs/deployment.md).',
};

export interface AlertEnvelope {
  readonly cause: AlertCause;
  readonly hostname: string;
  readonly now: number;
  /** Repeats of this cause counted (not sent) since the last alert. */
  readonly suppressed: number;
}

export function alertText(a: AlertEnvelope): string {
  const lines = [
    `Sealgate at ${a.hostname} raised a ${a.cause.severity} alert:`,
    '',
    `  ${a.cause.summary}`,
    '',
    ...Object.entries(a.cause.facts).map(([k, v]) => `  ${k}: ${v}`),
  ];
  if (a.suppressed > 0) lines.push(`  repeats since the last alert: ${a.suppressed}`);
  lines.push('', `What to do: ${NEXT_STEP[a.cause.kind]}`, '', `Raised at ${new Date(a.now).toISOString()}. One alert per cause per period (alerts.period).`);
  return `${lines.join('\r\n')}\r\n`;
}

export async function buildAlertMail(a: AlertEnvelope & { to: readonly string[]; messageId: string }): Promise<Buffer> {
  const root = new MimeNode('text/plain; charset=utf-8');
  root.setHeader({
    From: `Sealgate alerts <postmaster@${a.hostname}>`,
    To: a.to.map((x) => `<${x}>`).join(', '),
    Subject: `[Sealgate ${a.cause.severity}] ${a.cause.summary}`.slice(0, 200),
    Date: rfc5322Date(a.now),
    'Message-ID': a.messageId,
    'Auto-Submitted': 'auto-generated',
    'X-Sealgate-Alert': a.cause.kind,
  });
  root.setContent(alertText(a));
  return root.build();
}

export interface AlertJson {
  readonly gateway: string;
  readonly kind: AlertCause['kind'];
  readonly key: string;
  readonly severity: AlertCause['severity'];
  readonly summary: string;
  readonly facts: AlertCause['facts'];
  readonly suppressed: number;
  readonly raisedAt: string;
  readonly nextStep: string;
}

export function alertJson(a: AlertEnvelope): AlertJson {
  return {
    gateway: a.hostname,
    kind: a.cause.kind,
    key: a.cause.key,
    severity: a.cause.severity,
    summary: a.cause.summary,
    facts: a.cause.facts,
    suppressed: a.suppressed,
    raisedAt: new Date(a.now).toISOString(),
    nextStep: NEXT_STEP[a.cause.kind],
  };
}
