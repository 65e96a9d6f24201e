/**
 * The archive the reports tests read (reports.test.ts on SQLite,
 * figures-both.test.ts on both databases): rows written by the archive's own
 * insertArchiveEntries, verdicts and evidence built by the archive's own
 * functions, portal rows as the portal stores them.
 */
import { insertArchiveEntries, type NewArchiveEntry } from '../../src/archive/entries.js';
import { attemptEvidence } from '../../src/archive/evidence.js';
import { archiveVerdict } from '../../src/archive/verdict.js';
import { DAY_MS } from '../../src/console/figures/window.js';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { NOW } from './console-web-helper.js';

/*
 * The archive as the daemon writes it, over three days ending at NOW's day:
 *   day 1: A → carol@verified.test (tls-verified, TLSv1.3, DANE, delivered) and
 *          nobody@strict.test (tls-opportunistic, TLSv1.2, not verified, bounced 550 5.1.1);
 *   day 2: B (PHI: 2 SSN, 1 MRN) → dan@verified.test (tls-verified, MTA-STS enforce) and
 *          pat@gmail.test, pia@gmail.test (portal; pat opened and replied);
 *   day 3: C (PHI: 1 SSN) → erin@held.test (quarantine, held); D → x@plain.test
 *          (tls-opportunistic, no TLS, expired after 421) and y@pgp.test (pgp, TLSv1.3).
 */
const DAY1 = Date.UTC(2026, 11, 3, 10);
export const REPORT_IDS = { a: '0123456789ABCDEFGH01', b: '0123456789ABCDEFGH02', c: '0123456789ABCDEFGH03', d: '0123456789ABCDEFGH04' };

function entry(id: string, receivedAt: number, findings: { category: string; count: number }[] | undefined, recipients: [string, string, string, string | null][]): NewArchiveEntry {
  const verdict = archiveVerdict(findings ? JSON.stringify({ phi: findings.length > 0, findings }) : null);
  return {
    entry: {
      id,
      origin: 'smtp',
      message_id: null,
      received_at: receivedAt,
      archived_at: receivedAt + 5,
      sender: 'alice@example.com',
      sender_domain: 'example.com',
      connector: 'loopback',
      client_ip: '127.0.0.1',
      tls_version: null,
      auth_user: null,
      size: 100,
      content_sha256: '0'.repeat(64),
      object_key: `k-${id}`,
      object_offset: 0,
      object_length: 100,
      wrapped_key: null,
      key_id: null,
      subject_sealed: null,
      verdict: verdict.json,
      retain_until: receivedAt + 1000 * DAY_MS,
      hold: 0,
      purged_at: null,
    },
    recipients: recipients.map(([address, method, state, evidence], i) => ({
      archive_id: id,
      seq: i + 1,
      address,
      domain: address.split('@')[1] ?? '',
      bcc: 0,
      method,
      requirement: 'may',
      decision: '[]',
      key_fingerprint: null,
      key_source: null,
      state,
      attempts: evidence ? 1 : 0,
      last_attempt_at: evidence ? receivedAt + 1000 : null,
      finished_at: ['delivered', 'bounced', 'expired'].includes(state) ? receivedAt + 2000 : null,
      evidence,
    })),
    terms: verdict.categories.map((c) => `category:${c}`),
  };
}

const ok = { code: 250, enhanced: '2.0.0', text: 'ok' };
const tls13 = (verified: boolean, dane?: string) => ({ version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized: verified, ...(dane ? { dane } : {}) });
const ev = (facts: Parameters<typeof attemptEvidence>[0]) => attemptEvidence({ mx: 'mx.test', ip: '127.0.0.41', ...facts }, { requirement: 'may' });
const portalEvidence = (depositId: string) => JSON.stringify({ portal: { depositId }, tls: null });

export async function fillReportArchive(db: SqlDatabase): Promise<void> {
  const ids = REPORT_IDS;
  const items = [
    entry(ids.a, DAY1, [], [
      ['carol@verified.test', 'tls-verified', 'delivered', ev({ reply: ok, tls: tls13(true, 'DANE-EE') })],
      ['nobody@strict.test', 'tls-opportunistic', 'bounced', ev({ reply: { code: 550, enhanced: '5.1.1', text: '5.1.1 <nobody@strict.test> unknown' }, tls: { version: 'TLSv1.2', cipher: 'ECDHE', authorized: false, authError: 'SELF_SIGNED' } })],
    ]),
    entry(ids.b, DAY1 + DAY_MS, [{ category: 'SSN', count: 2 }, { category: 'MRN', count: 1 }], [
      ['dan@verified.test', 'tls-verified', 'delivered', ev({ reply: ok, tls: tls13(true), stsMode: 'enforce', policy: 'sts' })],
      ['pat@gmail.test', 'portal', 'delivered', portalEvidence('d1')],
      ['pia@gmail.test', 'portal', 'delivered', portalEvidence('d1')],
    ]),
    entry(ids.c, DAY1 + 2 * DAY_MS, [{ category: 'SSN', count: 1 }], [['erin@held.test', 'quarantine', 'held', null]]),
    entry(ids.d, DAY1 + 2 * DAY_MS + 60_000, undefined, [
      ['x@plain.test', 'tls-opportunistic', 'expired', ev({ reply: { code: 421, text: 'try later' } })],
      ['y@pgp.test', 'pgp', 'delivered', ev({ reply: ok, tls: tls13(true) })],
    ]),
    // outside the window (the day before): counted nowhere
    entry('0123456789ABCDEFGH00', DAY1 - DAY_MS, [{ category: 'SSN', count: 7 }], [['old@verified.test', 'block', 'bounced', null]]),
  ];
  await db.transaction((tx) => insertArchiveEntries(tx, items, NOW));
  await db.run("INSERT INTO portal_messages (deposit_id, queue_id, object_key, wrapped_key, key_id, size, created_at, expires_at, sender) VALUES ('d1', ?, 'p-d1', NULL, 'k', 10, ?, ?, 'alice@example.com')", [ids.b, DAY1 + DAY_MS, DAY1 + 30 * DAY_MS]);
  await db.run("INSERT INTO portal_recipients (deposit_id, seq, address, token_hash, notified_at, opened_at, replied_at) VALUES ('d1', 1, 'pat@gmail.test', 'h1', ?, ?, ?), ('d1', 2, 'pia@gmail.test', 'h2', ?, NULL, NULL)", [DAY1 + DAY_MS, DAY1 + DAY_MS + 5000, DAY1 + DAY_MS + 9000, DAY1 + DAY_MS]);
}
