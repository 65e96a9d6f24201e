/**
 * Stream stage that sees the header block of an incoming message: it
 * prepends the Received header, appends a Message-ID when the message has
 * none, and enforces the header size limit and the hop count (Received
 * fields, ours included, as Postfix's hopcount_limit). Only the header block
 * is buffered (bounded by maxHeaderBytes); the body passes straight through.
 *
 * Input must already have CRLF line endings (see line-endings.ts).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { hasMessageId } from './trace-headers.js';

export interface HeaderStageOptions {
  /** Complete header text to put on top, ending in CRLF. */
  readonly prepend: string;
  /** Complete Message-ID header (ending in CRLF), added when missing. */
  readonly messageIdHeader: string;
  readonly maxHeaderBytes: number;
  /** More Received fields than this (the prepended one included) flag `tooManyHops`; default: no limit. */
  readonly maxReceivedHeaders?: number | undefined;
}

/** Pure: how many Received fields a header block (CRLF lines) has; continuation lines are not fields. */
export function countReceivedFields(headerBlock: string): number {
  return headerBlock.match(/^received[ \t]*:/gim)?.length ?? 0;
}

const END_OF_HEADERS = Buffer.from('\r\n\r\n');

export class HeaderStage extends Transform {
  /** Set when the header block exceeded maxHeaderBytes; the rest is discarded. */
  headerTooBig = false;
  /** True once the header block was seen and a Message-ID had to be added. */
  addedMessageId = false;
  /** Set when the Received fields (ours included) exceed maxReceivedHeaders: a mail loop; the rest is discarded. */
  tooManyHops = false;
  /** Received fields counted in the header block, ours included (0 until the block was seen). */
  receivedCount = 0;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private inBody = false;

  constructor(private readonly options: HeaderStageOptions) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.tooManyHops) return done();
    if (this.inBody) {
      this.push(chunk);
      return done();
    }
    if (this.headerTooBig) return done();
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    const all = this.buffered.length === 1 ? chunk : Buffer.concat(this.buffered);
    this.buffered = [all];
    // a message that starts with an empty line has an empty header block
    const end = all.subarray(0, 2).equals(Buffer.from('\r\n')) ? -2 : all.indexOf(END_OF_HEADERS);
    if (end === -1) {
      if (this.bufferedBytes > this.options.maxHeaderBytes) {
        this.headerTooBig = true;
        this.buffered = [];
      }
      return done();
    }
    const headerEnd = end + 2; // keep the CRLF of the last header line
    if (headerEnd > this.options.maxHeaderBytes) {
      this.headerTooBig = true;
      this.buffered = [];
      return done();
    }
    this.buffered = [];
    if (!this.emitHeaders(all.subarray(0, Math.max(headerEnd, 0)))) return done();
    this.push(all.subarray(Math.max(headerEnd, 0)));
    this.inBody = true;
    done();
  }

  override _flush(done: TransformCallback): void {
    if (!this.inBody && !this.headerTooBig && !this.tooManyHops) {
      // the whole message is a header block (no body)
      const all = Buffer.concat(this.buffered);
      if (all.length > this.options.maxHeaderBytes) {
        this.headerTooBig = true;
      } else {
        const terminated = all.length === 0 || all.subarray(-2).equals(Buffer.from('\r\n')) ? all : Buffer.concat([all, Buffer.from('\r\n')]);
        this.emitHeaders(terminated);
      }
    }
    this.buffered = [];
    done();
  }

  /** Passes the header block on; false (and nothing passed on) when it has too many hops. */
  private emitHeaders(block: Buffer): boolean {
    this.receivedCount = countReceivedFields(this.options.prepend) + countReceivedFields(block.toString('latin1'));
    if (this.receivedCount > (this.options.maxReceivedHeaders ?? Infinity)) {
      this.tooManyHops = true;
      return false;
    }
    this.push(Buffer.from(this.options.prepend, 'latin1'));
    this.push(block);
    if (!hasMessageId(block.toString('latin1'))) {
      this.addedMessageId = true;
      this.push(Buffer.from(this.options.messageIdHeader, 'latin1'));
    }
    return true;
  }
}
