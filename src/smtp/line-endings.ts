/**
 * SMTP smuggling defence, stage 1: line endings inside DATA.
 *
 * smtp-server only ends DATA at <CRLF>.<CRLF>, so "\n.\n", "\n.\r\n" or
 * "\r.\r" never split one DATA into two messages here. But a bare CR or LF left
 * in the stored message could end DATA early at a lenient downstream server
 * when we relay it. So every line ending that is not CRLF is either rewritten
 * to CRLF ('normalize', Postfix's smtpd_forbid_bare_newline=normalize
 * behaviour, extended to bare CR) or counted so the session can refuse the
 * message ('reject'). Either way what reaches the spool has CRLF line endings
 * only, and a dot line stays inside the body where the delivery client will
 * dot-stuff it.
 */
import { Transform, type TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

export type BareLineEndingMode = 'normalize' | 'reject';

/**
 * Pure core, usable without streams: feed chunks, get output chunks. State
 * across chunks is a pending CR whose next byte has not been seen yet.
 */
export class LineEndingNormalizer {
  /** Number of bare CR or bare LF seen so far. */
  bareCount = 0;
  private pendingCr = false;

  push(chunk: Buffer): Buffer {
    // an empty write says nothing about the byte after a pending CR
    if (chunk.length === 0) return chunk;
    const n = chunk.length;
    const out: Buffer[] = [];
    let start = 0;
    let from = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      out.push(CRLF);
      if (chunk[0] === LF) start = from = 1;
      else this.bareCount++;
    }
    // the next CR and the next LF, found by Buffer#indexOf (memchr) rather than a loop over every byte: a
    // message with CRLF line endings only costs two native searches a line
    let cr = chunk.indexOf(CR, from);
    let lf = chunk.indexOf(LF, from);
    while (cr !== -1 || lf !== -1) {
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        if (cr + 1 === n) {
          // the byte after it is in the next chunk
          out.push(chunk.subarray(start, cr));
          this.pendingCr = true;
          start = n;
          break;
        }
        if (lf === cr + 1) {
          // CRLF
          cr = chunk.indexOf(CR, cr + 2);
          lf = chunk.indexOf(LF, lf + 1);
          continue;
        }
        // bare CR
        this.bareCount++;
        out.push(chunk.subarray(start, cr), CRLF);
        start = cr + 1;
        cr = chunk.indexOf(CR, start);
      } else {
        // bare LF (one after a CR was taken with it above)
        this.bareCount++;
        out.push(chunk.subarray(start, lf), CRLF);
        start = lf + 1;
        lf = chunk.indexOf(LF, start);
      }
    }
    if (start === 0 && out.length === 0) return chunk;
    if (start < n) out.push(chunk.subarray(start));
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }

  /** Call at end of input: a trailing CR is bare. */
  end(): Buffer {
    if (!this.pendingCr) return Buffer.alloc(0);
    this.pendingCr = false;
    this.bareCount++;
    return CRLF;
  }
}

/** Stream wrapper; `bareCount` is final once the stream has flushed. */
export class LineEndingStream extends Transform {
  private readonly core = new LineEndingNormalizer();

  get bareCount(): number {
    return this.core.bareCount;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const out = this.core.push(chunk);
    if (out.length > 0) this.push(out);
    done();
  }

  override _flush(done: TransformCallback): void {
    const out = this.core.end();
    if (out.length > 0) this.push(out);
    done();
  }
}
