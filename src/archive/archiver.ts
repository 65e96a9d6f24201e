/**
 * The archive stage: after inspection and the decision (or at once, for
 * mail that is not inspected: portal replies, inspection off), each
 * accepted message is copied from the spool into the archive, encrypted
 * under a data key of its own, and its entry (metadata, DLP verdict summary,
 * each recipient's decision) is written with its records in the audit
 * chain, in one transaction that also marks the message archived. Delivery
 * claims only archived messages, and a message leaves the queue only once
 * archived, so no accepted message can be missing from the archive: a crash
 * at any point leaves it `archived = 0` with its spool file, and this stage
 * (which looks for such messages at start and every few seconds) archives
 * it again. A copy stored before a crash is replaced (same object key).
 */
import type { Database } from '../db/database.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { ObjectStore } from '../objects/object-store.js';
import { Transform } from 'node:stream';
import { appendAuditEvent } from '../audit/log.js';
import { generateQueueId, type RandomBytes } from '../queue/ids.js';
import { insertQueuedMessage, internalMessage, removeIfFinished } from '../queue/store.js';
import type { PendingSpoolFile } from '../spool/spool.js';
import { journalReport } from './journal.js';
import { addressDomain } from '../smtp/connector-policy.js';
import type { Spool } from '../spool/spool.js';
import { writeArchiveContent, type WrittenContent } from './content.js';
import { insertArchiveEntry, queueRecipientsForArchive } from './entries.js';
import { archiveVerdict, type StoredVerdict } from './verdict.js';
import { categoryTerm, subjectTerms } from './terms.js';

export interface ArchiverDeps {
  readonly db: Database;
  readonly spool: Spool;
  readonly objects: ObjectStore;
  readonly keyring: Keyring;
  readonly log: Logger;
  readonly now: () => number;
  /** archive.retention in ms (re-read for every message). */
  readonly retentionMs: () => number;
  /** Called after messages were archived (wakes the delivery engine). */
  readonly onArchived?: () => void;
  readonly metrics?: Metrics | undefined;
  /** archive.journalTo (re-read for every message) and what a journal report is queued with. */
  readonly journal?: {
    readonly to: () => string | null;
    readonly hostname: string;
    readonly random: RandomBytes;
    readonly spoolKeyId: () => string;
  };
}

/** Messages archived at once. */
const PARALLEL = 4;
/** A message whose archiving failed is tried again after this long. */
const RETRY_AFTER_MS = 10_000;

interface MessageRow {
  id: string;
  created_at: number;
  body_type: string;
  smtputf8: number;
  sender: string;
  connector: string;
  client_ip: string;
  tls_version: string | null;
  auth_user: string | null;
  verdict: string | null;
}

export class Archiver {
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<string>();
  private readonly failedAt = new Map<string, number>();

  constructor(private readonly deps: ArchiverDeps) {}

  start(): void {
    this.wake();
    this.timer = setInterval(() => this.wake(), 5_000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Looks for messages to archive (called when inspection finished one). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.fill()
      .catch((err: unknown) => this.deps.log.error({ event: 'ARCHIVE_FAILED', err: { message: (err as Error).message } }, 'could not read the archive queue; retried later'))
      .finally(() => {
        this.running = false;
        if (this.again && !this.stopped) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async fill(): Promise<void> {
    const now = this.deps.now();
    for (const [id, at] of this.failedAt) if (now - at >= RETRY_AFTER_MS) this.failedAt.delete(id);
    if (this.inFlight.size >= PARALLEL) return;
    const rows = await this.deps.db.all<{ id: string }>('SELECT id FROM messages WHERE archived = 0 AND inspected = 1 ORDER BY created_at LIMIT ?', [PARALLEL + this.inFlight.size + this.failedAt.size]);
    for (const { id } of rows) {
      if (this.stopped || this.inFlight.size >= PARALLEL) return;
      if (this.inFlight.has(id) || this.failedAt.has(id)) continue;
      this.inFlight.add(id);
      void this.archive(id)
        .then(() => this.deps.onArchived?.())
        .catch((err: unknown) => {
          if (this.stopped) return;
          this.failedAt.set(id, this.deps.now());
          this.deps.metrics?.inc('sealgate_archive_failures_total', {});
          this.deps.log.error({ event: 'ARCHIVE_FAILED', queueId: id, err: { message: (err as Error).message } }, 'message not archived; retried later (its delivery waits)');
        })
        .finally(() => {
          this.inFlight.delete(id);
          this.wake();
        });
    }
  }

  /** Archives message `id` (idempotent: nothing when it is gone or already archived). */
  async archive(id: string): Promise<void> {
    const msg = await this.deps.db.get<MessageRow>('SELECT id, created_at, body_type, smtputf8, sender, connector, client_ip, tls_version, auth_user, verdict FROM messages WHERE id = ? AND archived = 0', [id]);
    if (!msg) return;
    const content = await writeArchiveContent(this.deps.objects, this.deps.keyring, id, msg.created_at, this.deps.spool.read(id));
    const verdict = archiveVerdict(msg.verdict);
    const journal = await this.prepareJournal(msg, content);
    let finished = false;
    let written = false;
    try {
      await this.deps.db.transaction(async (tx) => {
        const current = await tx.get<{ archived: number }>('SELECT archived FROM messages WHERE id = ?', [id]);
        if (!current || current.archived === 1) return; // deleted or archived meanwhile
        const now = this.deps.now();
        const recipients = await queueRecipientsForArchive(tx, id);
        await insertArchiveEntry(tx, entryColumns(msg, content, verdict, now, this.deps.retentionMs()), recipients, entryTerms(this.deps.keyring, content, verdict), now);
        await tx.run('UPDATE messages SET archived = 1 WHERE id = ?', [id]);
        if (journal) {
          await insertQueuedMessage(tx, {
            ...internalMessage({ id: journal.id, createdAt: now, size: journal.size, spoolKeyId: journal.spoolKeyId, helo: journal.hostname, requirement: 'verify', recipients: [journal.to], bodyType: msg.body_type, smtputf8: msg.smtputf8 === 1 }),
          });
          await appendAuditEvent(tx, { type: 'archive:journaled', data: { queueId: id, journalQueueId: journal.id } }, now);
        }
        // recipients already final (blocked by policy) leave the queue now
        finished = await removeIfFinished(tx, id);
        written = true;
      });
    } finally {
      if (!written) await journal?.file.discard();
    }
    if (finished) await this.deps.spool.remove(id);
    if (!written) return;
    this.deps.metrics?.inc('sealgate_archived_total', {});
    this.deps.log.debug({ event: 'MESSAGE_ARCHIVED', queueId: id, bytes: content.size, journalQueueId: journal?.id }, 'message archived');
  }

  /** With archive.journalTo: the journal report of the message, spooled (its queue rows go in the archive transaction). */
  private async prepareJournal(msg: MessageRow, content: WrittenContent): Promise<PreparedJournal | undefined> {
    const j = this.deps.journal;
    const to = j?.to();
    if (!j || !to) return undefined;
    const now = this.deps.now();
    const id = generateQueueId(now, j.random);
    const recipients = await this.deps.db.all<{ address: string }>('SELECT address FROM recipients WHERE message_id = ? ORDER BY seq', [msg.id]);
    const report = journalReport(
      {
        queueId: msg.id,
        messageId: content.messageId,
        sender: msg.sender,
        recipients: recipients.map((r) => r.address),
        receivedAt: msg.created_at,
        connector: msg.connector,
        to,
        hostname: j.hostname,
        reportId: id,
        now,
        binary: msg.body_type === 'BINARYMIME',
      },
      this.deps.spool.read(msg.id),
    );
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        done(null, chunk);
      },
    });
    const file = await this.deps.spool.write(id, report, [counter]);
    await file.commit();
    return { id, file, size, to, hostname: j.hostname, spoolKeyId: j.spoolKeyId() };
  }
}

interface PreparedJournal {
  readonly id: string;
  readonly file: PendingSpoolFile;
  readonly size: number;
  readonly to: string;
  readonly hostname: string;
  readonly spoolKeyId: string;
}

function entryColumns(msg: MessageRow, content: WrittenContent, verdict: StoredVerdict, now: number, retentionMs: number) {
  return {
    id: msg.id,
    origin: msg.connector === 'portal' ? 'portal-reply' : 'smtp',
    message_id: content.messageId,
    received_at: msg.created_at,
    archived_at: now,
    sender: msg.sender,
    sender_domain: addressDomain(msg.sender),
    connector: msg.connector,
    client_ip: msg.client_ip,
    tls_version: msg.tls_version,
    auth_user: msg.auth_user,
    size: content.size,
    content_sha256: content.sha256,
    object_key: content.objectKey,
    wrapped_key: content.wrappedKey,
    key_id: content.keyId,
    subject_sealed: content.subjectSealed,
    verdict: verdict.json,
    retain_until: msg.created_at + retentionMs,
    hold: 0,
    purged_at: null,
  };
}

function entryTerms(keyring: Keyring, content: WrittenContent, verdict: StoredVerdict): string[] {
  return [...subjectTerms(keyring, content.subject), ...verdict.categories.map(categoryTerm)];
}
