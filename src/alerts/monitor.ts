/**
 * The alert monitor: every `alerts.checkInterval` it gathers causes — new
 * audit events (posture downgrades, DLP blocks), TLS enforcement failures
 * counted by the delivery engine, the queue's backlog and oldest message,
 * the spool disk, the audit chain (new links every pass, the whole chain
 * every `alerts.chainVerifyInterval`), expiring certificates — and sends one
 * alert per cause per period by mail (through the queue) and/or webhook.
 * Every alert sent is audited (`alert:raised`); repeats within the period
 * are counted and reported with the next one.
 */
import { Readable } from 'node:stream';
import type { Config } from '../config/schema.js';
import { maybeCommitted, type SqlDatabase, type SqlQueryable } from '../db/sql-database.js';
import { GENESIS_HASH } from '../audit/chain.js';
import { appendAuditEvent, verifyAuditChain } from '../audit/log.js';
import { diskCheck } from '../health/readiness.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import { generateQueueId, type RandomBytes } from '../queue/ids.js';
import { oldestWaiting } from '../queue/oldest.js';
import { insertQueuedMessage, internalMessage } from '../queue/store.js';
import type { Spool } from '../spool/spool.js';
import { auditChainCause, causesFromAudit, certificateCauses, dedupe, lowDiskCause, queueCauses, tlsFailureCause, windowSum, type AlertCause, type CertificateFact } from './causes.js';
import { readCertificateFacts } from './certificates.js';
import { configuredCertificates } from '../tls/configured-certificates.js';
import { alertJson, buildAlertMail, type AlertJson } from './message.js';
import { lastSent, readCursor, recordSent, recordSuppressed, writeCursor, type AlertCursor } from './store.js';
import { MAX_PENDING_WEBHOOKS, nextWebhookAttempt, postAlert, type WebhookDeps } from './webhook.js';

/** Audit events read per pass for causes; more wait for the next pass. */
const AUDIT_PAGE = 5000;
/** Certificates are read from disk at most this often. */
const CERTIFICATE_CHECK_MS = 3_600_000;

export interface AlertMonitorDeps {
  readonly db: SqlDatabase;
  readonly spool: Pick<Spool, 'write'>;
  readonly config: () => Config;
  readonly log: Logger;
  readonly now: () => number;
  readonly random: RandomBytes;
  readonly hostname: string;
  readonly spoolKeyId: () => string;
  readonly metrics: Metrics;
  readonly availableBytes: () => Promise<number>;
  readonly webhook: WebhookDeps;
  readonly onQueued?: () => void;
  /**
   * Asked before each pass: with several nodes only the one holding the
   * alerts job's lease (src/cluster/job-lease.ts) checks what they share
   * (audit events, the chain, the queue); each checks its own disk, TLS
   * failures and certificates. Default: this node checks everything.
   */
  readonly mayRun?: () => Promise<boolean>;
}

interface PendingWebhook {
  readonly url: string;
  readonly body: AlertJson;
  attempts: number;
  dueAt: number;
}

export class AlertMonitor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly tlsSamples: { at: number; n: number }[] = [];
  private tlsCounted: number;
  private certificates: { at: number; facts: CertificateFact[] } | undefined;
  private readonly webhooks: PendingWebhook[] = [];

  constructor(private readonly deps: AlertMonitorDeps) {
    this.tlsCounted = deps.metrics.value('sealgate_tls_enforcement_failures_total');
  }

  private stopped = true;

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.pass().finally(() => this.schedule(this.deps.config().alerts.checkInterval)), ms);
    this.timer.unref();
  }

  /** One pass (never two at once); failures are logged, and the next pass tries again. */
  pass(): Promise<void> {
    this.running ??= this.runPass()
      .catch((err: unknown) => this.deps.log.error({ event: 'ALERT_CHECK_FAILED', err: { message: (err as Error).message } }, 'alert check failed; tried again at the next interval'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async runPass(): Promise<void> {
    const { db, now } = this.deps;
    const alerts = this.deps.config().alerts;
    const t = now();
    const causes: AlertCause[] = [];

    // what all nodes share — the audit trail, the chain, the queue — is checked by the node holding the alerts job
    // (src/cluster/job-lease.ts); every node checks what is its own: its TLS failures, its disk, its certificates
    const shared = this.deps.mayRun ? await this.deps.mayRun() : true;
    let cursorUpdate: AlertCursor | undefined;
    if (shared) {
      // audit events since the last pass; the first pass ever starts at the head (no alerts for history)
      const head = (await db.get<{ seq: number | null }>('SELECT max(seq) AS seq FROM audit_log'))?.seq ?? 0;
      const cursor: AlertCursor = (await readCursor(db)) ?? { auditSeq: head, verifiedSeq: 0, verifiedHash: GENESIS_HASH, fullVerifyAt: 0 };
      const rows = await db.all<{ seq: number; type: string; data: string }>(
        "SELECT seq, type, data FROM audit_log WHERE seq > ? AND seq <= ? AND type IN ('delivery:posture_downgrade', 'inspect:verdict', 'ingress:rate_limited') ORDER BY seq LIMIT ?",
        [cursor.auditSeq, head, AUDIT_PAGE],
      );
      const readTo = rows.length === AUDIT_PAGE ? (rows[rows.length - 1]?.seq ?? head) : head;
      causes.push(...causesFromAudit(rows.map((r) => ({ type: r.type, data: JSON.parse(r.data) as unknown }))));

      // the chain: new links every pass, everything once per chainVerifyInterval
      const full = t - cursor.fullVerifyAt >= alerts.chainVerifyInterval;
      const verified = await verifyAuditChain(db, full ? {} : { from: { seq: cursor.verifiedSeq, hash: cursor.verifiedHash } });
      const chain = auditChainCause(verified.ok ? { ok: true } : verified);
      if (chain) causes.push(chain);
      const nextVerified = verified.ok ? { verifiedSeq: verified.count, verifiedHash: verified.lastHash } : { verifiedSeq: cursor.verifiedSeq, verifiedHash: cursor.verifiedHash };
      cursorUpdate = { auditSeq: readTo, ...nextVerified, fullVerifyAt: full ? t : cursor.fullVerifyAt };
    }

    // TLS enforcement failures counted by this node's delivery engine, over the last period
    const counted = this.deps.metrics.value('sealgate_tls_enforcement_failures_total');
    this.tlsSamples.push({ at: t, n: counted - this.tlsCounted });
    this.tlsCounted = counted;
    while ((this.tlsSamples[0]?.at ?? t) <= t - alerts.period) this.tlsSamples.shift();
    const tls = tlsFailureCause(windowSum(this.tlsSamples, t, alerts.period), alerts.tlsFailures, alerts.period);
    if (tls) causes.push(tls);

    if (shared) causes.push(...queueCauses(await queueFigures(db, t), alerts));

    const smtp = this.deps.config().smtp;
    const availableBytes = await this.deps.availableBytes().catch(() => undefined);
    if (availableBytes !== undefined) {
      const disk = lowDiskCause({ ok: diskCheck({ availableBytes, minFreeBytes: smtp.minFreeBytes, maxMessageBytes: smtp.maxMessageBytes }).ok, availableBytes, minFreeBytes: smtp.minFreeBytes });
      if (disk) causes.push(disk);
    }

    if (!this.certificates || t - this.certificates.at >= CERTIFICATE_CHECK_MS) this.certificates = { at: t, facts: await readCertificateFacts(configuredCertificates(this.deps.config())) };
    causes.push(...certificateCauses(this.certificates.facts, t, alerts.certificateExpiry));

    for (const cause of causes) await this.raise(cause, t);
    const update = cursorUpdate;
    if (update) await db.transaction((tx) => writeCursor(tx, update));
    await this.sendDueWebhooks();
  }

  /** Sends the alert unless one for the same cause went out within the period. */
  private async raise(cause: AlertCause, now: number): Promise<void> {
    const { db, log } = this.deps;
    const alerts = this.deps.config().alerts;
    const last = await lastSent(db, cause.key);
    if (dedupe(last, now, alerts.period) === 'suppress') {
      await db.transaction((tx) => recordSuppressed(tx, cause.key));
      return;
    }
    const envelope = { cause, hostname: this.deps.hostname, now, suppressed: last?.suppressed ?? 0 };
    const channels: string[] = [];
    let queueId: string | undefined;
    let committed: (() => Promise<void>) | undefined;
    let discard: (() => Promise<void>) | undefined;
    if (alerts.to.length > 0) {
      queueId = generateQueueId(now, this.deps.random);
      const mail = await buildAlertMail({ ...envelope, to: alerts.to, messageId: `<${queueId}.alert@${this.deps.hostname}>` });
      const file = await this.deps.spool.write(queueId, Readable.from([mail]));
      await file.commit();
      discard = () => file.discard();
      const id = queueId;
      const size = mail.length;
      committed = async () => {
        await db.transaction(async (tx: SqlQueryable) => {
          await insertQueuedMessage(tx, internalMessage({ id, createdAt: now, size, spoolKeyId: this.deps.spoolKeyId(), helo: this.deps.hostname, requirement: this.deps.config().delivery.defaultRequirement, recipients: alerts.to }));
          await this.recordRaised(tx, cause, now, [...channels], id, envelope.suppressed);
        });
      };
      channels.push('mail');
    }
    if (alerts.webhookUrl) channels.push('webhook');
    try {
      if (committed) await committed();
      else await db.transaction((tx) => this.recordRaised(tx, cause, now, channels, undefined, envelope.suppressed));
    } catch (err) {
      if (!maybeCommitted(err)) await discard?.();
      throw err;
    }
    if (queueId) this.deps.onQueued?.();
    if (alerts.webhookUrl) this.enqueueWebhook({ url: alerts.webhookUrl, body: alertJson(envelope), attempts: 0, dueAt: now });
    log.warn({ event: 'ALERT_RAISED', kind: cause.kind, key: cause.key, severity: cause.severity, channels, queueId }, cause.summary);
  }

  private async recordRaised(tx: SqlQueryable, cause: AlertCause, now: number, channels: string[], queueId: string | undefined, suppressed: number): Promise<void> {
    await recordSent(tx, cause.key, now);
    await appendAuditEvent(tx, { type: 'alert:raised', data: { kind: cause.kind, key: cause.key, severity: cause.severity, channels, ...(queueId ? { queueId } : {}), suppressed } }, now);
  }

  private enqueueWebhook(p: PendingWebhook): void {
    if (this.webhooks.length >= MAX_PENDING_WEBHOOKS) {
      const dropped = this.webhooks.shift();
      if (dropped) void this.auditWebhook(dropped, 'dropped', false);
    }
    this.webhooks.push(p);
  }

  /** Posts the webhooks that are due; a failure is retried on the schedule, then given up (audited either way). */
  private async sendDueWebhooks(): Promise<void> {
    const now = this.deps.now();
    for (const p of this.webhooks.filter((w) => w.dueAt <= now)) {
      p.attempts++;
      const r = await postAlert(p.url, p.body, this.deps.webhook);
      const next = r.ok ? undefined : nextWebhookAttempt(p.attempts, this.deps.now());
      if (next !== undefined) {
        p.dueAt = next;
        this.deps.log.warn({ event: 'ALERT_WEBHOOK_RETRY', kind: p.body.kind, status: r.status, attempts: p.attempts }, 'alert webhook failed; retried later');
        continue;
      }
      this.webhooks.splice(this.webhooks.indexOf(p), 1);
      await this.auditWebhook(p, r.status, r.ok);
    }
  }

  private async auditWebhook(p: PendingWebhook, status: string, delivered: boolean): Promise<void> {
    const now = this.deps.now();
    await this.deps.db
      .transaction((tx) => appendAuditEvent(tx, { type: 'alert:webhook', data: { kind: p.body.kind, key: p.body.key, status, attempts: p.attempts, delivered: String(delivered) } }, now))
      .catch((err: unknown) => this.deps.log.error({ event: 'ALERT_AUDIT_FAILED', err: { message: (err as Error).message } }, 'alert webhook outcome not audited'));
    this.deps.log[delivered ? 'info' : 'error']({ event: delivered ? 'ALERT_WEBHOOK_SENT' : 'ALERT_WEBHOOK_FAILED', kind: p.body.kind, status, attempts: p.attempts }, delivered ? 'alert webhook delivered' : 'alert webhook given up');
  }
}

/** Recipients waiting (queued or deferred) and the age of the oldest message with one still to deliver. */
async function queueFigures(db: SqlQueryable, now: number): Promise<{ backlog: number; oldestAgeMs: number | undefined }> {
  const backlog = (await db.get<{ n: number }>("SELECT count(*) AS n FROM recipients WHERE state IN ('queued', 'deferred')"))?.n ?? 0;
  const oldest = (await oldestWaiting(db)).active;
  return { backlog, oldestAgeMs: oldest === undefined ? undefined : Math.max(0, now - oldest) };
}
