/** The S/MIME text helpers: 76-column base64 written into one buffer, the RFC 2047 outer Subject. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeSubject, prefixedBase64Lines, wrapBase64 } from '../../src/smime/text.js';

describe('base64 lines', () => {
  it.for([0, 1, 2, 3, 56, 57, 58, 113, 114, 115, 1000, 65_537])('%i bytes: same as the string form, exact size, every line ≤ 76 + CRLF', (n) => {
    const bytes = randomBytes(n);
    const prefix = Buffer.from('Head: x\r\n\r\n');
    const out = prefixedBase64Lines(prefix, bytes);
    expect(out.toString('latin1')).toBe(`Head: x\r\n\r\n${wrapBase64(bytes)}`);
    expect(Buffer.from(out.subarray(prefix.length).toString('latin1').replace(/\r\n/g, ''), 'base64').equals(bytes)).toBe(true);
  });
});

describe('outer Subject', () => {
  it('keeps printable ASCII, turns control characters into spaces, B-encodes the rest in words ≤ 75 characters', () => {
    expect(encodeSubject('Secure message')).toBe('Secure message');
    expect(encodeSubject('a\r\nBcc: x')).toBe('a  Bcc: x');
    const enc = encodeSubject('Ünïcödé ✓ '.repeat(10));
    for (const line of enc.split('\r\n')) expect(line.trim().length).toBeLessThanOrEqual(75);
    const decoded = enc
      .split('\r\n ')
      .map((w) => Buffer.from(w.slice('=?UTF-8?B?'.length, -2), 'base64'))
      .reduce((a, b) => Buffer.concat([a, b]), Buffer.alloc(0))
      .toString('utf8');
    expect(decoded).toBe('Ünïcödé ✓ '.repeat(10));
  });
});
