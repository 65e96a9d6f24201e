/**
 * Sends the daily TLS-RPT reports (RFC 8460 §5.3): for every recipient domain
 * with counts from a finished UTC day, look up `_smtp._tls.<domain>`; when it
 * names mailto: report addresses, queue a multipart/report email with the
 * gzip-compressed JSON report to them, in the same transaction that removes
 * the day's counts (so a report is sent once); `https:` report URIs get the
 * report POSTed (application/tlsrpt+gzip, RFC 8460 §5.2). A domain with
 * only https URIs keeps its counts while every POST fails, for up to
 * HTTPS_RETRY_DAYS. Domains that publish no policy have their counts
 * dropped. Runs at start and then hourly.
 */
import { Readable } from 'node:stream';
import MimeNode from 'nodemailer/lib/mime-node';
import { maybeCommitted, type SqlDatabase } from '../db/sql-database.js';
import type { DnsResolver } from '../delivery/dns.js';
import { httpsPost, type PostOutcome } from '../net/https-client.js';
import { appendAudit, appendAuditEvent } from '../audit/log.js';
import type { Logger } from '../log/logger.js';
import { generateQueueId, type RandomBytes } from '../queue/ids.js';
import { insertQueuedMessage, internalMessage } from '../queue/store.js';
import type { Spool } from '../spool/spool.js';
import { buildTlsRptReport, countsFor, encodeTlsRptReport, parseTlsRptTxt, utcDay } from './tlsrpt.js';

export interface TlsRptEmailInput {
  readonly domain: string;
  readonly day: string;
  readonly reportingHost: string;
  readonly reportId: string;
  readonly to: readonly string[];
  readonly gzip: Buffer;
  readonly now: number;
  readonly messageId: string;
}

/** Pure (apart from MIME boundary generation): the RFC 8460 §5.3 report email. */
export async function buildTlsRptEmail(input: TlsRptEmailInput): Promise<Buffer> {
  const start = Date.parse(`${input.day}T00:00:00Z`) / 1000;
  const end = start + 86_399;
  const root = new MimeNode('multipart/report; report-type="tlsrpt"', { baseBoundary: input.reportId.replace(/[^A-Za-z0-9]/g, '') });
  root.setHeader({
    From: `TLS reporting <tls-reporting@${input.reportingHost}>`,
    To: input.to.map((a) => `<${a}>`).join(', '),
    Subject: `Report Domain: ${input.domain} Submitter: ${input.reportingHost} Report-ID: <${input.reportId}>`,
    Date: new Date(input.now).toUTCString().replace(/GMT$/, '+0000'),
    'Message-ID': input.messageId,
    'TLS-Report-Domain': input.domain,
    'TLS-Report-Submitter': input.reportingHost,
    'Auto-Submitted': 'auto-generated',
  });
  root.createChild('text/plain; charset=utf-8').setContent(`This is an aggregate TLS report (RFC 8460) from ${input.reportingHost} for ${input.domain}, ${input.day} (UTC).\r\n`);
  root
    .createChild('application/tlsrpt+gzip', { filename: `${input.reportingHost}!${input.domain}!${start}!${end}!${input.reportId.replace(/[^A-Za-z0-9]/g, '')}.json.gz` })
    .setContent(input.gzip);
  return root.build();
}

export interface ReporterDeps {
  readonly db: SqlDatabase;
  readonly spool: Spool;
  readonly resolver: DnsResolver;
  readonly log: Logger;
  readonly now: () => number;
  readonly random: RandomBytes;
  readonly hostname: string;
  readonly spoolKeyId: () => string;
  readonly requirement: string;
  /** Called after reports were queued (wakes the delivery engine). */
  readonly onQueued?: () => void;
  /** Extra trusted CAs for https: report URIs (tls.trustedCaFiles). */
  readonly trustedCas?: readonly string[];
  /** Time allowed for one report upload. */
  readonly postTimeoutMs?: number;
  /** Asked before each pass: with several nodes only the one holding the job's lease reports (src/cluster/job-lease.ts). Default: always. */
  readonly mayRun?: () => Promise<boolean>;
}

/** Days a report whose only destinations are https: URIs is retried before its counts are dropped. */
export const HTTPS_RETRY_DAYS = 3;

/** POSTs the report to one https: URI; the HTTP status, or the failure kind. */
function postReport(deps: ReporterDeps, uri: string, gzip: Buffer): Promise<PostOutcome> {
  return httpsPost(uri, 'application/tlsrpt+gzip', gzip, { resolver: deps.resolver, trustedCas: deps.trustedCas ?? [], timeoutMs: deps.postTimeoutMs ?? 30_000, maxResponseBytes: 64 * 1024 });
}

/** One pass: report every finished day. Returns how many reports were queued. */
export async function sendTlsReports(deps: ReporterDeps): Promise<number> {
  const today = utcDay(deps.now());
  const pending = await deps.db.all<{ domain: string; day: string }>('SELECT DISTINCT domain, day FROM tlsrpt_counts WHERE day < ? ORDER BY day, domain', [today]);
  let queued = 0;
  for (const { domain, day } of pending) {
    let rua;
    try {
      rua = parseTlsRptTxt(await deps.resolver.txt(`_smtp._tls.${domain}`));
    } catch (err) {
      deps.log.info({ event: 'TLSRPT_LOOKUP_FAILED', domain, err: { message: (err as Error).message } }, 'TLS-RPT policy lookup failed; retried next pass');
      continue;
    }
    const drop = (): Promise<unknown> => deps.db.run('DELETE FROM tlsrpt_counts WHERE domain = ? AND day = ?', [domain, day]);
    if (!rua || (rua.mailto.length === 0 && rua.https.length === 0)) {
      await drop();
      continue;
    }
    const now = deps.now();
    const id = generateQueueId(now, deps.random);
    const reportId = `${day}.${domain}.${id}@${deps.hostname}`;
    const report = buildTlsRptReport({ domain, day, organization: `Sealgate at ${deps.hostname}`, contact: `postmaster@${deps.hostname}`, reportId, rows: await countsFor(deps.db, domain, day) });
    const gzip = encodeTlsRptReport(report);
    let posted = 0;
    for (const uri of rua.https.slice(0, 5)) {
      const r = await postReport(deps, uri, gzip);
      if (r.ok) posted++;
      await appendAudit(deps.db, { type: 'tlsrpt:report_posted', data: { domain, day, host: r.host, status: r.status } }, deps.now());
      deps.log.info({ event: r.ok ? 'TLSRPT_POSTED' : 'TLSRPT_POST_FAILED', domain, day, host: r.host, status: r.status }, r.ok ? 'TLS report posted' : 'TLS report upload failed');
    }
    if (rua.mailto.length === 0) {
      const age = (Date.parse(`${today}T00:00:00Z`) - Date.parse(`${day}T00:00:00Z`)) / 86_400_000;
      // kept for the next pass while every upload fails, for a few days at most
      if (posted > 0 || age > HTTPS_RETRY_DAYS) await drop();
      continue;
    }
    const email = await buildTlsRptEmail({ domain, day, reportingHost: deps.hostname, reportId, to: rua.mailto, gzip, now, messageId: `<${id}.tlsrpt@${deps.hostname}>` });
    const file = await deps.spool.write(id, Readable.from([email]));
    await file.commit();
    try {
      await deps.db.transaction(async (tx) => {
        await insertQueuedMessage(tx, internalMessage({ id, createdAt: now, size: email.length, spoolKeyId: deps.spoolKeyId(), helo: deps.hostname, requirement: deps.requirement, recipients: rua.mailto, bodyType: '7BIT', smtputf8: false }));
        await tx.run('DELETE FROM tlsrpt_counts WHERE domain = ? AND day = ?', [domain, day]);
        await appendAuditEvent(tx, { type: 'tlsrpt:report_queued', data: { domain, day, queueId: id, recipients: rua.mailto.length } }, now);
      });
    } catch (err) {
      if (!maybeCommitted(err)) await file.discard();
      throw err;
    }
    deps.log.info({ event: 'TLSRPT_QUEUED', domain, day, queueId: id }, 'TLS report queued');
    queued++;
  }
  if (queued) deps.onQueued?.();
  return queued;
}

/** Runs sendTlsReports at start and every `intervalMs`. */
export function startTlsReporter(deps: ReporterDeps, intervalMs = 3_600_000): { stop(): void } {
  const run = (): void => {
    // with several nodes only the one holding the job's lease reports: a domain gets one report a day, not one per node
    (deps.mayRun ? deps.mayRun() : Promise.resolve(true))
      .then((mine) => (mine ? sendTlsReports(deps) : 0))
      .catch((err: unknown) => deps.log.error({ event: 'TLSRPT_FAILED', err: { message: (err as Error).message } }, 'TLS reporting pass failed'));
  };
  const first = setTimeout(run, 0);
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
