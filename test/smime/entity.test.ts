/** The inner entity and the outer fields of an S/MIME message: edge cases, no OpenSSL needed. */
import { describe, expect, it } from 'vitest';
import { innerEntity, outerFields, splitMessage } from '../../src/smime/entity.js';

const inner = (s: string): string => innerEntity(splitMessage(Buffer.from(s, 'latin1'))).toString('latin1');
const outer = (s: string, subject?: string): string => Buffer.concat(outerFields(splitMessage(Buffer.from(s, 'latin1')), subject)).toString('latin1');
const PLAIN_CT = 'Content-Type: text/plain; charset=us-ascii; protected-headers="v1"\r\n';

describe('inner entity', () => {
  it.for<[string, string, string]>([
    ['empty message', '', `${PLAIN_CT}\r\n`],
    ['headers only, no blank line', 'From: a\r\nSubject: s', `${PLAIN_CT}Subject: s\r\nFrom: a\r\n\r\n`.replace('Subject: s\r\nFrom: a', 'From: a\r\nSubject: s')],
    ['body only after a blank line', '\r\nhello\n', `${PLAIN_CT}\r\nhello\r\n`],
    [
      'Content-* kept with folding, protected fields after them, Bcc and others dropped, LF made CRLF',
      'X-A: 1\nContent-Type: multipart/mixed;\n\tboundary="b"\nContent-ID: <c>\nBcc: secret@x\nTo: t@x\nSubject: s\n\nbody',
      'Content-Type: multipart/mixed;\r\n\tboundary="b";\r\n protected-headers="v1"\r\nContent-ID: <c>\r\nTo: t@x\r\nSubject: s\r\n\r\nbody',
    ],
    ['8-bit header bytes copied as they are', 'Subject: f\u00fcr\r\n\r\nx', `${PLAIN_CT}Subject: f\u00fcr\r\n\r\nx`],
  ])('%s', ([, input, want]) => {
    expect(inner(input)).toBe(want);
  });
});

describe('outer fields', () => {
  it('transport fields as written, Bcc and X-* dropped, original Subject kept without a neutral one, MIME-Version once', () => {
    const msg = 'From: a@x\r\nBcc: hidden@x\r\nTo: b@y,\r\n c@y\r\nX-Note: n\r\nSubject: real\r\nMIME-Version: 1.0\r\nMessage-ID: <m@x>\r\n\r\nbody';
    expect(outer(msg)).toBe('From: a@x\r\nTo: b@y,\r\n c@y\r\nMessage-ID: <m@x>\r\nSubject: real\r\nMIME-Version: 1.0\r\n');
  });

  it('a neutral Subject replaces it, encoded, with no header injection', () => {
    const o = outer('From: a@x\r\nSubject: real\r\n\r\nbody', 'Vertraulich ✓\r\nBcc: x@evil.example');
    expect(o).not.toMatch(/^Bcc:/m);
    expect(o).not.toMatch(/real/);
    expect(o).toMatch(/^Subject: .*=\?UTF-8\?Q\?/m);
    // every continuation line starts with whitespace
    for (const line of o.split('\r\n').filter((l) => l !== '')) expect(line).toMatch(/^(?:[A-Za-z-]+:|[ \t])/);
  });
});
