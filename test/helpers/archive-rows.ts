/**
 * Archive rows for the archive verify tests (one entry, one recipient),
 * with the columns a real entry carries; the ciphertext columns are random;
 * and a gateway's archive life in miniature written through the real
 * stores (archiveLife), on whichever database the test gives.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { checkpointFromLogLine, CheckpointWriter, type Checkpoint } from '../../src/archive/checkpoints.js';
import { insertArchiveEntry, updateArchiveRecipient } from '../../src/archive/entries.js';
import type { ArchiveMessageColumns, ArchiveRecipientColumns } from '../../src/archive/records.js';
import { loadOrCreateSigningKey, type SigningKey } from '../../src/archive/signing-key.js';
import { appendAudit } from '../../src/audit/log.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { createLogger } from '../../src/log/logger.js';

const MIN = 60_000;

export function entry(id: string, at: number): ArchiveMessageColumns {
  return {
    id,
    origin: 'smtp',
    message_id: `${id}@example.com`,
    received_at: at,
    archived_at: at + 1,
    sender: 'alice@example.com',
    sender_domain: 'example.com',
    connector: 'loopback',
    client_ip: '127.0.0.1',
    tls_version: 'TLSv1.3',
    auth_user: null,
    size: 1234,
    content_sha256: 'ab'.repeat(32),
    object_key: `archive/2026/12/${id}`,
    object_offset: 0,
    object_length: 1300,
    wrapped_key: randomBytes(60),
    key_id: '0123456789abcdef',
    subject_sealed: randomBytes(40),
    verdict: '{"phi":true}',
    retain_until: at + 6 * 365 * 24 * 60 * MIN,
    hold: 0,
    purged_at: null,
  };
}

export function recipient(id: string, seq: number, address: string): ArchiveRecipientColumns {
  return {
    archive_id: id,
    seq,
    address,
    domain: address.split('@')[1] ?? '',
    bcc: 0,
    method: 'tls-verified',
    requirement: 'tls-verified',
    decision: '{"reasons":["phi"]}',
    key_fingerprint: null,
    key_source: null,
    state: 'queued',
    attempts: 0,
    last_attempt_at: null,
    finished_at: null,
    evidence: null,
  };
}

export interface ArchiveLife {
  readonly key: SigningKey;
  readonly keyring: Keyring;
  /** The checkpoints the writer logged. */
  readonly logged: Checkpoint[];
  /** Clock of the writer; the stop checkpoint (if any) was written at this time. */
  readonly stoppedAt: number;
}

/**
 * A gateway's life in miniature on `db` (migrated, empty), from `t0`: start
 * checkpoint; entries Q1 (two recipients) and Q2 (one); a delivery attempt
 * updates Q1's recipient #1 (the old version is kept in table old_r1 for
 * the roll-back case); a count checkpoint; entry Q3; then, unless `stop` is
 * false, daemon:stopped and the stop checkpoint.
 */
export async function archiveLife(db: SqlDatabase, t0: number, options: { stop?: boolean } = {}): Promise<ArchiveLife> {
  const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
  let clock = t0;
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(...c.toString('utf8').split('\n')), cb()) }) });
  const key = await loadOrCreateSigningKey(db, keyring, clock);
  const writer = new CheckpointWriter({ db, key, log, now: () => clock, everyEvents: 5 });
  await appendAudit(db, { type: 'daemon:started', data: { version: 'test' } }, clock);
  await writer.write('start');
  clock += MIN;
  await db.transaction((tx) => insertArchiveEntry(tx, entry('Q1', clock), [recipient('Q1', 1, 'bob@example.net'), recipient('Q1', 2, 'carol@example.org')], ['category:ssn'], clock));
  await db.transaction((tx) => insertArchiveEntry(tx, entry('Q2', clock), [recipient('Q2', 1, 'dave@example.net')], [], clock));
  await db.exec(`CREATE TABLE old_r1 AS SELECT * FROM archive_recipients WHERE archive_id = 'Q1' AND seq = 1`);
  clock += MIN;
  await db.transaction((tx) =>
    updateArchiveRecipient(tx, 'Q1', 1, { state: 'delivered', attempts: 1, last_attempt_at: clock, finished_at: clock, evidence: '{"mx":"mx.example.net","tls":{"version":"TLSv1.3","verified":true}}' }, clock),
  );
  await writer.tick(); // 7 events since the start checkpoint: a count checkpoint
  clock += MIN;
  await db.transaction((tx) => insertArchiveEntry(tx, entry('Q3', clock), [recipient('Q3', 1, 'erin@example.com')], [], clock));
  if (options.stop !== false) {
    clock += MIN;
    await appendAudit(db, { type: 'daemon:stopped', data: { reason: 'SIGTERM' } }, clock);
    await writer.stop();
  }
  const logged = lines.map(checkpointFromLogLine).filter((c): c is Checkpoint => c !== undefined);
  return { key, keyring, logged, stoppedAt: clock };
}
