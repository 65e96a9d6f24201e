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
 */
import type { Readable } from 'node:stream';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
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

export type SignResult =
  | { readonly signed: true; readonly header: Buffer; readonly domain: string; readonly selectors: readonly string[] }
  | { readonly signed: false; readonly reason: 'no-from-domain' | 'no-key' | 'header-too-large' };

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
  const input = source();
  try {
    const result = await dkimSign(input, options);
    const failed = result.errors[0] as (Error & { err?: Error }) | undefined;
    if (failed) throw new Error(`DKIM signing failed: ${failed.err?.message ?? failed.message}`);
    if (!/^DKIM-Signature:/i.test(result.signatures)) throw new Error('DKIM signing failed: no signature made');
    return { signed: true, header: Buffer.from(result.signatures, 'latin1'), domain: first.domain, selectors: keys.map((k) => k.selector) };
  } finally {
    input.destroy();
  }
}
