import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { closingBlankLine, endsWithBlankLine, withClosingBlankLine } from '../../src/mime/closing-blank-line.js';
import { parseMessage } from '../../src/portal/http/render-message.js';
import { parseHeaderBlock } from '../../src/portal/reply.js';

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
    expect(withClosingBlankLine(Buffer.from(chunks.join(''))).toString()).toBe(expected);
  });
});

describe('mailparser on bytes that stop inside an inline attached message\'s headers', () => {
  // a header block cut at its size limit (the portal reads at most 64 KB of it), or a whole message
  // that is only such headers: mailparser neither ended nor failed on these before they were closed
  const cut = Buffer.from(`From: Ann <ann@hospital.example>\r\nSubject: results\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\nX-Long: ${'a'.repeat(100)}`);
  it('parseHeaderBlock (portal deposit and reply) settles with the headers read', async () => {
    const parsed = await parseHeaderBlock(cut);
    expect(parsed.subject).toBe('results');
    expect(parsed.from?.value[0]?.address).toBe('ann@hospital.example');
  });
  it('parseMessage (the portal page) settles', async () => {
    const parsed = await parseMessage(cut);
    expect(parsed.subject).toBe('results');
  });
});
