/**
 * The bytes of a message (or of its header block) as they are, with a blank
 * line added at the end unless they already end with one (or are empty).
 *
 * mailparser never finishes — no 'end', no error — when its input stops
 * inside the header block of an inline message/rfc822 part ("Content-Type:
 * message/rfc822" and "Content-Disposition: inline" with nothing after the
 * headers, or an attached message cut by a size limit within its headers;
 * the family of nodemailer/mailparser#190). The MIME walk would wait until
 * the inspection thread's time limit. A blank line at the end closes any open
 * header block; anywhere else it is one more empty line of the last part,
 * which no detector reads as anything. Found by fuzzing the MIME walk; the
portal's header-block parsing (a block cut at its size limit) had the same
hang.
 */
import { Transform, type TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;

/** Whether the last bytes seen (oldest first) end with a blank line: LF LF or LF CR LF. */
export function endsWithBlankLine(tail: ArrayLike<number>): boolean {
  const n = tail.length;
  if (n < 2 || tail[n - 1] !== LF) return false;
  return tail[n - 2] === LF || (n >= 3 && tail[n - 2] === CR && tail[n - 3] === LF);
}

const BLANK_LINE = Buffer.from('\r\n\r\n');

/** A whole message or header block in memory, with the closing blank line. */
export function withClosingBlankLine(bytes: Buffer): Buffer {
  return bytes.length === 0 || endsWithBlankLine(bytes.subarray(-3)) ? bytes : Buffer.concat([bytes, BLANK_LINE]);
}

/** The same, for a stream. */
export function closingBlankLine(): Transform {
  let tail: number[] = [];
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
      if (chunk.length > 0) tail = [...tail, ...chunk.subarray(Math.max(0, chunk.length - 3))].slice(-3);
      done(null, chunk);
    },
    flush(done: TransformCallback): void {
      done(null, tail.length === 0 || endsWithBlankLine(tail) ? undefined : BLANK_LINE);
    },
  });
}
