/**
 * The outbound DATA encoding (RFC 5321 4.5.2): every line ending that is not
 * CRLF written as CRLF, a dot at the start of a line doubled, and the data
 * ended with <CRLF>.<CRLF>.
 *
 * nodemailer's SMTP client does this in its DataStream with a JavaScript
 * loop over every byte: about 7 ns a byte on the daemon's main thread, the
 * largest single item of a 100 KB message's delivery (docs/performance.md,
 * round nine). Here the same bytes come out of two native searches
 * (`Buffer#indexOf`, memchr) a line. `useFastDotStuffing` puts these
 * functions in place of that stream's own, on the stream the client has just
 * made; its state (`lastByte`, the byte counts its end-of-message log line
 * reads) is kept exactly as it keeps it, and the output is the same, byte for
 * byte and chunk for chunk (test/delivery/dot-stuffing.test.ts fuzzes the
 * two against each other).
 */
import type { Transform, TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const INSERT_CR = Buffer.from('\r');
const INSERT_LF = Buffer.from('\n');
const INSERT_LF_DOT = Buffer.from('\n.');
const INSERT_DOT = Buffer.from('.');
const END_AFTER_LF = Buffer.from('.\r\n');
const END_AFTER_CR = Buffer.from('\n.\r\n');
const END = Buffer.from('\r\n.\r\n');

/**
 * Pure: `chunk` encoded, given the byte before it (`false`: none, the start
 * of the data, which is the start of a line). Returns `chunk` itself when
 * nothing is to change.
 */
export function dotStuffChunk(chunk: Buffer, before: number | false): Buffer {
  const n = chunk.length;
  if (n === 0) return chunk;
  const parts: Buffer[] = [];
  let size = 0;
  let start = 0;
  // the first byte, against the byte before the chunk (a CR as the last byte of the previous chunk, or the start)
  const first = chunk[0];
  let headInsert: Buffer | undefined;
  if (before === CR) {
    if (first !== LF) headInsert = first === DOT ? INSERT_LF_DOT : INSERT_LF;
  } else if (first === DOT && (before === LF || before === false)) headInsert = INSERT_DOT;
  if (headInsert) {
    parts.push(headInsert);
    size += headInsert.length;
  }
  let cr = chunk.indexOf(CR);
  let lf = chunk.indexOf(LF);
  while (cr !== -1 || lf !== -1) {
    let at: number;
    let insert: Buffer | undefined;
    let dotAt = -1;
    if (lf === -1 || (cr !== -1 && cr < lf)) {
      // a CR: bare when the byte after it (in this chunk) is not LF; a dot right after it starts a line
      at = cr + 1;
      const next = at < n ? chunk[at] : LF;
      if (next !== LF) insert = next === DOT ? INSERT_LF_DOT : INSERT_LF;
      cr = chunk.indexOf(CR, at);
    } else {
      // an LF: bare when the byte before it is not CR; a dot right after it starts a line
      at = lf;
      if ((lf === 0 ? before : chunk[lf - 1]) !== CR) insert = INSERT_CR;
      if (lf + 1 < n && chunk[lf + 1] === DOT) dotAt = lf + 1;
      lf = chunk.indexOf(LF, lf + 1);
    }
    if (insert) {
      if (at > start) {
        parts.push(chunk.subarray(start, at));
        size += at - start;
      }
      parts.push(insert);
      size += insert.length;
      start = at;
    }
    if (dotAt !== -1) {
      parts.push(chunk.subarray(start, dotAt), INSERT_DOT);
      size += dotAt - start + 1;
      start = dotAt;
    }
  }
  if (parts.length === 0) return chunk;
  if (start < n) {
    parts.push(chunk.subarray(start));
    size += n - start;
  }
  return Buffer.concat(parts, size);
}

/** Pure: what ends the data, given its last byte (`false`: no data). */
export function dataTerminator(last: number | false): Buffer {
  return last === LF ? END_AFTER_LF : last === CR ? END_AFTER_CR : END;
}

/** nodemailer DataStream's state, as its own transform keeps it. */
export interface DataStreamState {
  lastByte: number | false;
  inByteCount: number;
  outByteCount: number;
}

function transform(this: Transform & DataStreamState, chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
  if (!chunk || chunk.length === 0) return done();
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  this.inByteCount += bytes.length;
  const out = dotStuffChunk(bytes, this.lastByte);
  this.outByteCount += out.length;
  this.push(out);
  this.lastByte = bytes[bytes.length - 1] ?? this.lastByte;
  done();
}

function flush(this: Transform & DataStreamState, done: TransformCallback): void {
  // a fresh Buffer each time, as the stream may hand it to a socket that keeps it
  const end = Buffer.from(dataTerminator(this.lastByte));
  this.outByteCount += end.length;
  this.push(end);
  done();
}

/** Gives nodemailer's DataStream `stream` this module's encoding in place of its own loop; returns it. */
export function useFastDotStuffing<T extends Transform & DataStreamState>(stream: T): T {
  stream._transform = transform;
  stream._flush = flush;
  return stream;
}
