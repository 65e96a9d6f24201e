import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HeaderStage } from '../../src/smtp/header-stage.js';

async function run(chunks: string[], maxHeaderBytes = 1024): Promise<{ out: string; stage: HeaderStage }> {
  const stage = new HeaderStage({ prepend: 'Received: test\r\n', messageIdHeader: 'Message-ID: <q@gw>\r\n', maxHeaderBytes });
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
});
