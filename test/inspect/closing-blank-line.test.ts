import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { closingBlankLine, endsWithBlankLine } from '../../src/inspect/closing-blank-line.js';

describe('endsWithBlankLine', () => {
  it.each<[string, string, boolean]>([
    ['CRLF CRLF', '\r\n\r\n', true],
    ['LF LF', 'x\n\n', true],
    ['LF CR LF', '\n\r\n', true],
    ['one CRLF', 'a\r\n', false],
    ['CR CR', '\r\r', false],
    ['no line end', 'abc', false],
    ['LF alone', '\n', false],
    ['nothing', '', false],
  ])('%s', (_name, tail, expected) => {
    expect(endsWithBlankLine([...Buffer.from(tail)].slice(-3))).toBe(expected);
  });
});

describe('closingBlankLine', () => {
  const through = (chunks: string[]): Promise<string> => text(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(closingBlankLine()));
  it.each<[string, string[], string]>([
    ['adds a blank line to headers without one', ['Subject: x'], 'Subject: x\r\n\r\n'],
    ['adds it after a final CRLF too', ['Subject: x\r\n'], 'Subject: x\r\n\r\n\r\n'],
    ['leaves a message ending in a blank line alone', ['Subject: x\r\n\r\nbody\r\n', '\r\n'], 'Subject: x\r\n\r\nbody\r\n\r\n'],
    ['sees a blank line split across chunks', ['a\r', '\n', '\r', '\n'], 'a\r\n\r\n'],
    ['leaves empty input empty', [], ''],
    ['skips empty chunks', ['a\n\n', ''], 'a\n\n'],
  ])('%s', async (_name, chunks, expected) => {
    expect(await through(chunks)).toBe(expected);
  });
});
