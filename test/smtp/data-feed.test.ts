/**
 * DATA read on native searches (src/smtp/data-feed.ts) against smtp-server's
 * own method: two SMTPStreams in data mode, one with each, get the same
 * bytes cut into the same chunks; the pieces written to the message stream,
 * the byte count, where the data ends and the commands read after it must be
 * the same, piece for piece. The inputs are table cases (terminators and
 * escape dots at the start, at chunk edges, bare CR and LF, a dot line that
 * is not an escape) and generated messages cut at random places, one byte a
 * chunk included.
 */
import { describe, expect, it } from 'vitest';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { feedData, smtpServerFeed } from '../../src/smtp/data-feed.js';

interface Outcome {
  /** Each piece written to the message stream, as text. */
  readonly pieces: string[];
  /** The message stream's byte count when it ended (undefined: never ended). */
  readonly bytes: number | undefined;
  /** Commands read after the data. */
  readonly commands: string[];
}

/** Feeds `chunks` to an SMTPStream in data mode whose DATA reader is `feed`; resolves once every chunk was taken. */
async function read(feed: typeof feedData, chunks: readonly Buffer[], turns = 5): Promise<Outcome> {
  const stream = new SMTPStream();
  stream._feedDataStream = feed;
  const commands: string[] = [];
  stream.oncommand = (command: Buffer, callback?: () => void) => {
    commands.push(command.toString('latin1'));
    callback?.();
  };
  const pieces: string[] = [];
  let bytes: number | undefined;
  const data = stream.startDataMode();
  data.on('data', (piece: Buffer) => pieces.push(piece.toString('latin1')));
  data.on('end', () => {
    bytes = data.byteLength;
    stream.continue();
  });
  for (const chunk of chunks) await new Promise<void>((resolve, reject) => stream.write(chunk, (err) => (err ? reject(err) : resolve())));
  // the escape dots' next turns, the message stream's end and what comes after it
  for (let i = 0; i < turns && (i < 5 || bytes === undefined); i++) await new Promise((resolve) => setImmediate(resolve));
  return { pieces, bytes, commands };
}

/** `text` cut at `cuts` (positions, increasing). */
function cut(text: string, cuts: readonly number[]): Buffer[] {
  const bytes = Buffer.from(text, 'latin1');
  const out: Buffer[] = [];
  let from = 0;
  for (const at of [...cuts, bytes.length]) {
    if (at > from) out.push(bytes.subarray(from, at));
    from = Math.max(from, at);
  }
  return out;
}

/** Every way of cutting `text` into two chunks, and into one-byte chunks. */
function everyCut(text: string): Buffer[][] {
  const ways: Buffer[][] = [cut(text, [])];
  for (let at = 1; at < text.length; at++) ways.push(cut(text, [at]));
  ways.push(cut(text, Array.from({ length: text.length }, (_, i) => i + 1)));
  return ways;
}

/** A small deterministic generator, so a failure can be replayed. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const LINES = ['', '.', '..', '...', '.x', '..x', 'abc', 'a.b', 'line with text', '.\r', 'x.', '\r.', '\n.'];
const ENDINGS = ['\r\n', '\n', '\r', '\r\n', '\r\n'];

function message(random: () => number): string {
  let text = '';
  const lines = Math.floor(random() * 12);
  for (let i = 0; i < lines; i++) text += (LINES[Math.floor(random() * LINES.length)] as string) + (ENDINGS[Math.floor(random() * ENDINGS.length)] as string);
  const end = random();
  // mostly a message ended the right way with commands after it; sometimes none, or an end with no line break before it
  if (end < 0.7) text += `${text.endsWith('\r\n') || text === '' ? '' : '\r\n'}.\r\nQUIT\r\n`;
  else if (end < 0.85) text += '.\r\nRSET\r\n';
  return text;
}

const cases: [string, string][] = [
  ['an empty message', '.\r\nQUIT\r\n'],
  ['a bare LF first, then a dot line', '\n..x\r\n.\r\nQUIT\r\n'],
  ['a first line that is an escaped dot', '..\r\nbody\r\n.\r\nQUIT\r\n'],
  ['a first line of two escaped dots', '...\r\n.\r\nNOOP\r\n'],
  ['escape dots on every line', '..a\r\n..b\r\n..\r\n.\r\n'],
  ['a dot line that is not an escape', 'a\r\n.b\r\n.\r\nQUIT\r\n'],
  ['a terminator after bare LFs', 'a\n.\nb\r\n.\r\nQUIT\r\n'],
  ['a bare-LF "terminator" is content', 'a\n.\n\r\n.\r\nQUIT\r\n'],
  ['CR CR LF before the dot', 'a\r\r\n.\r\nQUIT\r\n'],
  ['the terminator right after the first line', 'x\r\n.\r\nMAIL FROM:<a@b>\r\n'],
  ['no terminator', 'just text\r\nand more\r\n'],
  ['a dot at the very end', 'text\r\n.'],
  ['pipelined commands after the end', 'body\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n'],
];

describe('DATA on native searches reads as smtp-server does', () => {
  it.each(cases)('%s, cut every way', async (_name, text) => {
    for (const chunks of everyCut(text)) {
      const mine = await read(feedData, chunks);
      const theirs = await read(smtpServerFeed, chunks);
      expect(mine).toEqual(theirs);
    }
  });

  it('the cases end where smtp-server ends them (the table is not vacuous)', async () => {
    const ended = await read(feedData, cut('body\r\n.\r\nQUIT\r\n', []));
    expect(ended).toEqual({ pieces: ['body\r\n'], bytes: 6, commands: ['QUIT'] });
    const escaped = await read(feedData, cut('..a\r\n.\r\n', []));
    expect(escaped.pieces.join('')).toBe('.a\r\n');
  });

  it('generated messages cut at random places', async () => {
    const random = generator(20261207);
    for (let n = 0; n < 400; n++) {
      const text = message(random);
      const cuts: number[] = [];
      for (let at = 1; at < text.length; at++) if (random() < 0.3) cuts.push(at);
      const chunks = cut(text, cuts);
      const mine = await read(feedData, chunks);
      const theirs = await read(smtpServerFeed, chunks);
      expect({ text, ...mine }).toEqual({ text, ...theirs });
    }
  });

  it('many escape dots in one chunk: each rest read on a turn of its own, not by recursion', async () => {
    const text = `${'..\r\n'.repeat(20_000)}.\r\nQUIT\r\n`;
    const mine = await read(feedData, cut(text, []), 50_000);
    expect(mine.bytes).toBe(60_000);
    expect(mine.commands).toEqual(['QUIT']);
    expect(mine).toEqual(await read(smtpServerFeed, cut(text, []), 50_000));
  });

  it('a long message in socket-sized chunks', async () => {
    const body = Array.from({ length: 3000 }, (_, i) => (i % 97 === 0 ? `..dot line ${i}` : `line ${i} ${'x'.repeat(60)}`)).join('\r\n');
    const text = `${body}\r\n.\r\nQUIT\r\n`;
    const chunks = cut(text, Array.from({ length: Math.floor(text.length / 65_536) }, (_, i) => (i + 1) * 65_536));
    const mine = await read(feedData, chunks);
    expect(mine).toEqual(await read(smtpServerFeed, chunks));
    expect(mine.pieces.join('')).toBe(`${body.replace(/^\.\./gm, '.')}\r\n`);
    expect(mine.commands).toEqual(['QUIT']);
  });
});
