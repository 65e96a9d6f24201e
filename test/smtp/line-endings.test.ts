import { describe, expect, it } from 'vitest';
import { LineEndingNormalizer } from '../../src/smtp/line-endings.js';

function run(chunks: string[]): { out: string; bare: number } {
  const n = new LineEndingNormalizer();
  const parts = chunks.map((c) => n.push(Buffer.from(c, 'latin1')));
  parts.push(n.end());
  return { out: Buffer.concat(parts).toString('latin1'), bare: n.bareCount };
}

describe('LineEndingNormalizer', () => {
  it.each([
    ['CRLF untouched', ['a\r\nb\r\n'], 'a\r\nb\r\n', 0],
    ['bare LF', ['a\nb\n'], 'a\r\nb\r\n', 2],
    ['bare CR', ['a\rb\r\n'], 'a\r\nb\r\n', 1],
    ['smuggling \\n.\\n stays data with CRLF', ['x\n.\nMAIL FROM:<a@b>\n'], 'x\r\n.\r\nMAIL FROM:<a@b>\r\n', 3],
    ['smuggling \\n.\\r\\n', ['x\n.\r\nRCPT TO:<c@d>\r\n'], 'x\r\n.\r\nRCPT TO:<c@d>\r\n', 1],
    ['smuggling \\r.\\r', ['x\r.\rDATA\r\n'], 'x\r\n.\r\nDATA\r\n', 2],
    ['CRLF split across chunks', ['a\r', '\nb\r\n'], 'a\r\nb\r\n', 0],
    ['CR at chunk end then other byte', ['a\r', 'b\r\n'], 'a\r\nb\r\n', 1],
    ['CRLF split by an empty chunk', ['a\r', '', '\nb'], 'a\r\nb', 0],
    ['trailing CR at end of input', ['a\r'], 'a\r\n', 1],
    ['CR CR LF', ['a\r\r\n'], 'a\r\n\r\n', 1],
    ['empty', [''], '', 0],
    ['one byte chunks', ['a', '\r', '\n', '\n', 'b'], 'a\r\n\r\nb', 1],
  ])('%s', (_name, chunks, expected, bare) => {
    const r = run(chunks);
    expect(r.out).toBe(expected);
    expect(r.bare).toBe(bare);
  });
});
