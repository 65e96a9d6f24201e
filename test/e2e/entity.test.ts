import { describe, expect, it } from 'vitest';
import { fieldValue, parseHeaderFields, splitMessage, toCrlf } from '../../src/e2e/entity.js';
import { innerHeader, outerHeader, subjectField, withProtectedHeadersParam } from '../../src/e2e/pgp-mime.js';
import { decodeEncodedWords } from '../../src/delivery/header-rewrite.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('toCrlf', () => {
  it.each([
    ['a\r\nb\r\n', 'a\r\nb\r\n'],
    ['a\nb\n', 'a\r\nb\r\n'],
    ['\na', '\r\na'],
    ['a\rb\r', 'a\r\nb\r\n'],
    ['a\r\n\nb\r\r\n', 'a\r\n\r\nb\r\n\r\n'],
    ['', ''],
    ['\r', '\r\n'],
    ['\n\r', '\r\n\r\n'],
    ['\r\r\n\n', '\r\n\r\n\r\n'],
  ])('%j', (input, want) => {
    expect(toCrlf(bytes(input)).toString('latin1')).toBe(want);
  });

  it('returns the same buffer when there is nothing to change', () => {
    const b = bytes('x\r\ny\r\n');
    expect(toCrlf(b)).toBe(b);
  });

  it('keeps 8-bit bytes as they are', () => {
    const b = Buffer.from([0xc3, 0xa4, 0x0a, 0xff, 0x00]);
    expect([...toCrlf(b)]).toEqual([0xc3, 0xa4, 0x0d, 0x0a, 0xff, 0x00]);
  });
});

describe('header fields', () => {
  it('keeps folded fields whole and as written', () => {
    const fields = parseHeaderFields('Subject: a\r\n  b\r\nTo: x@y.example,\r\n\tz@y.example\r\nbroken line\r\nX-Empty:\r\n');
    expect(fields.map((f) => f.name)).toEqual(['Subject', 'To', 'X-Empty']);
    expect(fields[0]?.raw).toBe('Subject: a\r\n  b\r\n');
    expect(fieldValue(fields[0] ?? { name: '', raw: '' })).toBe('a  b');
    expect(fieldValue(fields[1] ?? { name: '', raw: '' })).toBe('x@y.example,\tz@y.example');
  });

  it('splits at the first blank line; a message without one is all header; one that starts blank has none', () => {
    const m = splitMessage(bytes('A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore\r\n'));
    expect(m.fields.map((f) => f.name)).toEqual(['A', 'B']);
    expect(m.body.toString('latin1')).toBe('body\r\n\r\nmore\r\n');
    const noBody = splitMessage(bytes('A: 1\r\n'));
    expect(noBody.fields).toHaveLength(1);
    expect(noBody.body.length).toBe(0);
    const noHeader = splitMessage(bytes('\r\nonly body\r\n'));
    expect(noHeader.fields).toHaveLength(0);
    expect(noHeader.body.toString('latin1')).toBe('only body\r\n');
  });
});

describe('the entity header and the outer header', () => {
  const fields = parseHeaderFields(
    [
      'Received: from x by y',
      'From: a@hospital.example',
      'To: b@example.org',
      'Bcc: secret@example.net',
      // raw UTF-8 (SMTPUTF8), read as latin1
      `Subject: ${Buffer.from('Müller 診断', 'utf8').toString('latin1')}`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed;',
      ' boundary="b1"; protected-headers=v1',
      'Content-Transfer-Encoding: 7bit',
      'X-Internal: yes',
      'DKIM-Signature: v=1; d=hospital.example',
      '',
    ].join('\r\n'),
  );

  it('puts protected-headers="v1" on the Content-Type once, keeps the other Content-* fields and the protected headers, nothing else', () => {
    const head = innerHeader(fields);
    expect(head).toBe(
      'Content-Type: multipart/mixed;\r\n boundary="b1";\r\n protected-headers="v1"\r\n' +
        'Content-Transfer-Encoding: 7bit\r\n' +
        'From: a@hospital.example\r\nTo: b@example.org\r\n' +
        `Subject: ${Buffer.from('Müller 診断', 'utf8').toString('latin1')}\r\n`,
    );
    // raw 8-bit header bytes survive unchanged
    expect(Buffer.from(head, 'latin1').toString('utf8')).toContain('Subject: Müller 診断\r\n');
  });

  it('defaults a missing Content-Type', () => {
    expect(withProtectedHeadersParam(undefined)).toBe('Content-Type: text/plain; charset=us-ascii; protected-headers="v1"\r\n');
    expect(withProtectedHeadersParam({ name: 'Content-Type', raw: 'Content-Type: text/plain;\r\n' })).toBe('Content-Type: text/plain;\r\n protected-headers="v1"\r\n');
  });

  it('keeps only transport headers outside, with the neutral Subject encoded when not ASCII', () => {
    const head = outerHeader(fields, 'B', 'Nachricht für Sie');
    expect(head).not.toMatch(/^(Received|Bcc|X-Internal|DKIM-Signature|Content-Transfer-Encoding):/im);
    expect(head).not.toContain('M\u00c3\u00bcller');
    expect(head.match(/^Subject:/gim)).toHaveLength(1);
    expect(head.match(/^MIME-Version:/gim)).toHaveLength(1);
    expect(head.match(/^Content-Type:/gim)).toHaveLength(1);
    const subject = /^Subject: (.*(?:\r\n[ \t].*)*)\r\n/m.exec(head)?.[1] ?? '';
    expect(subject).toMatch(/^[\x20-\x7e\r\n\t]+$/);
    expect(decodeEncodedWords(subject.replace(/\r\n(?=[ \t])/g, ''))).toBe('Nachricht für Sie');
    expect(outerHeader(fields, 'B', undefined)).toContain(`Subject: ${Buffer.from('Müller 診断', 'utf8').toString('latin1')}\r\n`);
  });

  it('a neutral Subject cannot inject a header', () => {
    expect(subjectField('Hello\r\nBcc: x@example.net')).toBe('Subject: Hello Bcc: x@example.net\r\n');
  });
  it('folds a long non-ASCII subject with white space at the start of each continuation line', () => {
    const subject = 'Vertrauliche Nachricht über Ihre Ergebnisse — bitte im Portal öffnen und lesen, danke schön';
    const field = subjectField(subject);
    const lines = field.split('\r\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines.slice(1)) expect(line, line).toMatch(/^[ \t]/);
    expect(decodeEncodedWords(field.replace(/^Subject: /, '').replace(/\r\n[ \t]/g, ' ').trim())).toBe(subject);
  });
});
