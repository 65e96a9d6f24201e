/**
 * The archive's pure parts, table-driven: the canonical row hash (what the
 * chain records), subject words and their keyed terms, the value-free
 * verdict an entry keeps, attempt evidence, the object key layout.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { archiveObjectKey } from '../../src/archive/content.js';
import { evidenceOf } from '../../src/archive/evidence.js';
import { canonicalRecord, MESSAGE_COLUMNS, RECIPIENT_COLUMNS, recordHash } from '../../src/archive/records.js';
import { categoryTerm, queryTerms, subjectTerms, subjectWords, termKey } from '../../src/archive/terms.js';
import { archiveVerdict } from '../../src/archive/verdict.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';

const recipient = {
  archive_id: '01JABCDEFGHJKMNPQRST',
  seq: 1,
  address: 'bob@example.net',
  domain: 'example.net',
  bcc: 0,
  method: 'tls-verified',
  requirement: 'verify',
  decision: '["phi"]',
  key_fingerprint: null,
  key_source: null,
  state: 'delivered',
  attempts: 1,
  last_attempt_at: 1000,
  finished_at: 1000,
  evidence: '{"tls":null}',
};

describe('recordHash', () => {
  it('is the SHA-256 of the canonical JSON of part and columns (sorted keys, BLOBs hex, missing as null)', () => {
    const canonical = canonicalRecord('recipient', recipient);
    expect(Object.keys(canonical).sort()).toEqual(['part', ...RECIPIENT_COLUMNS].sort());
    const text = JSON.stringify(Object.fromEntries(Object.entries(canonical).sort(([a], [b]) => (a < b ? -1 : 1))));
    expect(recordHash('recipient', recipient)).toBe(createHash('sha256').update(text).digest('hex'));
  });

  const cases: { name: string; change: Record<string, unknown> }[] = [
    { name: 'a changed state', change: { state: 'bounced' } },
    { name: 'another entry', change: { archive_id: '01JABCDEFGHJKMNPQRSV' } },
    { name: 'another recipient number', change: { seq: 2 } },
    { name: 'a number as a string', change: { attempts: '1' } },
    { name: 'evidence edited', change: { evidence: '{"tls":{"verified":true}}' } },
    { name: 'a null made empty', change: { key_source: '' } },
  ];
  for (const c of cases) {
    it(`changes with ${c.name}`, () => {
      expect(recordHash('recipient', { ...recipient, ...c.change })).not.toBe(recordHash('recipient', recipient));
    });
  }

  it('ignores record_seq and columns outside the table, and reads BLOBs as hex', () => {
    expect(recordHash('recipient', { ...recipient, record_seq: 99, extra: 'x' })).toBe(recordHash('recipient', recipient));
    const blob = Buffer.from([1, 2, 255]);
    const message = Object.fromEntries(MESSAGE_COLUMNS.map((c) => [c, null])) as Record<string, unknown>;
    expect(canonicalRecord('message', { ...message, wrapped_key: blob }).wrapped_key).toBe('0102ff');
    expect(recordHash('message', { ...message, wrapped_key: new Uint8Array(blob) })).toBe(recordHash('message', { ...message, wrapped_key: blob }));
    expect(recordHash('message', message)).not.toBe(recordHash('recipient', message));
  });
});

describe('subject words and terms', () => {
  const table: { subject: string; words: string[] }[] = [
    { subject: 'Re: LAB Results for March', words: ['re', 'lab', 'results', 'for', 'march'] },
    { subject: 'Befund – Müller, Ärztin', words: ['befund', 'müller', 'ärztin'] },
    { subject: 'ｆｕｌｌｗｉｄｔｈ TEXT', words: ['fullwidth', 'text'] },
    { subject: 'a b c x-ray x-ray', words: ['ray'] },
    { subject: '', words: [] },
    { subject: `${'a'.repeat(65)} ok`, words: ['ok'] },
  ];
  for (const t of table) {
    it(`splits ${JSON.stringify(t.subject.slice(0, 30))}`, () => {
      expect(subjectWords(t.subject)).toEqual(t.words);
    });
  }

  it('keeps at most 64 distinct words', () => {
    const many = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    expect(subjectWords(many)).toHaveLength(64);
  });

  it('stores keyed hashes, never the word; a query finds them under the current and the previous master key', () => {
    const oldKey = masterKeyFromBytes(Buffer.alloc(32, 1));
    const newKey = masterKeyFromBytes(Buffer.alloc(32, 2));
    const before = subjectTerms(new Keyring(oldKey), 'Lab results');
    expect(before.every((t) => /^s:[0-9a-f]{32}$/.test(t))).toBe(true);
    expect(before.join(' ')).not.toMatch(/lab|results/);
    const rotated = new Keyring(newKey, [oldKey]);
    const query = queryTerms(rotated, 'RESULTS');
    expect(query).toHaveLength(1);
    expect(query[0]).toContain(before[1]);
    expect(query[0]).toContain(subjectTerms(new Keyring(newKey), 'results')[0]);
    expect(termKey(oldKey).equals(termKey(newKey))).toBe(false);
    expect(categoryTerm('SSN')).toBe('category:SSN');
  });
});

describe('archiveVerdict', () => {
  const table: { name: string; summary: string | null; json: Record<string, unknown>; categories: string[] }[] = [
    { name: 'not inspected', summary: null, json: { inspected: false }, categories: [] },
    { name: 'unreadable summary', summary: '{oops', json: { inspected: false }, categories: [] },
    {
      name: 'PHI with findings (evidence dropped)',
      summary: JSON.stringify({
        phi: true,
        phiRule: 'patient-identifier',
        notFullyScanned: false,
        protection: 'verified-tls',
        subjectTag: false,
        findings: [
          { category: 'SSN', count: 2, confidence: 'high', evidence: ['***-**-1234'] },
          { category: 'MRN', count: 1, confidence: 'medium' },
          { category: 'SSN', count: 1 },
        ],
        methods: ['tls-verified'],
        rules: ['r1'],
        subjectSensitive: true,
      }),
      json: {
        inspected: true,
        phi: true,
        phiRule: 'patient-identifier',
        notFullyScanned: false,
        protection: 'verified-tls',
        subjectTag: false,
        findings: [
          { category: 'SSN', count: 2, confidence: 'high' },
          { category: 'MRN', count: 1, confidence: 'medium' },
          { category: 'SSN', count: 1 },
        ],
        methods: ['tls-verified'],
        rules: ['r1'],
      },
      categories: ['SSN', 'MRN'],
    },
    {
      name: 'clean, odd types ignored',
      summary: JSON.stringify({ phi: 'yes', findings: [null, 5, { count: 3 }], methods: ['tls-verified', 7], rules: 'x' }),
      json: { inspected: true, phi: false, notFullyScanned: false, subjectTag: false, findings: [], methods: ['tls-verified'], rules: [] },
      categories: [],
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      const v = archiveVerdict(t.summary);
      expect(JSON.parse(v.json)).toEqual(t.json);
      expect(v.categories).toEqual(t.categories);
      expect(v.json).not.toContain('***');
    });
  }
});

describe('attempt evidence', () => {
  const table: { name: string; attempt: Parameters<typeof evidenceOf>[0]; job: Parameters<typeof evidenceOf>[1]; want: unknown }[] = [
    {
      name: 'verified TLS with DANE and MTA-STS',
      attempt: { reply: { code: 250, enhanced: '2.0.0', text: '250 2.0.0 ok' }, mx: 'mx.example.net', ip: '127.0.0.2', tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized: true, certSha256: 'ab', dane: '3 1 1' }, policy: 'sts', stsMode: 'enforce' },
      job: { requirement: 'verify' },
      want: { mx: 'mx.example.net', ip: '127.0.0.2', tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true, certSha256: 'ab', dane: '3 1 1' }, mtaSts: 'enforce', tlsPolicy: 'sts', requirement: 'verify', reply: { code: 250, enhanced: '2.0.0', text: '250 2.0.0 ok' } },
    },
    {
      name: 'unverified certificate, end-to-end copy',
      attempt: { reply: { code: 250, text: 'ok' }, mx: 'mx', tls: { version: 'TLSv1.2', cipher: 'ECDHE', authorized: false, authError: 'SELF_SIGNED' } },
      job: { requirement: 'may', e2e: { method: 'pgp' } },
      want: { mx: 'mx', tls: { version: 'TLSv1.2', cipher: 'ECDHE', verified: false, certError: 'SELF_SIGNED' }, requirement: 'may', method: 'pgp', reply: { code: 250, text: 'ok' } },
    },
    {
      name: 'no connection, long text cut',
      attempt: { reply: { text: 'x'.repeat(600) } },
      job: { requirement: 'verify' },
      want: { tls: null, requirement: 'verify', reply: { text: 'x'.repeat(512) } },
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      expect(evidenceOf(t.attempt, t.job)).toEqual(t.want);
    });
  }
});

describe('archiveObjectKey', () => {
  const table: { at: number; want: string }[] = [
    { at: Date.UTC(2026, 0, 1), want: 'archive/2026/01/ID' },
    { at: Date.UTC(2026, 11, 31, 23, 59), want: 'archive/2026/12/ID' },
    { at: 0, want: 'archive/1970/01/ID' },
  ];
  for (const t of table) {
    it(`${new Date(t.at).toISOString()} → ${t.want}`, () => {
      expect(archiveObjectKey('ID', t.at)).toBe(t.want);
    });
  }
});
