/**
 * The DKIM signer: given a re-readable source of the final outgoing bytes,
 * returns the DKIM-Signature field(s) to put on top, made by mailauth's
 * `dkimSign` (relaxed/relaxed, one signature per key of the From domain).
 *
 * Two reads of the source: the first reads only the header block (up to
 * MAX_HEADER_BYTES) to find the From domain and so the keys; the second
 * streams the whole message through mailauth, which buffers the header
 * block and hashes the body as it flows (no whole-message buffer). A
 * message whose header block is larger than MAX_HEADER_BYTES is not signed.
 *
 * mailauth's relaxed body hash holds the current line (and concatenates it
 * again with every chunk: quadratic time) and a run of empty lines until the
 * next text; a 25 MB one-line body took 21 s and 83 MB. The stream fed to it
 * is therefore cut off at a line (or a run of line ends) longer than
 * MAX_LINE_BYTES, and such a message goes unsigned (RFC 5322 lines are at
 * most 998 bytes; no real message comes near the limit).
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { DKIMSignOptions } from 'mailauth';
import { fromDomain, keysFor } from './choose.js';
import type { DkimKey } from './keys.js';

/**
 * Signed header fields, when present (mailauth signs only those present,
 * each occurrence). Content fields, the originator and recipient fields,
 * threading and the list fields (RFC 8058 needs List-Unsubscribe-Post
 * signed). Headers the gateway adds on a policy's request
 * (X-Sealgate-*) are not in the list: a receiver does not act on them.
 */
export const SIGNED_HEADERS = [
  'From', 'Sender', 'Reply-To', 'To', 'Cc', 'Subject', 'Date', 'Message-ID', 'In-Reply-To', 'References',
  'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding', 'Content-Disposition',
  'List-Id', 'List-Unsubscribe', 'List-Unsubscribe-Post',
] as const;

/** Largest header block read to find the From field (the default smtp.maxHeaderBytes). */
export const MAX_HEADER_BYTES = 1024 * 1024;
/** Longest line, or run of line ends, fed to mailauth (see above). */
export const MAX_LINE_BYTES = 1024 * 1024;

class LineTooLong extends Error {}

const LF = 0x0a;
const CR = 0x0d;

/** Passes bytes through until a line, or a run of CR/LF bytes, grows past `limit`; then fails with LineTooLong. */
export class LineBound extends Transform {
  /** Bytes since the last LF. */
  private line = 0;
  /** Bytes since the last byte that is not CR or LF. */
  private ends = 0;

  constructor(private readonly limit = MAX_LINE_BYTES) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    // what mailauth carries over between chunks: the line (or run of line ends) the chunk continues ...
    const firstLf = chunk.indexOf(LF);
    let first = 0;
    while (first < chunk.length && (chunk[first] === LF || chunk[first] === CR)) first++;
    const continued = Math.max(this.line + (firstLf < 0 ? chunk.length : firstLf), this.ends + first);
    // ... and the one it leaves open
    const lastLf = chunk.lastIndexOf(LF);
    this.line = lastLf < 0 ? this.line + chunk.length : chunk.length - 1 - lastLf;
    let last = chunk.length - 1;
    while (last >= 0 && (chunk[last] === LF || chunk[last] === CR)) last--;
    this.ends = last < 0 ? this.ends + chunk.length : chunk.length - 1 - last;
    if (continued > this.limit || this.line > this.limit || this.ends > this.limit) {
      done(new LineTooLong('a line or a run of empty lines is too long to sign'));
      return;
    }
    done(null, chunk);
  }
}

export type SignResult =
  | { readonly signed: true; readonly header: Buffer; readonly domain: string; readonly selectors: readonly string[] }
  | { readonly signed: false; readonly reason: 'no-from-domain' | 'no-key' | 'header-too-large' | 'line-too-long' };

/** The header block (without its empty line) of a message stream, or undefined past `limit`; the stream is closed. */
export async function readHeaderBlock(stream: Readable, limit = MAX_HEADER_BYTES): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Buffer);
      // search from a few bytes back so a CRLFCRLF split over two chunks is found
      const from = Math.max(0, length - 3);
      chunks.push(buf);
      length += buf.length;
      const all = chunks.length === 1 ? buf : Buffer.concat(chunks);
      if (chunks.length > 1) chunks.splice(0, chunks.length, all);
      const end = endOfHeader(all, from);
      if (end >= 0) return end > limit ? undefined : all.toString('latin1', 0, end);
      if (length > limit) return undefined;
    }
  } finally {
    stream.destroy();
  }
  // no empty line: the whole message is its header
  return Buffer.concat(chunks).toString('latin1');
}

function endOfHeader(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length - 1; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i + 1] === 0x0a) return i + 1;
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 1;
  }
  return -1;
}

export interface SignDeps {
  readonly keys: readonly DkimKey[];
  readonly now: () => number;
}

/**
 * Signs the message `source()` yields with every key of its From domain.
 * Throws when mailauth reports an error (the caller decides what then).
 */
export async function signMessage(source: () => Readable, deps: SignDeps): Promise<SignResult> {
  if (deps.keys.length === 0) return { signed: false, reason: 'no-key' };
  const header = await readHeaderBlock(source());
  if (header === undefined) return { signed: false, reason: 'header-too-large' };
  const domain = fromDomain(header);
  if (!domain) return { signed: false, reason: 'no-from-domain' };
  const keys = keysFor(domain, deps.keys);
  if (keys.length === 0) return { signed: false, reason: 'no-key' };
  const first = keys[0] as DkimKey;
  const options = {
    signingDomain: first.domain,
    selector: first.selector,
    privateKey: first.privateKeyPem,
    canonicalization: 'relaxed/relaxed',
    // mailauth reads a colon-separated string here (its .d.ts says string[], but an array is ignored)
    headerList: SIGNED_HEADERS.join(':') as unknown as string[],
    signTime: new Date(deps.now()),
    signatureData: keys.map((k) => ({ signingDomain: k.domain, selector: k.selector, privateKey: k.privateKeyPem, algorithm: k.algorithm, canonicalization: 'relaxed/relaxed' })),
  } satisfies DKIMSignOptions;
  // loaded on first use (before the source opens): mailauth's signer, with joi, is a third of a second of start-up
  // for every node and CLI call that imports this module, signing or not
  const { dkimSign } = await import('mailauth/lib/dkim/sign.js');
  const input = source();
  const bounded = input.pipe(new LineBound());
  input.once('error', (err) => bounded.destroy(err));
  try {
    let result;
    try {
      result = await dkimSign(bounded, options);
    } catch (err) {
      if (err instanceof LineTooLong) return { signed: false, reason: 'line-too-long' };
      throw err;
    }
    const failed = result.errors[0] as (Error & { err?: Error }) | undefined;
    if (failed) throw new Error(`DKIM signing failed: ${failed.err?.message ?? failed.message}`);
    if (!/^DKIM-Signature:/i.test(result.signatures)) throw new Error('DKIM signing failed: no signature made');
    return { signed: true, header: Buffer.from(result.signatures, 'latin1'), domain: first.domain, selectors: keys.map((k) => k.selector) };
  } finally {
    input.destroy();
    bounded.destroy();
  }
}
