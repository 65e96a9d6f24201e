/**
 * Archive entries with real content, as the archiver writes them, on
 * whichever database and object store a test gives: messages encrypted into
 * packs and objects of their own (content.ts), rows and records through
 * insertArchiveEntries, subject-word and category terms. The layout is the
 * retention tests' (test/archive/retention.test.ts): pack P1 holds A, B, C;
 * D is stored alone; pack P2 holds E and F. Entry n was received at
 * t0 + n days and is retained six years, F a year longer.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { archiveObjectKey, archivePackKey, writeArchiveObject, type WrittenContent } from '../../src/archive/content.js';
import { insertArchiveEntries, type NewArchiveEntry } from '../../src/archive/entries.js';
import type { ArchiveMessageColumns, ArchiveRecipientColumns } from '../../src/archive/records.js';
import { categoryTerm, subjectTerms } from '../../src/archive/terms.js';
import type { Keyring } from '../../src/crypto/keyring.js';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import type { ObjectStore } from '../../src/objects/object-store.js';

export const DAY = 86_400_000;
export const YEARS6 = 6 * 365 * DAY;

/** Queue ids: 20 characters of the queue's alphabet. */
export const entryId = (n: number): string => `01PVRGE${String(n).padStart(13, '0')}`;
export const [A, B, C, D, E, F] = [1, 2, 3, 4, 5, 6].map(entryId) as [string, string, string, string, string, string];

/** The words every entry's Subject carries (a test checks they never leak). */
export const SUBJECT_WORDS = 'Befund vertraulich';

export function message(n: number): Buffer {
  return Buffer.from(`Subject: ${SUBJECT_WORDS} Fall${n}x\r\nMessage-ID: <m${n}@example.com>\r\n\r\nbody ${n} ${randomBytes(8).toString('hex')}\r\n`);
}

/**
 * The archive row of content `w` as the fixtures write it: a message received
 * over SMTP on the loopback connector with TLS 1.3, archived a second later;
 * `row` the columns each fixture chooses.
 */
export function writtenEntryColumns(w: WrittenContent, row: { readonly id: string; readonly receivedAt: number; readonly retainUntil: number; readonly sender: string; readonly verdict: string }): ArchiveMessageColumns {
  return {
    id: row.id,
    origin: 'smtp',
    message_id: w.messageId,
    received_at: row.receivedAt,
    archived_at: row.receivedAt + 1000,
    sender: row.sender,
    sender_domain: 'example.com',
    connector: 'loopback',
    client_ip: '127.0.0.1',
    tls_version: 'TLSv1.3',
    auth_user: null,
    size: w.size,
    content_sha256: w.sha256,
    object_key: w.objectKey,
    object_offset: w.offset,
    object_length: w.length,
    wrapped_key: w.wrappedKey,
    key_id: w.keyId,
    subject_sealed: w.subjectSealed,
    verdict: row.verdict,
    retain_until: row.retainUntil,
    hold: 0,
    purged_at: null,
  };
}

function columns(id: string, receivedAt: number, retainUntil: number, w: WrittenContent): ArchiveMessageColumns {
  return writtenEntryColumns(w, { id, receivedAt, retainUntil, sender: id === F ? 'frank@example.com' : 'alice@example.com', verdict: '{"inspected":true,"phi":true,"findings":[{"category":"SSN","count":1}]}' });
}

function recipientOf(id: string): ArchiveRecipientColumns {
  return {
    archive_id: id,
    seq: 1,
    address: 'bob@example.net',
    domain: 'example.net',
    bcc: 0,
    method: 'tls-verified',
    requirement: 'verify',
    decision: '["PHI: verified TLS required"]',
    key_fingerprint: null,
    key_source: null,
    state: 'delivered',
    attempts: 1,
    last_attempt_at: null,
    finished_at: null,
    evidence: '{"mx":"mx.example.net","tls":{"version":"TLSv1.3","cipher":"TLS_AES_256_GCM_SHA384","verified":true},"requirement":"verify","reply":{"code":250,"text":"2.0.0 Ok"}}',
  };
}

export interface ContentEntries {
  /** Object key of each entry. */
  readonly objectOf: Map<string, string>;
  /** The message bytes of each entry. */
  readonly bytesOf: Map<string, Buffer>;
}

/** Writes A..F (see the header) from `t0`: content into `objects`, rows (one recipient each) into `db`, recorded at t0 + 7 days. */
export async function writeContentEntries(db: SqlDatabase, objects: ObjectStore, keyring: Keyring, t0: number): Promise<ContentEntries> {
  const objectOf = new Map<string, string>();
  const bytesOf = new Map<string, Buffer>();
  const groups: { key: string; ids: string[] }[] = [
    { key: archivePackKey(A, t0), ids: [A, B, C] },
    { key: archiveObjectKey(D, t0), ids: [D] },
    { key: archivePackKey(E, t0), ids: [E, F] },
  ];
  const items: NewArchiveEntry[] = [];
  for (const g of groups) {
    const sources = g.ids.map((id) => {
      const n = Number(id.slice(-2));
      const bytes = message(n);
      bytesOf.set(id, bytes);
      objectOf.set(id, g.key);
      return { id, receivedAt: t0 + n * DAY, open: () => Readable.from([bytes]) };
    });
    const written = await writeArchiveObject(objects, keyring, g.key, sources);
    written.forEach((w, i) => {
      const s = sources[i];
      if (!s) return;
      const retain = s.receivedAt + YEARS6 + (s.id === F ? 365 * DAY : 0);
      items.push({ entry: columns(s.id, s.receivedAt, retain, w), recipients: [recipientOf(s.id)], terms: [...subjectTerms(keyring, w.subject), categoryTerm('SSN')] });
    });
  }
  await db.transaction((tx) => insertArchiveEntries(tx, items, t0 + 7 * DAY));
  return { objectOf, bytesOf };
}
