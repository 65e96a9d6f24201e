/**
 * One archive entry as an auditor reads it: the metadata, the DLP verdict
 * and every recipient's decision and delivery evidence parsed back into
 * objects, and the Subject opened with the entry's own key. The message
 * itself is read separately (`readArchiveContent`), and only with a reason.
 *
 * Contract (issue 14; the console reads it too): `recipients[]` carries
 * `address`, `method`, `state` and `tls` — `{ version, cipher, verified }`
 * from the last attempt's evidence, null when that attempt had no TLS or
 * there was no attempt.
 */
import type { Keyring } from '../crypto/keyring.js';
import type { SqlQueryable } from '../db/sql-database.js';
import { entryKeyOf, openSubject, type EntryKey } from './content.js';
import type { AttemptEvidence } from './evidence.js';

export interface ShownTls {
  readonly version: string;
  readonly cipher: string;
  readonly verified: boolean;
  readonly certSha256?: string;
  readonly certError?: string;
  readonly dane?: string;
}

export interface ShownRecipient {
  readonly seq: number;
  readonly address: string;
  readonly domain: string;
  readonly bcc: boolean;
  readonly method: string | null;
  readonly requirement: string | null;
  /** Why the decision chose this method (the decision step's reasons). */
  readonly reasons: readonly string[];
  readonly keyFingerprint: string | null;
  readonly keySource: string | null;
  readonly state: string;
  readonly attempts: number;
  readonly lastAttemptAt: string | null;
  readonly finishedAt: string | null;
  readonly tls: ShownTls | null;
  /** The last attempt's full evidence (MX, IP, TLS, MTA-STS, requirement, reply); null before any attempt. */
  readonly evidence: AttemptEvidence | null;
}

export interface ShownEntry {
  readonly id: string;
  readonly origin: string;
  readonly messageId: string | null;
  readonly receivedAt: string;
  readonly archivedAt: string;
  readonly sender: string;
  readonly senderDomain: string;
  readonly connector: string;
  readonly clientIp: string;
  readonly tlsVersion: string | null;
  readonly authUser: string | null;
  readonly size: number;
  readonly contentSha256: string;
  readonly retainUntil: string;
  readonly hold: boolean;
  readonly purgedAt: string | null;
  /** The Subject; null when the entry was purged or its master key is not loaded (`subjectNote` says which). */
  readonly subject: string | null;
  readonly subjectNote?: string;
  /** The value-free DLP verdict (src/archive/verdict.ts). */
  readonly verdict: unknown;
  readonly recipients: readonly ShownRecipient[];
}

interface MessageRow {
  id: string;
  origin: string;
  message_id: string | null;
  received_at: number;
  archived_at: number;
  sender: string;
  sender_domain: string;
  connector: string;
  client_ip: string;
  tls_version: string | null;
  auth_user: string | null;
  size: number;
  content_sha256: string;
  object_key: string;
  object_offset: number;
  object_length: number;
  wrapped_key: Buffer | null;
  key_id: string | null;
  subject_sealed: Buffer | null;
  verdict: string;
  retain_until: number;
  hold: number;
  purged_at: number | null;
}

interface RecipientRow {
  seq: number;
  address: string;
  domain: string;
  bcc: number;
  method: string | null;
  requirement: string | null;
  decision: string | null;
  key_fingerprint: string | null;
  key_source: string | null;
  state: string;
  attempts: number;
  last_attempt_at: number | null;
  finished_at: number | null;
  evidence: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

const asBuffer = (v: Buffer | Uint8Array | null): Buffer | null => (v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

/** The stored key of an entry; 'purged' once its key was destroyed. */
export async function entryKey(db: SqlQueryable, id: string): Promise<EntryKey | 'purged' | undefined> {
  const row = await db.get<{ id: string; object_key: string; object_offset: number; object_length: number; wrapped_key: Buffer | null; key_id: string | null; purged_at: number | null }>(
    'SELECT id, object_key, object_offset, object_length, wrapped_key, key_id, purged_at FROM archive_messages WHERE id = ?',
    [id],
  );
  if (!row) return undefined;
  const wrapped = asBuffer(row.wrapped_key);
  if (row.purged_at !== null || wrapped === null || row.key_id === null) return 'purged';
  return entryKeyOf({ ...row, wrapped_key: wrapped, key_id: row.key_id });
}

/** The recipient's evidence as stored (canonical JSON of evidence.ts), or null. */
function evidenceOf(text: string | null): AttemptEvidence | null {
  const v = parseJson(text);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as AttemptEvidence) : null;
}

export function shownRecipient(r: RecipientRow): ShownRecipient {
  const evidence = evidenceOf(r.evidence);
  const reasons = parseJson(r.decision);
  return {
    seq: r.seq,
    address: r.address,
    domain: r.domain,
    bcc: r.bcc === 1,
    method: r.method,
    requirement: r.requirement,
    reasons: Array.isArray(reasons) ? reasons.filter((x): x is string => typeof x === 'string') : [],
    keyFingerprint: r.key_fingerprint,
    keySource: r.key_source,
    state: r.state,
    attempts: r.attempts,
    lastAttemptAt: iso(r.last_attempt_at),
    finishedAt: iso(r.finished_at),
    tls: evidence?.tls ?? null,
    evidence,
  };
}

/** Entry `id` with its recipients, or undefined when there is none. */
export async function showArchiveEntry(db: SqlQueryable, keyring: Keyring, id: string): Promise<ShownEntry | undefined> {
  const m = await db.get<MessageRow>(
    `SELECT id, origin, message_id, received_at, archived_at, sender, sender_domain, connector, client_ip, tls_version, auth_user, size, content_sha256,
            object_key, object_offset, object_length, wrapped_key, key_id, subject_sealed, verdict, retain_until, hold, purged_at
       FROM archive_messages WHERE id = ?`,
    [id],
  );
  if (!m) return undefined;
  const rows = await db.all<RecipientRow>(
    `SELECT seq, address, domain, bcc, method, requirement, decision, key_fingerprint, key_source, state, attempts, last_attempt_at, finished_at, evidence
       FROM archive_recipients WHERE archive_id = ? ORDER BY seq`,
    [id],
  );
  let subject: string | null = null;
  let subjectNote: string | undefined;
  const wrapped = asBuffer(m.wrapped_key);
  if (m.purged_at !== null || wrapped === null || m.key_id === null) {
    subjectNote = 'purged: the entry key was destroyed';
  } else if (!keyring.has(m.key_id)) {
    subjectNote = `sealed under master key ${m.key_id}, which is not loaded (add it to keys.previousKeyFiles)`;
  } else {
    try {
      subject = openSubject(keyring, entryKeyOf({ ...m, wrapped_key: wrapped, key_id: m.key_id }), asBuffer(m.subject_sealed));
    } catch {
      subjectNote = 'could not be opened: the sealed subject or its key does not verify';
    }
  }
  return {
    id: m.id,
    origin: m.origin,
    messageId: m.message_id,
    receivedAt: new Date(m.received_at).toISOString(),
    archivedAt: new Date(m.archived_at).toISOString(),
    sender: m.sender,
    senderDomain: m.sender_domain,
    connector: m.connector,
    clientIp: m.client_ip,
    tlsVersion: m.tls_version,
    authUser: m.auth_user,
    size: m.size,
    contentSha256: m.content_sha256,
    retainUntil: new Date(m.retain_until).toISOString(),
    hold: m.hold === 1,
    purgedAt: iso(m.purged_at),
    subject,
    ...(subjectNote ? { subjectNote } : {}),
    verdict: parseJson(m.verdict),
    recipients: rows.map(shownRecipient),
  };
}
