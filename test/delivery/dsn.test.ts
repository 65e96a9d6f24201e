import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { buildDsn, sanitizeDiagnostic, wantsDsn, withholdSubject, type DsnAction, type DsnInput, type DsnRecipient } from '../../src/delivery/dsn.js';

const T0 = Date.UTC(2026, 10, 24, 9, 30);
const PHI_SUBJECT = 'Patient Jane Roe DOB 1970-01-01 HIV panel';
const ORIGINAL = Buffer.from(
  [
    'Received: from client.test ([127.0.0.1])',
    '\tby gw.test (Sealgate) with ESMTPS id 01ABCDEFGHJKMNPQRSXY',
    `Subject: ${PHI_SUBJECT}`,
    ' continued on a folded line',
    'Thread-Topic: Patient Jane Roe DOB 1970-01-01',
    'From: Alice <alice@example.com>',
    'To: bob@example.net',
    'Message-ID: <orig-1@example.com>',
    'Date: Tue, 24 Nov 2026 09:29:00 +0000',
    '',
    'BODY-MARKER patient notes',
    '',
  ].join('\r\n'),
);

function input(recipients: DsnRecipient[], extra: Partial<DsnInput> = {}): DsnInput {
  return { reportingMta: 'gw.test', queueId: '01ABCDEFGHJKMNPQRSXY', arrivalDate: T0, originalSender: 'alice@example.com', recipients, originalHeaders: ORIGINAL, now: T0 + 3_600_000, messageId: '<01ABCDEFGHJKMNPQRSXY.dsn@gw.test>', ...extra };
}

const failed: DsnRecipient = { address: 'bob@example.net', orcpt: 'rfc822;bob@example.net', action: 'failed', status: '5.1.1', remoteMta: 'mx.example.net', diagnosticCode: '550 5.1.1 <bob@example.net>: user unknown', lastAttemptAt: T0 + 60_000 };
const delayed: DsnRecipient = { address: 'carol@example.org', action: 'delayed', status: '4.4.1', remoteMta: 'mx.example.org', diagnosticCode: 'connection refused', lastAttemptAt: T0 + 60_000, willRetryUntil: T0 + 5 * 86_400_000 };

describe('buildDsn', () => {
  it.each<[string, DsnInput, { subject: string; fields: RegExp[] }]>([
    ['a failure with ORCPT and ENVID', input([failed], { envid: 'env-42' }), { subject: 'Undelivered Mail Returned to Sender', fields: [/^Original-Envelope-Id: env-42$/m, /^Original-Recipient: rfc822;bob@example\.net$/m, /^Final-Recipient: rfc822;bob@example\.net$/m, /^Action: failed$/m, /^Status: 5\.1\.1$/m, /^Remote-MTA: dns; mx\.example\.net$/m, /^Diagnostic-Code: smtp; 550 5\.1\.1 <bob@example\.net>: user unknown$/m] }],
    ['a delay warning', input([delayed]), { subject: 'Delayed Mail (still being retried)', fields: [/^Action: delayed$/m, /^Status: 4\.4\.1$/m, /^Will-Retry-Until: Sun, 29 Nov 2026 09:30:00 \+0000$/m] }],
    ['failure and delay in one notice', input([failed, delayed]), { subject: 'Undelivered Mail Returned to Sender', fields: [/^Action: failed$/m, /^Action: delayed$/m] }],
    ['an internationalised recipient', input([{ ...failed, address: 'jos\u00e9@ex\u00e4mple.test', orcpt: undefined }]), { subject: 'Undelivered Mail Returned to Sender', fields: [/^Final-Recipient: utf-8;jos\\x\{E9\}@ex\\x\{E4\}mple\.test$/m] }],
  ])('%s', async (_name, dsnInput, expected) => {
    const raw = await buildDsn(dsnInput);
    const text = raw.toString('latin1');
    // transport-safe: CRLF only, no line over 998 characters
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(text.split('\r\n').every((l) => l.length <= 998)).toBe(true);
    // never the subject or the body of the original
    expect(text).not.toContain('Jane Roe');
    expect(text).not.toContain('BODY-MARKER');
    expect(text).not.toContain('HIV');

    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(expected.subject);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(String(parsed.headers.get('content-type') && (parsed.headers.get('content-type') as { value: string }).value)).toBe('multipart/report');
    const types = [...text.matchAll(/^Content-Type: ([a-z0-9/.-]+)/gim)].map((m) => m[1]?.toLowerCase());
    expect(types).toEqual(['multipart/report', 'text/plain', 'message/delivery-status', 'text/rfc822-headers']);

    const status = /Content-Type: message\/delivery-status\r\n(?:[^\r]+\r\n)*\r\n([\s\S]*?)\r\n--/.exec(text)?.[1] ?? '';
    const blocks = status.trim().split('\r\n\r\n');
    expect(blocks[0]).toMatch(/^Reporting-MTA: dns; gw\.test$/m);
    expect(blocks[0]).toMatch(/^X-Sealgate-Queue-ID: 01ABCDEFGHJKMNPQRSXY$/m);
    expect(blocks).toHaveLength(1 + dsnInput.recipients.length);
    for (const f of expected.fields) expect(status).toMatch(f);

    const headersPart = /Content-Type: text\/rfc822-headers\r\n(?:[^\r]+\r\n)*\r\n([\s\S]*?)\r\n--/.exec(text)?.[1] ?? '';
    expect(headersPart).toContain('Message-ID: <orig-1@example.com>');
    expect(headersPart).toContain('From: Alice <alice@example.com>');
    expect(headersPart).toContain('\tby gw.test (Sealgate)');
    expect(headersPart).toContain('Subject: [withheld by Sealgate');
    expect(headersPart).not.toContain('Thread-Topic');
  });

  it('refuses to build a notice about nobody', async () => {
    await expect(buildDsn(input([]))).rejects.toThrow(RangeError);
  });
});

describe('sanitizeDiagnostic', () => {
  it.each<[string, string]>([
    ['550 5.1.1 user unknown', '550 5.1.1 user unknown'],
    ['550 5.7.1 bad\r\nInjected-Header: yes', '550 5.7.1 bad Injected-Header: yes'],
    ['451 4.3.0 caf\u00e9\u0000', '451 4.3.0 caf??'],
    [`550 ${'x'.repeat(400)}`, `550 ${'x'.repeat(193)}...`],
  ])('%j', (raw, expected) => {
    expect(sanitizeDiagnostic(raw)).toBe(expected);
  });
});

describe('withholdSubject', () => {
  it('keeps identifying headers with their folded lines and replaces the subject', () => {
    expect(withholdSubject(ORIGINAL)).toBe(
      'Received: from client.test ([127.0.0.1])\r\n\tby gw.test (Sealgate) with ESMTPS id 01ABCDEFGHJKMNPQRSXY\r\nFrom: Alice <alice@example.com>\r\nTo: bob@example.net\r\nMessage-ID: <orig-1@example.com>\r\nDate: Tue, 24 Nov 2026 09:29:00 +0000\r\nSubject: [withheld by Sealgate: may contain protected health information]\r\n',
    );
  });
});

describe('wantsDsn (RFC 3461)', () => {
  it.each<[string | null, DsnAction, boolean]>([
    [null, 'failed', true],
    [null, 'delayed', true],
    [null, 'delivered', false],
    ['NEVER', 'failed', false],
    ['FAILURE', 'failed', true],
    ['FAILURE', 'delayed', false],
    ['SUCCESS,FAILURE', 'delivered', true],
    ['delay', 'delayed', true],
    ['SUCCESS', 'failed', false],
  ])('NOTIFY=%s, %s → %s', (notify, action, expected) => {
    expect(wantsDsn(notify, action)).toBe(expected);
  });
});
