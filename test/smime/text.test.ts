/** The S/MIME text helpers: 76-column base64 written into one buffer, the RFC 2047 outer Subject. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Base64Lines, prefixedBase64Lines, wrapBase64 } from '../../src/smime/text.js';

describe('base64 lines', () => {
  it.for([0, 1, 2, 3, 56, 57, 58, 113, 114, 115, 1000, 65_537])('%i bytes: same as the string form, exact size, every line ≤ 76 + CRLF', (n) => {
    const bytes = randomBytes(n);
    const prefix = Buffer.from('Head: x\r\n\r\n');
    const out = prefixedBase64Lines(prefix, bytes);
    expect(out.toString('latin1')).toBe(`Head: x\r\n\r\n${wrapBase64(bytes)}`);
    expect(Buffer.from(out.subarray(prefix.length).toString('latin1').replace(/\r\n/g, ''), 'base64').equals(bytes)).toBe(true);
  });
});

describe('base64 lines, streamed', () => {
  it.for([0, 1, 56, 57, 58, 1000, 65_537, 200_003])('%i bytes fed in uneven pieces: the same text as wrapBase64 of the whole', (n) => {
    const bytes = randomBytes(n);
    const b64 = new Base64Lines();
    const out: Buffer[] = [];
    // piece sizes 1, 2, 5, 57, 58, 4096, … in turn, so carries of every length occur
    const sizes = [1, 2, 5, 57, 58, 4096, 113];
    for (let at = 0, i = 0; at < n; i++) {
      const size = sizes[i % sizes.length] ?? 1;
      out.push(b64.push(bytes.subarray(at, at + size)));
      at += size;
    }
    out.push(b64.end());
    expect(Buffer.concat(out).toString('latin1')).toBe(wrapBase64(bytes));
  });
});
