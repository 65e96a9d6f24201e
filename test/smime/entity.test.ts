/** Splitting the original into transport header fields and the inner entity: edge cases, no OpenSSL needed. */
import { describe, expect, it } from 'vitest';
import { innerEntity, splitMessage, toCrlf } from '../../src/smime/entity.js';

const inner = (s: string): string => innerEntity(splitMessage(Buffer.from(s, 'latin1'))).toString('latin1');

describe('inner entity', () => {
  it.for<[string, string, string]>([
    ['empty message', '', 'Content-Type: text/plain; charset=us-ascii\r\n\r\n'],
    ['headers only, no blank line', 'From: a\r\nSubject: s', 'Content-Type: text/plain; charset=us-ascii\r\nSubject: s\r\n\r\n'],
    ['body only after a blank line', '\r\nhello\n', 'Content-Type: text/plain; charset=us-ascii\r\n\r\nhello\r\n'],
    ['Content-* kept in order, folding kept, others dropped', 'X-A: 1\nContent-Type: multipart/mixed;\n\tboundary="b"\nContent-ID: <c>\nBcc: secret@x\nSubject: s\n\nbody', 'Content-Type: multipart/mixed;\r\n\tboundary="b"\r\nContent-ID: <c>\r\nSubject: s\r\n\r\nbody'],
    ['8-bit header bytes copied as they are', 'Subject: f\u00fcr\r\n\r\nx', 'Content-Type: text/plain; charset=us-ascii\r\nSubject: f\u00fcr\r\n\r\nx'],
    ['a line without a colon is dropped', 'garbage line\r\nSubject: s\r\n\r\nx', 'Content-Type: text/plain; charset=us-ascii\r\nSubject: s\r\n\r\nx'],
  ])('%s', ([, input, want]) => {
    expect(inner(input)).toBe(want);
  });

  it('header names are matched without regard to case; the body is not searched for headers', () => {
    const s = splitMessage(Buffer.from('FROM: a\r\nsubject: s\r\n\r\nContent-Type: text/html\r\n'));
    expect(s.headers.map((h) => h.name)).toEqual(['from', 'subject']);
    expect(s.body.toString()).toBe('Content-Type: text/html\r\n');
  });

  it('toCrlf: bare LF become CRLF, CRLF and lone CR stay, no copy when nothing changes', () => {
    expect(toCrlf(Buffer.from('a\nb\r\nc\rd\n')).toString()).toBe('a\r\nb\r\nc\rd\r\n');
    const same = Buffer.from('a\r\nb');
    expect(toCrlf(same)).toBe(same);
    expect(toCrlf(Buffer.from('\n')).toString()).toBe('\r\n');
  });
});
