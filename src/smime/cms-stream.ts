/**
 * ContentInfo(EnvelopedData) written as a stream of BER, the way OpenSSL
 * writes streamed CMS (`openssl cms -encrypt -stream`), which openssl,
 * Thunderbird, Outlook and Apple Mail read:
 *
 *   30 80                              ContentInfo, indefinite length
 *     06 09 <envelopedData>
 *     a0 80                            [0] EXPLICIT
 *       30 80                          EnvelopedData
 *         02 01 <version>
 *         31 .. <the one RecipientInfo, DER>
 *         30 80                        EncryptedContentInfo
 *           06 09 <data>
 *           30 .. <aes-256-cbc, IV>
 *           a0 80                      [0] IMPLICIT OCTET STRING, constructed
 *             04 82 10 00 <ciphertext> definite-length chunks of 4096 bytes, in order
 *             ...
 *             00 00                    end-of-contents, then one per open level
 *
 * Only the head (a few hundred bytes) is built up front; the content is
 * encrypted with node:crypto AES-256-CBC one 64 KiB slice at a time as the
 * reader asks, so memory stays at a slice or two whatever the message size.
 */
import type { Cipher } from 'node:crypto';
import * as asn1js from 'asn1js';
import { OID_AES256_CBC, OID_DATA, OID_ENVELOPED_DATA } from './oids.js';

/** Plaintext bytes encrypted per step. */
export const CONTENT_SLICE = 64 * 1024;
/** Largest OCTET STRING chunk of the encrypted content: 4096 bytes, as OpenSSL's streaming writes them (what every client has been reading). */
export const OCTET_CHUNK = 4096;

const INDEFINITE_SEQUENCE = Buffer.from([0x30, 0x80]);
const INDEFINITE_CONTEXT_0 = Buffer.from([0xa0, 0x80]);
const END_OF_CONTENTS = Buffer.from([0x00, 0x00]);
/** Levels open at the end: [0] IMPLICIT content, EncryptedContentInfo, EnvelopedData, [0] EXPLICIT, ContentInfo. */
const OPEN_LEVELS = 5;

/** Pure: a DER length (short form below 128, else long form with the fewest bytes). */
export function derLength(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('bad length');
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Pure: tag, length, value. */
export function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(value.length), value]);
}

function oid(id: string): Buffer {
  return Buffer.from(new asn1js.ObjectIdentifier({ value: id }).toBER(false));
}

/** Pure: everything before the first ciphertext chunk. */
export function envelopedHead(recipientInfo: Buffer, envelopedVersion: number, iv: Buffer): Buffer {
  return Buffer.concat([
    INDEFINITE_SEQUENCE,
    oid(OID_ENVELOPED_DATA),
    INDEFINITE_CONTEXT_0,
    INDEFINITE_SEQUENCE,
    tlv(0x02, Buffer.from([envelopedVersion])),
    tlv(0x31, recipientInfo),
    INDEFINITE_SEQUENCE,
    oid(OID_DATA),
    tlv(0x30, Buffer.concat([oid(OID_AES256_CBC), tlv(0x04, iv)])),
    INDEFINITE_CONTEXT_0,
  ]);
}

/** Pure: everything after the last ciphertext chunk. */
export function envelopedTail(): Buffer {
  return Buffer.concat(Array.from({ length: OPEN_LEVELS }, () => END_OF_CONTENTS));
}

/** The plaintext as slices of at most `size` bytes, in order (views, no copies). */
function* slices(content: readonly Buffer[], size: number): Generator<Buffer> {
  for (const part of content) for (let at = 0; at < part.length; at += size) yield part.subarray(at, at + size);
}

/** Pure: `encrypted` as definite-length OCTET STRINGs of at most OCTET_CHUNK bytes: headers and views of it, in order (no copy). */
export function octetChunks(encrypted: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < encrypted.length; at += OCTET_CHUNK) {
    const piece = encrypted.subarray(at, at + OCTET_CHUNK);
    out.push(Buffer.concat([Buffer.from([0x04]), derLength(piece.length)]), piece);
  }
  return out;
}

/**
 * The whole BER ContentInfo, in groups of pieces to be written in order: the
 * head; per encrypted slice, its OCTET STRING chunks (headers and views of
 * the ciphertext node:crypto returned, not copied: the base64 writer joins
 * each group once); the padded last block and the end-of-contents octets.
 * The cipher is the caller's (its key already wiped from the caller's hands).
 */
export function* envelopedBer(head: Buffer, cipher: Cipher, content: readonly Buffer[], sliceSize: number = CONTENT_SLICE): Generator<Buffer[]> {
  yield [head];
  for (const slice of slices(content, sliceSize)) {
    const encrypted = cipher.update(slice);
    if (encrypted.length > 0) yield octetChunks(encrypted);
  }
  yield [...octetChunks(cipher.final()), envelopedTail()];
}
