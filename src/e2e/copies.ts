/**
 * Each end-to-end recipient's own encrypted copy, built once when the
 * decision is made and kept in the spool beside the message (encrypted at
 * rest like it, src/spool/spool.ts `writeCopy`), so a retry sends the same
 * bytes without encrypting again. One copy per recipient: no other
 * recipient's key identifier is in it, so a blind copy stays blind.
 *
 * The copy is made from the message with the subject tag removed (when the
 * policy says so), with a neutral outer Subject when the subject itself is
 * sensitive (the real one travels inside the encryption). Header fields a
 * policy rule adds go on the outside of the copy, where the recipient's
 * mail system sees them (the transforms keep only transport headers
 * outside). Mail that arrived already OpenPGP- or
 * S/MIME-encrypted is passed through untouched: no copy, recorded as such.
 *
 * What fails for one recipient (a key the library refuses, a message over
 * the size limit, the transform failing part-way through the stream) is
 * reported per recipient, never thrown: the caller then decides that
 * recipient again without the key. Only a storage failure (SG_STORAGE_FULL,
 * SG_STORAGE_FAILED: the disk, not the copy) is thrown, for the caller to
 * retry the whole inspection; the transform's own errors are renamed
 * SG_E2E_FAILED before the spool sees them, so a library error can never
 * pass for one (src/spool/write-error.ts). Nothing about the content or the
 * key material is in the failure text.
 */
import type { Readable } from 'node:stream';
import { ByteCounter } from '../stream/byte-counter.js';
import { rewriteMessage, type MessageRewrite } from '../delivery/header-rewrite.js';
import { readBounded } from '../stream/read-bounded.js';
import { isSealgateError, SealgateError } from '../errors.js';
import { mapStreamError } from '../stream/map-error.js';
import { errnoCode } from '../spool/write-error.js';
import type { PendingSpoolFile, Spool } from '../spool/spool.js';
import { streamSmime } from '../smime/envelope.js';
import type { SmimeSigner } from '../smime/sign.js';
import { alreadyEncrypted, type EncryptedKind } from './already-encrypted.js';
import { streamPgpMime } from './pgp-mime.js';

export interface CopyRequest {
  readonly seq: number;
  readonly method: 'pgp' | 'smime';
  /** The directory key the copy is encrypted to. */
  readonly key: { readonly fingerprint: string; readonly source: string; readonly material: string };
}

export type CopyOutcome =
  | { readonly seq: number; readonly kind: 'copy'; readonly name: string; readonly file: PendingSpoolFile; readonly size: number; readonly signed: boolean; readonly detail: string }
  | { readonly seq: number; readonly kind: 'passthrough'; readonly encrypted: EncryptedKind }
  | { readonly seq: number; readonly kind: 'failed'; readonly why: string };

export interface CopyDeps {
  readonly spool: Spool;
  /** keys.smimeRsaOaep */
  readonly rsaOaep: boolean;
  /** Largest message encrypted (bytes): larger ones fail (and are decided again without E2E). */
  readonly maxBytes: number;
  /** keys.sign: the organisation's signing keys; undefined when signing is off or there is no such key. */
  readonly pgpSigningKey?: () => Promise<string | undefined>;
  readonly smimeSigner?: () => Promise<SmimeSigner | undefined>;
}

/** The spool name of recipient `seq`'s copy. */
export function copyName(seq: number): string {
  return `r${seq}`;
}

/** Pure: the header block and the first body bytes of a message, for the already-encrypted check. */
export function headerAndBodyStart(message: Buffer): { header: Buffer; bodyStart: Buffer } {
  const crlf = message.indexOf('\r\n\r\n');
  const lf = message.indexOf('\n\n');
  const cut = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : message.length;
  return { header: message.subarray(0, cut), bodyStart: message.subarray(cut, cut + 4096) };
}

/** A failure's text: the error code, never a message that could quote content or key material. */
function failureWhy(err: unknown): string {
  if (isSealgateError(err)) return err.code;
  return 'SG_E2E_FAILED';
}

/**
 * An error raised while a copy's stream is read (openpgp failing when it
 * signs at the end, any throw in the transform or the header rewrite) is
 * the copy's: SG_E2E_FAILED, the library's error kept as the cause (its text
 * stays out of the audit trail). A SealgateError keeps its code, an errno
 * error stays a system error.
 */
function copyStreamError(method: CopyRequest['method']): (err: unknown) => unknown {
  return (err) => (isSealgateError(err) || errnoCode(err) !== undefined ? err : new SealgateError('SG_E2E_FAILED', { cause: err, detail: { method, step: 'stream' } }));
}

/**
 * Builds (and commits to the spool) the copy of every request, one after the
 * other so only one encrypted copy is in memory at a time.
 */
export async function buildCopies(deps: CopyDeps, messageId: string, rewrite: MessageRewrite | undefined, outerSubject: string | undefined, requests: readonly CopyRequest[]): Promise<CopyOutcome[]> {
  if (requests.length === 0) return [];
  const inner: MessageRewrite | undefined = rewrite?.stripSubjectTag ? { stripSubjectTag: true, addHeaders: {} } : undefined;
  const outer: MessageRewrite | undefined = rewrite && Object.keys(rewrite.addHeaders).length > 0 ? { stripSubjectTag: false, addHeaders: rewrite.addHeaders } : undefined;
  const original = await readBounded(rewriteMessage(deps.spool.read(messageId), inner), deps.maxBytes);
  if (!original) return requests.map((r) => ({ seq: r.seq, kind: 'failed', why: `message larger than ${deps.maxBytes} bytes` }));
  const { header, bodyStart } = headerAndBodyStart(original);
  const encrypted = alreadyEncrypted(header, bodyStart);
  if (encrypted) return requests.map((r) => ({ seq: r.seq, kind: 'passthrough', encrypted }));
  const out: CopyOutcome[] = [];
  for (const r of requests) {
    const name = copyName(r.seq);
    try {
      const subject = outerSubject !== undefined ? { outerSubject } : {};
      let stream: Readable;
      let signed = false;
      let detail: string;
      if (r.method === 'pgp') {
        const signingKey = await deps.pgpSigningKey?.();
        const pgp = await streamPgpMime(original, { recipientKey: r.key.material, maxBytes: deps.maxBytes, ...subject, ...(signingKey ? { signingKey } : {}) });
        stream = pgp.stream;
        signed = pgp.signerFingerprint !== null;
        detail = `encrypted to subkey ${pgp.encryptionKeyId}`;
      } else {
        const sign = await deps.smimeSigner?.();
        const smime = await streamSmime(original, r.key.material, { rsaOaep: deps.rsaOaep, maxBytes: deps.maxBytes, ...subject, ...(sign ? { sign } : {}) });
        stream = smime.stream;
        signed = sign !== undefined;
        detail = `key transport ${smime.keyTransport}`;
      }
      const counter = new ByteCounter();
      const file = await deps.spool.writeCopy(messageId, name, mapStreamError(rewriteMessage(stream, outer), copyStreamError(r.method)), [counter]);
      // a failed commit removes the file itself
      await file.commit();
      out.push({ seq: r.seq, kind: 'copy', name, file, size: counter.bytes, signed, detail });
    } catch (err) {
      // a storage failure is not the recipient's fault: let the caller retry the whole inspection
      if (isSealgateError(err, 'SG_STORAGE_FULL') || isSealgateError(err, 'SG_STORAGE_FAILED')) {
        await Promise.all(out.map((o) => (o.kind === 'copy' ? o.file.discard() : undefined)));
        throw err;
      }
      out.push({ seq: r.seq, kind: 'failed', why: failureWhy(err) });
    }
  }
  return out;
}
