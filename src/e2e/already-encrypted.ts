/**
 * Recognising mail that is already end-to-end encrypted, so the transform
 * passes it through untouched instead of wrapping it again: PGP/MIME
 * (RFC 3156), inline OpenPGP in a plain-text body, and S/MIME enveloped data
 * (RFC 8551). Recognition is by structure only — nothing is decrypted or
 * verified (docs/e2e.md).
 */
import { fieldValue, isNamed, parseHeaderFields } from './entity.js';
import { parseContentType } from './content-type.js';

export type EncryptedKind = 'pgp-mime' | 'pgp-inline' | 'smime';

const SMIME_TYPES = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);
const ENVELOPED = new Set(['enveloped-data', 'authenveloped-data']);
const INLINE_PGP = /^\s*-----BEGIN PGP MESSAGE-----[ \t]*(?:\r?\n|$)/;

/**
 * Pure: how the message is already encrypted, or null. `headerBlock` is the
 * top-level header block (CRLF or LF line ends, with or without the blank
 * line); `firstBodyBytes` the start of the body (a few hundred bytes are
 * enough; only the inline OpenPGP check reads it).
 */
export function alreadyEncrypted(headerBlock: string | Uint8Array, firstBodyBytes: string | Uint8Array): EncryptedKind | null {
  const block = (typeof headerBlock === 'string' ? headerBlock : Buffer.from(headerBlock).toString('latin1')).replace(/\r?\n/g, '\r\n');
  const fields = parseHeaderFields(block);
  const ctField = fields.find((f) => isNamed(f, 'Content-Type'));
  const ct = parseContentType(ctField ? fieldValue(ctField) : 'text/plain');
  if (ct.mediaType === 'multipart/encrypted') return (ct.params.protocol ?? '').toLowerCase() === 'application/pgp-encrypted' ? 'pgp-mime' : null;
  if (SMIME_TYPES.has(ct.mediaType)) return ENVELOPED.has((ct.params['smime-type'] ?? '').toLowerCase()) ? 'smime' : null;
  if (ct.mediaType === 'text/plain' || ct.mediaType === '') {
    const cteField = fields.find((f) => isNamed(f, 'Content-Transfer-Encoding'));
    const cte = cteField ? fieldValue(cteField).toLowerCase() : '7bit';
    if (cte !== '7bit' && cte !== '8bit') return null;
    const start = typeof firstBodyBytes === 'string' ? firstBodyBytes : Buffer.from(firstBodyBytes).subarray(0, 4096).toString('latin1');
    return INLINE_PGP.test(start) ? 'pgp-inline' : null;
  }
  return null;
}
