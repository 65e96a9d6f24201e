import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { countReceivedFields, HeaderStage } from '../../src/smtp/header-stage.js';

async function run(chunks: string[], maxHeaderBytes = 1024, maxReceivedHeaders?: number): Promise<{ out: string; stage: HeaderStage }> {
  const stage = new HeaderStage({ prepend: 'Received: test\r\n', messageIdHeader: 'Message-ID: <q@gw>\r\n', maxHeaderBytes, maxReceivedHeaders });
  const parts: Buffer[] = [];
  stage.on('data', (c: Buffer) => parts.push(c));
  await new Promise<void>((resolve, reject) => {
    Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))).pipe(stage).on('end', resolve).on('error', reject);
    stage.resume();
  });
  return { out: Buffer.concat(parts).toString('latin1'), stage };
}

describe('HeaderStage', () => {
  it.each([
    ['adds Message-ID when missing', ['Subject: a\r\n\r\nbody\r\n'], 'Received: test\r\nSubject: a\r\nMessage-ID: <q@gw>\r\n\r\nbody\r\n'],
    ['keeps an existing Message-ID', ['Message-ID: <m@x>\r\n\r\nbody\r\n'], 'Received: test\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n'],
    ['header end split over chunks', ['Subject: a\r\n', '\r', '\nbody\r\n'], 'Received: test\r\nSubject: a\r\nMessage-ID: <q@gw>\r\n\r\nbody\r\n'],
    ['message with no body', ['Subject: a\r\n'], 'Received: test\r\nSubject: a\r\nMessage-ID: <q@gw>\r\n'],
    ['message starting with a blank line', ['\r\nbody\r\n'], 'Received: test\r\nMessage-ID: <q@gw>\r\n\r\nbody\r\n'],
    ['empty message', [], 'Received: test\r\nMessage-ID: <q@gw>\r\n'],
    ['Message-ID only in the body is not a header', ['Subject: a\r\n\r\nMessage-ID: <b@x>\r\n'], 'Received: test\r\nSubject: a\r\nMessage-ID: <q@gw>\r\n\r\nMessage-ID: <b@x>\r\n'],
  ])('%s', async (_name, chunks, expected) => {
    const { out, stage } = await run(chunks);
    expect(out).toBe(expected);
    expect(stage.headerTooBig).toBe(false);
  });

  it.each([
    ['in one chunk', [`X-Big: ${'a'.repeat(2000)}\r\n\r\nbody\r\n`]],
    ['over many chunks without an end', Array.from({ length: 30 }, () => `X-H: ${'b'.repeat(90)}\r\n`)],
  ])('flags a header block over the limit (%s) and passes nothing on', async (_name, chunks) => {
    const { out, stage } = await run(chunks, 1024);
    expect(stage.headerTooBig).toBe(true);
    expect(out).toBe('');
  });

  it.each([
    ['no Received field', 'Subject: a\r\n', 0],
    ['one', 'Received: from a by b; date\r\n', 1],
    ['folded fields count once', 'Received: from a\r\n\tby b;\r\n\tdate\r\nReceived: from c\r\n by d; date\r\n', 2],
    ['any case, space before the colon', 'RECEIVED: x\r\nreceived : y\r\nReceived\t: z\r\n', 3],
    ['other fields that start alike are not Received', 'Received-SPF: pass\r\nX-Received: x\r\nResent-Received: y\r\n', 0],
    ['a continuation line that says Received is not a field', 'Subject: a\r\n Received: no\r\n', 0],
  ])('countReceivedFields: %s', (_name, block, expected) => {
    expect(countReceivedFields(block)).toBe(expected);
  });

  const received = (n: number): string => Array.from({ length: n }, (_, i) => `Received: from hop${i} by hop${i + 1}; Tue, 1 Dec 2026 00:00:00 +0000\r\n`).join('');

  it.each([
    // the prepended Received header counts too: limit 3 leaves room for 2 in the message
    ['under the limit', [`${received(1)}Subject: a\r\n\r\nbody\r\n`], 3, false, 2],
    ['at the limit (ours makes 3)', [`${received(2)}Subject: a\r\n\r\nbody\r\n`], 3, false, 3],
    ['over the limit', [`${received(3)}Subject: a\r\n\r\nbody\r\n`], 3, true, 4],
    ['over the limit, header block split over chunks', [received(2), received(1), 'Subject: a\r\n\r', '\nbody\r\n'], 3, true, 4],
    ['over the limit in a message without a body', [`${received(3)}Subject: a\r\n`], 3, true, 4],
    ['Received lines in the body do not count', [`Subject: a\r\n\r\n${received(5)}`], 3, false, 1],
  ])('hop count %s', async (_name, chunks, limit, tooMany, count) => {
    const { out, stage } = await run(chunks, 4096, limit);
    expect(stage.tooManyHops).toBe(tooMany);
    expect(stage.receivedCount).toBe(count);
    expect(stage.headerTooBig).toBe(false);
    // a looping message passes nothing on: the spool file is discarded anyway
    if (tooMany) expect(out).toBe('');
    else expect(out.startsWith('Received: test\r\n')).toBe(true);
  });
});
