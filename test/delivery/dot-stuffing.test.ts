/**
 * The outbound DATA encoding (src/delivery/dot-stuffing.ts) against
 * nodemailer's own DataStream, which it replaces on the delivery sessions'
 * streams: the same bytes, chunk for chunk, and the same counts, for any
 * input cut anywhere (fuzzed), plus the cases an MTA must get right written
 * out. The reference stream is made the way the client makes it
 * (`_createSendStream` on a connection), which also checks that the internal
 * the delivery session builds on is still there in the pinned nodemailer.
 */
import { PassThrough, type Transform } from 'node:stream';
import fc from 'fast-check';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { describe, expect, it } from 'vitest';
import { dataTerminator, dotStuffChunk, useFastDotStuffing, type DataStreamState } from '../../src/delivery/dot-stuffing.js';
import { cutAnywhere, fuzzParams, smugglingBytes } from '../helpers/fuzz.js';

type DataStream = Transform & DataStreamState;

/** A DataStream as nodemailer's client makes one for DATA (on a connection that never connects). */
function nodemailerDataStream(): DataStream {
  const conn = new SMTPConnection({ port: 25, host: '127.0.0.1' }) as unknown as {
    _envelope: unknown;
    _responseActions: unknown[];
    _socket: PassThrough;
    _createSendStream: (callback: () => void) => DataStream;
  };
  conn._envelope = { accepted: [] };
  conn._responseActions = [];
  conn._socket = new PassThrough();
  conn._socket.resume();
  const stream = conn._createSendStream(() => undefined);
  // piped to the socket by the client; read here instead
  stream.unpipe(conn._socket);
  return stream;
}

/** Every chunk the stream pushes for `chunks` written one by one (empty ones too), then its end. */
async function encode(stream: DataStream, chunks: readonly Buffer[]): Promise<{ pushed: string[]; inBytes: number; outBytes: number }> {
  const pushed: string[] = [];
  stream.on('data', (c: Buffer) => pushed.push(c.toString('latin1')));
  const ended = new Promise((resolve) => stream.on('end', resolve));
  // unpiped from its socket, it is paused: a 'data' listener alone does not start it
  stream.resume();
  for (const c of chunks) stream.write(c);
  stream.end();
  await ended;
  return { pushed, inBytes: stream.inByteCount, outBytes: stream.outByteCount };
}

const CR = 0x0d;
const LF = 0x0a;

/** Input cut at arbitrary points (the chunks only). */
const chunked = cutAnywhere(smugglingBytes(300), 10).map(({ chunks }) => chunks);

describe('the outbound DATA encoding', () => {
  it('the delivery session builds on nodemailer internals that are there: _createSendStream makes a DataStream with its state', () => {
    const stream = nodemailerDataStream();
    expect(typeof stream._transform).toBe('function');
    expect(typeof stream._flush).toBe('function');
    expect(stream.lastByte).toBe(false);
    expect(stream.inByteCount).toBe(0);
    expect(stream.outByteCount).toBe(0);
  });

  it.each([
    ['an empty message', [''], '\r\n.\r\n'],
    ['CRLF lines pass as they are', ['a\r\nb\r\n'], 'a\r\nb\r\n.\r\n'],
    ['a last line without CRLF gets one before the dot', ['a\r\nb'], 'a\r\nb\r\n.\r\n'],
    ['a dot at the start of the data is doubled', ['.a\r\n'], '..a\r\n.\r\n'],
    ['a lone dot line is doubled, not an end', ['a\r\n.\r\nb\r\n'], 'a\r\n..\r\nb\r\n.\r\n'],
    ['a dot in a line stays single', ['a.b\r\n'], 'a.b\r\n.\r\n'],
    ['a bare LF becomes CRLF and a dot after it is doubled', ['a\n.\nb'], 'a\r\n..\r\nb\r\n.\r\n'],
    ['a bare CR becomes CRLF and a dot after it is doubled', ['a\r.\rb'], 'a\r\n..\r\nb\r\n.\r\n'],
    ['a message ending in a bare CR', ['a\r'], 'a\r\n.\r\n'],
    ['a CRLF cut between two chunks', ['a\r', '\n.b\r\n'], 'a\r\n..b\r\n.\r\n'],
    ['a CR at the end of a chunk, a dot at the start of the next', ['a\r', '.b'], 'a\r\n..b\r\n.\r\n'],
    ['an LF at the end of a chunk, a dot at the start of the next', ['a\r\n', '.b\r\n'], 'a\r\n..b\r\n.\r\n'],
    ['CR CR LF: the first CR is bare', ['\r\r\n'], '\r\n\r\n.\r\n'],
  ])('%s', async (_name, chunks, expected) => {
    const ours = await encode(useFastDotStuffing(nodemailerDataStream()), chunks.map((c) => Buffer.from(c, 'latin1')));
    const theirs = await encode(nodemailerDataStream(), chunks.map((c) => Buffer.from(c, 'latin1')));
    expect(ours.pushed.join('')).toBe(expected);
    expect(ours).toEqual(theirs);
  });

  it('any input cut anywhere: the same chunks and counts as nodemailer DataStream (fuzzed)', async () => {
    await fc.assert(
      fc.asyncProperty(chunked, async (chunks) => {
        const ours = await encode(useFastDotStuffing(nodemailerDataStream()), chunks);
        const theirs = await encode(nodemailerDataStream(), chunks);
        expect(ours).toEqual(theirs);
      }),
      fuzzParams(2000),
    );
  });

  it.each([
    [false, '\r\n.\r\n'],
    [LF, '.\r\n'],
    [CR, '\n.\r\n'],
    [0x41, '\r\n.\r\n'],
  ] as const)('the data after a last byte of %s ends with %j', (last, expected) => {
    expect(dataTerminator(last).toString('latin1')).toBe(expected);
  });

  it('a chunk with nothing to change comes back as the same Buffer (no copy)', () => {
    const chunk = Buffer.from('line one\r\nline two\r\n');
    expect(dotStuffChunk(chunk, LF)).toBe(chunk);
  });
});
