/**
 * SMTP TLS reporting (RFC 8460): every delivery session's TLS outcome is
 * counted per UTC day, recipient domain, policy type and MX (table
 * `tlsrpt_counts`), and a day's counts for a domain become the JSON report
 * the RFC defines (gzip-compressed for sending). Pure builders; the counter
 * writes in the caller's transaction.
 */
import { gzipSync } from 'node:zlib';
import type { SqlQueryable } from '../db/sql-database.js';

export type PolicyType = 'sts' | 'tlsa' | 'no-policy-found';

/** RFC 8460 §4.3 result types used here, plus 'success'. */
export type TlsResultType =
  | 'success'
  | 'starttls-not-supported'
  | 'certificate-host-mismatch'
  | 'certificate-expired'
  | 'certificate-not-trusted'
  | 'validation-failure'
  | 'sts-policy-fetch-error'
  | 'sts-policy-invalid'
  | 'sts-webpki-invalid'
  | 'tlsa-invalid'
  | 'dnssec-invalid'
  | 'dane-required';

/** Pure: a TLS failure description (our session error text) → RFC 8460 result type. */
export function classifyTlsFailure(text: string): TlsResultType {
  // DANE first: its failure texts also say "does not match"
  if (/DANE verification failed/i.test(text)) return 'validation-failure';
  if (/DANE required/i.test(text)) return 'dane-required';
  if (/ALTNAME|does not match|Hostname\/IP does not match|host.?name/i.test(text)) return 'certificate-host-mismatch';
  if (/EXPIRED|not yet valid|CERT_NOT_YET_VALID/i.test(text)) return 'certificate-expired';
  if (/SELF_SIGNED|self.signed|unable to (get|verify)|UNABLE_TO_|unknown ca|untrusted|CERT_UNTRUSTED/i.test(text)) return 'certificate-not-trusted';
  if (/STARTTLS|not encrypted|upgrading connection/i.test(text)) return 'starttls-not-supported';
  return 'validation-failure';
}

/** UTC day of a timestamp, YYYY-MM-DD. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface TlsResult {
  readonly day: string;
  readonly domain: string;
  readonly policyType: PolicyType;
  readonly mx: string;
  readonly resultType: TlsResultType;
}

/** Counts one result; the SET names the table (PostgreSQL calls a bare `count` ambiguous beside EXCLUDED). */
export async function countTlsResult(tx: SqlQueryable, r: TlsResult): Promise<void> {
  await tx.run(
    `INSERT INTO tlsrpt_counts (day, domain, policy_type, mx, result_type, count) VALUES (?, ?, ?, ?, ?, 1)
     ON CONFLICT (day, domain, policy_type, mx, result_type) DO UPDATE SET count = tlsrpt_counts.count + 1`,
    [r.day, r.domain, r.policyType, r.mx, r.resultType],
  );
}

export interface CountRow {
  readonly policy_type: PolicyType;
  readonly mx: string;
  readonly result_type: TlsResultType;
  readonly count: number;
}

export async function countsFor(db: SqlQueryable, domain: string, day: string): Promise<CountRow[]> {
  return db.all<CountRow>('SELECT policy_type, mx, result_type, count FROM tlsrpt_counts WHERE domain = ? AND day = ? ORDER BY policy_type, mx, result_type', [domain, day]);
}

export interface ReportInput {
  readonly domain: string;
  readonly day: string;
  readonly organization: string;
  readonly contact: string;
  readonly reportId: string;
  readonly rows: readonly CountRow[];
  /** The policy strings (MTA-STS policy lines or TLSA records) per policy type, when known. */
  readonly policyStrings?: Partial<Record<PolicyType, readonly string[]>>;
}

/** Pure: RFC 8460 §4.4 JSON report for one domain and day. */
export function buildTlsRptReport(input: ReportInput): Record<string, unknown> {
  const byType = new Map<PolicyType, CountRow[]>();
  for (const row of input.rows) byType.set(row.policy_type, [...(byType.get(row.policy_type) ?? []), row]);
  const policies = [...byType.entries()].map(([type, rows]) => {
    const success = rows.filter((r) => r.result_type === 'success').reduce((n, r) => n + r.count, 0);
    const failures = rows.filter((r) => r.result_type !== 'success');
    return {
      policy: {
        'policy-type': type,
        ...(input.policyStrings?.[type] ? { 'policy-string': input.policyStrings[type] } : {}),
        'policy-domain': input.domain,
        'mx-host': [...new Set(rows.map((r) => r.mx))].sort(),
      },
      summary: { 'total-successful-session-count': success, 'total-failure-session-count': failures.reduce((n, r) => n + r.count, 0) },
      ...(failures.length
        ? { 'failure-details': failures.map((r) => ({ 'result-type': r.result_type, 'receiving-mx-hostname': r.mx, 'failed-session-count': r.count })) }
        : {}),
    };
  });
  return {
    'organization-name': input.organization,
    'date-range': { 'start-datetime': `${input.day}T00:00:00Z`, 'end-datetime': `${input.day}T23:59:59Z` },
    'contact-info': input.contact,
    'report-id': input.reportId,
    policies,
  };
}

/** The report as sent: gzip of its JSON (media type application/tlsrpt+gzip). */
export function encodeTlsRptReport(report: Record<string, unknown>): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(report), 'utf8'));
}

/** Pure: `_smtp._tls.<domain>` TXT → the report URIs (RFC 8460 §3: v=TLSRPTv1; rua=…). */
export function parseTlsRptTxt(records: readonly (readonly string[])[]): { mailto: string[]; https: string[] } | undefined {
  const texts = records.map((chunks) => chunks.join('')).filter((t) => /^v=TLSRPTv1\s*;/i.test(t));
  if (texts.length !== 1) return undefined;
  const rua = /(?:^|;)\s*rua=([^;]+)/i.exec(texts[0] ?? '')?.[1];
  if (!rua) return undefined;
  const uris = rua.split(',').map((u) => u.trim()).filter(Boolean);
  return {
    mailto: uris.filter((u) => /^mailto:[^@\s]+@[^@\s]+$/i.test(u)).map((u) => decodeURIComponent(u.slice(7))),
    https: uris.filter((u) => /^https:\/\//i.test(u)),
  };
}
