/**
 * Archive rows for the archive verify tests (one entry, one recipient),
 * with the columns a real entry carries; the ciphertext columns are random.
 */
import { randomBytes } from 'node:crypto';
import type { ArchiveMessageColumns, ArchiveRecipientColumns } from '../../src/archive/records.js';

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
