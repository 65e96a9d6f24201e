/**
 * How smtp-server reads a message's DATA, on native searches.
 *
 * smtp-server's SMTPStream hands each chunk of DATA to `_feedDataStream`,
 * which looks for the end of the data ("\r\n.\r\n") and for escape dots (a
 * line written with a leading ".." carries one dot) by testing every byte
 * in a JavaScript loop: 165 µs of the main thread for a 100 KB message, the
 * largest item of its ingress after the socket itself (docs/performance.md,
 * round eleven). `feedData` finds the only places those tests can succeed —
 * a dot right after a line feed — with `Buffer#indexOf` ("\n.", a native
 * search) and runs the same tests there, in the same order, with the same
 * bounds. Everything else is smtp-server's as it is: the rules for the first
 * bytes of the data (the terminator or an escape dot at the very start: the
 * SMTP smuggling fix of the pinned version), the four bytes kept for the
 * next chunk, the byte count, the pieces written to the message stream and
 * when the caller's callback runs (after a drain; on the next turn after an
 * escape dot). test/smtp/data-feed.test.ts feeds smtp-server's method and
 * this one the same inputs, cut into chunks every way, and compares what
 * comes out piece by piece.
 *
 * `installFastDataFeed` puts it on SMTPStream's prototype, as bdat.ts adds
 * BDAT: for every smtp-server in the process. The internals it uses belong to
 * the pinned smtp-server version (package.json).
 */
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { whenDrained } from '../stream/when-drained.js';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
/** A line feed and a dot: where a line starts with a dot. */
const LINE_STARTING_WITH_DOT = Buffer.from('\n.');

type Done = (err?: Error | null) => void;
type Feed = (this: SMTPStream, chunk: Buffer, done: Done) => void;

/** smtp-server's own method, as the pinned version has it (what the test compares with). */
export const smtpServerFeed: Feed = SMTPStream.prototype._feedDataStream;

/** SMTPStream#_feedDataStream (data mode), with native searches: see the file comment. */
export function feedData(this: SMTPStream, input: Buffer, done: Done): void {
  // data mode always has its stream
  const out = this._dataStream as NonNullable<SMTPStream['_dataStream']>;
  let chunk = input;
  const kept = this._lastBytes;
  if (kept && kept.length > 0) {
    chunk = Buffer.concat([kept, chunk], kept.length + chunk.length);
    this._lastBytes = false;
  }
  let length = chunk.length;
  // the data's first bytes: the end at once (an empty message), or an escape dot after which a leading dot is content
  if (this._atDataStart && length >= 3 && chunk[0] === DOT && chunk[1] === CR && chunk[2] === LF) {
    this._endDataMode(false, chunk.subarray(3), done);
    return;
  }
  if (this._atDataStart && length >= 2 && chunk[0] === DOT && chunk[1] === DOT) {
    chunk = chunk.subarray(1);
    length--;
    this._atDataStart = false;
  }
  // each dot at index 2 .. length - 3 that follows a line feed, as smtp-server tests them
  for (let lf = chunk.indexOf(LINE_STARTING_WITH_DOT, 1); lf !== -1 && lf + 1 < length - 2; lf = chunk.indexOf(LINE_STARTING_WITH_DOT, lf + 1)) {
    const dot = lf + 1;
    if (chunk[dot - 2] === CR && chunk[dot + 1] === CR && chunk[dot + 2] === LF) {
      // "\r\n.\r\n": the data is everything before the dot, the line break ending its last line included
      const data = chunk.subarray(0, dot);
      this._countDataBytes(data.length);
      this._endDataMode(data, chunk.subarray(dot + 3), done);
      return;
    }
    if (chunk[dot + 1] === DOT) {
      // an escape dot: what comes before it is written, the rest is read again from the byte after it, on the next turn
      const data = chunk.subarray(0, dot);
      this._lastBytes = false;
      this._countDataBytes(data.length);
      if (out.writable) out.write(data);
      const rest = chunk.subarray(dot + 1);
      setImmediate(() => this._feedDataStream(rest, done));
      return;
    }
  }
  // the last four bytes wait for the next chunk (the end may straddle the two); the rest is written
  const last = chunk.length < 4 ? chunk : chunk.subarray(chunk.length - 4);
  this._lastBytes = last;
  if (last.length >= chunk.length) {
    done();
    return;
  }
  const data = chunk.subarray(0, chunk.length - last.length);
  this._countDataBytes(data.length);
  if (!out.writable) {
    done();
    return;
  }
  if (out.write(data) || out.destroyed) {
    done();
    return;
  }
  whenDrained(out, done);
}

let installed = false;

/** Makes every SMTPStream of the process read DATA with `feedData`. */
export function installFastDataFeed(): void {
  if (installed) return;
  installed = true;
  SMTPStream.prototype._feedDataStream = feedData;
}
