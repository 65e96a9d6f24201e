/**
 * How an archived recipient's stored decision and evidence come back to an
 * auditor (pure): the contract's `tls` object, null without TLS or without
 * an attempt; and the CLI's text forms and --reason checks, table-driven.
 */
import { describe, expect, it } from 'vitest';
import { attemptEvidence, type AttemptFacts } from '../../src/archive/evidence.js';
import type { SearchEntry } from '../../src/archive/search.js';
import { shownRecipient, type ShownEntry } from '../../src/archive/show.js';
import { checkReason, formatSearchLine, formatShow, MAX_REASON, printable } from '../../src/cli/commands/archive-search.js';
import { CliExit } from '../../src/cli/context.js';

const row = (evidence: string | null, extra: Record<string, unknown> = {}) => ({
  seq: 1, address: 'bob@example.org', domain: 'example.org', bcc: 0, method: 'tls-verified', requirement: 'verify', decision: '["PHI: verified TLS required"]',
  key_fingerprint: null, key_source: null, state: 'delivered', attempts: 1, last_attempt_at: Date.UTC(2026, 11, 5, 9), finished_at: Date.UTC(2026, 11, 5, 9), evidence, ...extra,
});

const verified: AttemptFacts = {
  reply: { code: 250, enhanced: '2.0.0', text: '2.0.0 Ok: queued' },
  mx: 'mx.example.org',
  ip: '192.0.2.25',
  tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized: true, certSha256: 'AB:CD' },
  policy: 'sts',
  stsMode: 'enforce',
};

describe('shownRecipient', () => {
  it.each<[string, string | null, unknown]>([
    ['verified TLS', attemptEvidence(verified, { requirement: 'verify' }), { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true, certSha256: 'AB:CD' }],
    ['unverified TLS with the reason', attemptEvidence({ ...verified, tls: { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', authorized: false, authError: 'self-signed certificate' } }, { requirement: 'encrypt' }), { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', verified: false, certError: 'self-signed certificate' }],
    ['an attempt without TLS', attemptEvidence({ reply: { code: 421, text: 'connection refused' }, mx: 'mx.example.org' }, { requirement: 'may' }), null],
    ['no attempt', null, null],
    ['evidence that is not JSON', '{broken', null],
  ])('%s', (_name, evidence, tls) => {
    const r = shownRecipient(row(evidence));
    expect(r.tls).toEqual(tls);
    expect(r).toMatchObject({ address: 'bob@example.org', method: 'tls-verified', state: 'delivered', reasons: ['PHI: verified TLS required'], bcc: false, lastAttemptAt: '2026-12-05T09:00:00.000Z' });
  });

  it('keeps the whole evidence: MX, IP, MTA-STS, requirement and reply', () => {
    expect(shownRecipient(row(attemptEvidence(verified, { requirement: 'verify' }))).evidence).toEqual({
      mx: 'mx.example.org', ip: '192.0.2.25', tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true, certSha256: 'AB:CD' }, mtaSts: 'enforce', tlsPolicy: 'sts', requirement: 'verify',
      reply: { code: 250, enhanced: '2.0.0', text: '2.0.0 Ok: queued' },
    });
  });

  it('reasons that are not a list of strings come back empty', () => {
    expect(shownRecipient(row(null, { decision: '{"x":1}' })).reasons).toEqual([]);
    expect(shownRecipient(row(null, { decision: null })).reasons).toEqual([]);
  });
});

const entry: SearchEntry = {
  id: '01M92PJYSD7JFYM40JTW', origin: 'smtp', messageId: 'm@x', receivedAt: '2026-12-05T09:00:00.000Z', archivedAt: '2026-12-05T09:00:01.000Z', sender: '', connector: 'm365', size: 1234,
  phi: true, categories: ['MRN', 'DOB'], hold: true, purged: false, recipientCount: 3,
  recipients: [{ address: 'a@x.test', method: 'pgp', state: 'delivered' }, { address: 'b@y.test', method: null, state: 'held' }],
};

describe('text forms', () => {
  it.each<[string, SearchEntry, string]>([
    ['PHI, null sender, more recipients than listed, hold', entry, '01M92PJYSD7JFYM40JTW  2026-12-05T09:00:00.000Z  <> -> a@x.test pgp/delivered, b@y.test -/held (+1 more)  PHI [MRN,DOB]  1234 bytes  HOLD'],
    ['no PHI, purged', { ...entry, sender: 'a@b.test', phi: false, categories: [], hold: false, purged: true, recipientCount: 1, recipients: [{ address: 'c@d.test', method: 'tls-verified', state: 'bounced' }] }, '01M92PJYSD7JFYM40JTW  2026-12-05T09:00:00.000Z  a@b.test -> c@d.test tls-verified/bounced  no PHI  1234 bytes  PURGED'],
  ])('search line: %s', (_name, e, line) => {
    expect(formatSearchLine(e)).toBe(line);
  });

  it('show: the evidence of each recipient, a purged subject and the reply without its enhanced code twice', () => {
    const shown: ShownEntry = {
      id: entry.id, origin: 'smtp', messageId: null, receivedAt: entry.receivedAt, archivedAt: entry.archivedAt, sender: 'a@b.test', senderDomain: 'b.test', connector: 'm365', clientIp: '127.0.0.1',
      tlsVersion: 'TLSv1.3', authUser: null, size: 10, contentSha256: 'ff', retainUntil: '2032-12-03T09:00:00.000Z', hold: false, purgedAt: '2033-01-01T00:00:00.000Z', subject: null,
      subjectNote: 'purged: the entry key was destroyed', verdict: { inspected: true, phi: false, findings: [{ category: 'NPI', count: 2, confidence: 'high' }], rules: ['r1'] },
      recipients: [shownRecipient(row(attemptEvidence(verified, { requirement: 'verify' }))), shownRecipient(row(null, { seq: 2, address: 'c@d.test', state: 'held', method: 'quarantine', attempts: 0, finished_at: null, last_attempt_at: null }))],
    };
    expect(formatShow(shown).split('\n')).toEqual([
      `entry:        ${entry.id} (smtp)`,
      'message-id:   -',
      'received:     2026-12-05T09:00:00.000Z through connector m365 from 127.0.0.1 over TLSv1.3',
      'archived:     2026-12-05T09:00:01.000Z',
      'sender:       a@b.test',
      'subject:      (purged: the entry key was destroyed)',
      'size:         10 bytes, sha256 ff',
      'verdict:      no PHI; NPI×2 (high); rules r1',
      'retained to:  2032-12-03T09:00:00.000Z',
      'purged:       2033-01-01T00:00:00.000Z (key destroyed: the content cannot be read)',
      'recipients:',
      '  1. bob@example.org  tls-verified (transport verify)  delivered  attempts 1  final 2026-12-05T09:00:00.000Z',
      '     why: PHI: verified TLS required',
      '     last attempt 2026-12-05T09:00:00.000Z via mx.example.org [192.0.2.25]: TLSv1.3 TLS_AES_256_GCM_SHA384, certificate verified (sha256 AB:CD); MTA-STS enforce, policy sts, required verify',
      '     reply: 250 2.0.0 Ok: queued',
      '  2. c@d.test  quarantine (transport verify)  held  attempts 0',
      '     why: PHI: verified TLS required',
      '     no attempt',
    ]);
  });
});

describe('printable', () => {
  it.each<[string, string]>([
    ['Lab results – März ✓', 'Lab results – März ✓'],
    ['\u001b[2J\u001b]0;owned\u0007', '?[2J?]0;owned?'],
    ['a\r\nb\tc', 'a??b?c'],
    ['\u009b31m', '?31m'],
    ['invoice\u202egnp.exe', 'invoice?gnp.exe'],
    ['\u2066x\u2069', '?x?'],
  ])('%j', (text, shown) => {
    expect(printable(text)).toBe(shown);
  });

  it('applies to the subject and the remote reply in show', () => {
    const r = shownRecipient(row(attemptEvidence({ ...verified, reply: { code: 550, text: 'no \u001b[31mway' } }, { requirement: 'verify' })));
    const text = formatShow({
      id: 'X', origin: 'smtp', messageId: null, receivedAt: '', archivedAt: '', sender: 'a@b', senderDomain: 'b', connector: 'c', clientIp: '127.0.0.1', tlsVersion: null, authUser: null, size: 1,
      contentSha256: 'ff', retainUntil: '', hold: false, purgedAt: null, subject: 'hi\u001b]8;;http://x\u0007', verdict: {}, recipients: [r],
    });
    expect(text).toContain('subject:      hi?]8;;http://x?');
    expect(text).toContain('reply: 550 no ?[31mway');
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });
});

describe('checkReason', () => {
  it.each<[string | undefined, string | RegExp]>([
    ['subpoena 2026-17', 'subpoena 2026-17'],
    ['  trimmed  ', 'trimmed'],
    ['x'.repeat(MAX_REASON), 'x'.repeat(MAX_REASON)],
    [undefined, /^--content needs --reason TEXT/],
    ['   ', /^--content needs --reason TEXT/],
    ['x'.repeat(MAX_REASON + 1), /^--reason is longer than 500 characters$/],
    ['a\nb', /^--reason must be one line of text$/],
    ['tab\there', /^--reason must be one line of text$/],
  ])('%j', (reason, expected) => {
    if (typeof expected === 'string') {
      expect(checkReason(reason)).toBe(expected);
      return;
    }
    expect(() => checkReason(reason)).toThrow(CliExit);
    expect(() => checkReason(reason)).toThrow(expected);
  });
});
