/**
 * The archive's rows as the hash chain sees them (pure, no I/O).
 *
 * Every write of an archive row (a new entry, a recipient's evidence, a
 * final state, later a hold or a purge) appends an `archive:record` audit
 * event carrying the SHA-256 of the row's canonical form, and the row keeps
 * that event's seq (`record_seq`). `sealgate archive verify` recomputes each
 * row's hash and compares it with its event, so a changed column, a row
 * moved to another entry, or a row rolled back to an older version is found;
 * a row that is missing is found from the events that name it.
 *
 *   sha256 = hex(sha256(utf8(canonicalJson({ part, ...columns }))))
 *
 * where `part` is "message" or "recipient", `columns` are the row's columns
 * except `record_seq`, named as in the table, BLOBs as lowercase hex, NULL as
 * null. docs/archive.md describes this for auditors; keep them in step.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/chain.js';

/** The columns of an `archive_messages` row the chain covers. */
export interface ArchiveMessageColumns {
  readonly id: string;
  readonly origin: string;
  readonly message_id: string | null;
  readonly received_at: number;
  readonly archived_at: number;
  readonly sender: string;
  readonly sender_domain: string;
  readonly connector: string;
  readonly client_ip: string;
  readonly tls_version: string | null;
  readonly auth_user: string | null;
  readonly size: number;
  readonly content_sha256: string;
  readonly object_key: string;
  readonly object_offset: number;
  readonly object_length: number;
  readonly wrapped_key: Buffer | null;
  readonly key_id: string | null;
  readonly subject_sealed: Buffer | null;
  readonly verdict: string;
  readonly retain_until: number;
  readonly hold: number;
  readonly purged_at: number | null;
}

/** The columns of an `archive_recipients` row the chain covers. */
export interface ArchiveRecipientColumns {
  readonly archive_id: string;
  readonly seq: number;
  readonly address: string;
  readonly domain: string;
  readonly bcc: number;
  readonly method: string | null;
  readonly requirement: string | null;
  readonly decision: string | null;
  readonly key_fingerprint: string | null;
  readonly key_source: string | null;
  readonly state: string;
  readonly attempts: number;
  readonly last_attempt_at: number | null;
  readonly finished_at: number | null;
  readonly evidence: string | null;
}

export const MESSAGE_COLUMNS: readonly (keyof ArchiveMessageColumns)[] = [
  'id', 'origin', 'message_id', 'received_at', 'archived_at', 'sender', 'sender_domain', 'connector', 'client_ip', 'tls_version', 'auth_user',
  'size', 'content_sha256', 'object_key', 'object_offset', 'object_length', 'wrapped_key', 'key_id', 'subject_sealed', 'verdict', 'retain_until', 'hold', 'purged_at',
];

export const RECIPIENT_COLUMNS: readonly (keyof ArchiveRecipientColumns)[] = [
  'archive_id', 'seq', 'address', 'domain', 'bcc', 'method', 'requirement', 'decision', 'key_fingerprint', 'key_source', 'state', 'attempts',
  'last_attempt_at', 'finished_at', 'evidence',
];

export type ArchivePart = 'message' | 'recipient';

/** A column value as the canonical form holds it: BLOBs (Buffer or Uint8Array, as sqlite3 returns them) as hex. */
function canonicalValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  return value;
}

/** The canonical object of one row: `part` and the listed columns (missing ones as null). */
export function canonicalRecord(part: ArchivePart, row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const columns = part === 'message' ? MESSAGE_COLUMNS : RECIPIENT_COLUMNS;
  const out: Record<string, unknown> = { part };
  for (const c of columns) out[c] = canonicalValue(row[c]);
  return out;
}

/** Lowercase hex SHA-256 of a row's canonical form. */
export function recordHash(part: ArchivePart, row: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(canonicalJson(canonicalRecord(part, row)), 'utf8').digest('hex');
}
