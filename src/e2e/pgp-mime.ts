/**
 * The OpenPGP transform: one original message and one recipient's public key
 * in, one PGP/MIME message (RFC 3156) out.
 *
 * The encrypted payload is the original MIME entity — its Content-* header
 * fields and its body, byte for byte, CRLF line ends — with the protected
 * headers (Subject, From, To, Cc, Date, Message-ID) in the entity's header
 * and `protected-headers="v1"` on its Content-Type. Outside stay only the
 * transport headers; the Subject is replaced by a neutral one when asked.
 *
 * Interoperability (docs/e2e.md): openpgp v6 writing what GnuPG 2.2 reads —
 * v4 keys, a SEIPDv1 packet (CFB + MDC) even when the recipient's key
 * advertises SEIPDv2, uncompressed or ZLIB. One recipient per call: the
 * message names no other key. Optionally signed (one-pass signature inside
 * the encryption) with the organisation's key.
 *
 * Bounded: the input is one buffer, refused over `maxBytes`; openpgp reads
 * the entity from it as a stream of slices (no copy of the body) and writes
 * the armor as a stream, which streamPgpMime hands on and buildPgpMime joins
 * into one buffer. Errors carry no message content and no key material.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type * as openpgp from 'openpgp';
import { loadOpenpgp } from '../keys/openpgp-module.js';
import { subjectField } from '../mime/subject-field.js';
import { SealgateError } from '../errors.js';
import { isNamed, splitMessage, toCrlf, type HeaderField } from './entity.js';

/** Default input limit: the largest message the transform encrypts (bytes). */
export const PGP_DEFAULT_MAX_BYTES = 50 * 1024 * 1024;

/** Original header fields copied to the outer (visible) header, in their order. Subject is handled apart. */
export const OUTER_HEADERS = ['From', 'Sender', 'To', 'Cc', 'Date', 'Message-ID', 'Reply-To', 'In-Reply-To', 'References'] as const;
/** Original header fields repeated inside the encrypted entity (protected headers). */
export const PROTECTED_HEADERS = ['Subject', 'From', 'To', 'Cc', 'Date', 'Message-ID'] as const;

export interface PgpMimeOptions {
  /** The recipient's public key, armored (the key directory's `material`). */
  readonly recipientKey: string;
  /** The organisation's signing key: an armored private key, already decrypted. */
  readonly signingKey?: string;
  /** A neutral Subject for the outer header; the real one stays inside. */
  readonly outerSubject?: string;
  /** Refuse input larger than this (bytes); default PGP_DEFAULT_MAX_BYTES. */
  readonly maxBytes?: number;
  /** Compress the payload with ZLIB (GnuPG reads it); default none. */
  readonly compression?: 'none' | 'zlib';
}

export interface PgpMimeResult {
  /** The outgoing message: header block and body, CRLF. */
  readonly message: Buffer;
  /** Fingerprint (lower-case hex) of the recipient's primary key. */
  readonly recipientFingerprint: string;
  /** Key ID (lower-case hex) of the (sub)key the session key is encrypted to. */
  readonly encryptionKeyId: string;
  /** Fingerprint of the signing key, when signed. */
  readonly signerFingerprint: string | null;
}

function unusable(which: 'recipient' | 'signing', why: string): SealgateError {
  return new SealgateError('SG_KEY_FILE_INVALID', { message: `${which} OpenPGP key is not usable: ${why}` });
}

async function readRecipientKey(armored: string): Promise<{ key: openpgp.PublicKey; keyId: string }> {
  const pgp = await loadOpenpgp();
  let key: openpgp.Key;
  try {
    key = await pgp.readKey({ armoredKey: armored });
  } catch {
    throw unusable('recipient', 'unreadable');
  }
  const pub = key.isPrivate() ? key.toPublic() : (key as openpgp.PublicKey);
  try {
    const enc = await pub.getEncryptionKey();
    return { key: pub, keyId: enc.getKeyID().toHex() };
  } catch {
    throw unusable('recipient', 'no valid encryption key');
  }
}

async function readSigningKey(armored: string): Promise<openpgp.PrivateKey> {
  const pgp = await loadOpenpgp();
  let key: openpgp.PrivateKey;
  try {
    key = await pgp.readPrivateKey({ armoredKey: armored });
  } catch {
    throw unusable('signing', 'unreadable or not a private key');
  }
  if (!key.isDecrypted()) throw unusable('signing', 'still protected by a passphrase');
  try {
    await key.getSigningKey();
  } catch {
    throw unusable('signing', 'no valid signing key');
  }
  return key;
}

export { subjectField };

/** Pure: a Content-Type field with protected-headers="v1" added (or set) on it. */
export function withProtectedHeadersParam(field: HeaderField | undefined): string {
  if (!field) return 'Content-Type: text/plain; charset=us-ascii; protected-headers="v1"\r\n';
  const raw = field.raw.replace(/;?\s*protected-headers\s*=\s*(?:"[^"]*"|[^;\s]*)/gi, '').replace(/[\s;]*\r\n$/, '');
  return `${raw};\r\n protected-headers="v1"\r\n`;
}

/** Pure: the header block of the entity that gets encrypted: its Content-* fields, then the protected headers. */
export function innerHeader(fields: readonly HeaderField[]): string {
  const ct = fields.find((f) => isNamed(f, 'Content-Type'));
  const content = fields.filter((f) => f.name.toLowerCase().startsWith('content-') && !isNamed(f, 'Content-Type'));
  const protectedFields = fields.filter((f) => PROTECTED_HEADERS.some((n) => isNamed(f, n)));
  return withProtectedHeadersParam(ct) + content.map((f) => f.raw).join('') + protectedFields.map((f) => f.raw).join('');
}

/** Pure: the outer header block (without the blank line). */
export function outerHeader(fields: readonly HeaderField[], boundary: string, outerSubject: string | undefined): string {
  const kept: string[] = [];
  for (const f of fields) {
    if (OUTER_HEADERS.some((n) => isNamed(f, n))) kept.push(f.raw);
    else if (isNamed(f, 'Subject') && outerSubject === undefined) kept.push(f.raw);
  }
  if (outerSubject !== undefined) kept.push(subjectField(outerSubject));
  kept.push('MIME-Version: 1.0\r\n');
  kept.push(`Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\r\n boundary="${boundary}"\r\n`);
  return kept.join('');
}

const CHUNK = 256 * 1024;

/** The entity (header, then the body in slices of the original buffer) as a web stream openpgp reads chunk by chunk. */
function entityStream(header: Buffer, body: Buffer): ReadableStream<Uint8Array> {
  let at = -1;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at < 0) {
        controller.enqueue(header);
        at = 0;
      } else if (at < body.length) {
        controller.enqueue(body.subarray(at, at + CHUNK));
        at += CHUNK;
      } else controller.close();
    },
  });
}

function partsHead(header: string, boundary: string): Buffer {
  return Buffer.from(
    `${header}\r\n` +
      'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n' +
      `--${boundary}\r\n` +
      'Content-Type: application/pgp-encrypted\r\n' +
      'Content-Description: PGP/MIME version identification\r\n' +
      '\r\n' +
      'Version: 1\r\n' +
      '\r\n' +
      `--${boundary}\r\n` +
      'Content-Type: application/octet-stream; name="encrypted.asc"\r\n' +
      'Content-Description: OpenPGP encrypted message\r\n' +
      'Content-Disposition: inline; filename="encrypted.asc"\r\n' +
      '\r\n',
    'latin1',
  );
}

/** The whole outgoing message: the head, the armored stream with its LF line ends made CRLF, the closing boundary. */
async function* messageChunks(head: Buffer, armored: ReadableStream<string>, boundary: string): AsyncGenerator<Buffer> {
  yield head;
  const reader = armored.getReader();
  let endsWithLine = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (value.length === 0) continue;
    // openpgp writes LF only, so a CR LF pair never spans two chunks
    yield Buffer.from(value.replace(/\n/g, '\r\n'), 'latin1');
    endsWithLine = value.endsWith('\n');
  }
  yield Buffer.from(`${endsWithLine ? '' : '\r\n'}\r\n--${boundary}--\r\n`, 'latin1');
}

export interface PgpMimeStream extends Omit<PgpMimeResult, 'message'> {
  /** The outgoing message, produced as it is read (openpgp encrypts while the stream is consumed). */
  readonly stream: Readable;
}

/**
 * The original message as a PGP/MIME message for one recipient, as a stream:
 * the keys are checked before it returns; encryption happens while the
 * stream is read, and a failure then is an 'error' on the stream.
 */
export async function streamPgpMime(original: Uint8Array, opts: PgpMimeOptions): Promise<PgpMimeStream> {
  const limit = opts.maxBytes ?? PGP_DEFAULT_MAX_BYTES;
  if (original.byteLength > limit) {
    throw new SealgateError('SG_MESSAGE_TOO_BIG', { message: 'message too big for OpenPGP encryption', detail: { size: original.byteLength, limit } });
  }
  const recipient = await readRecipientKey(opts.recipientKey);
  const signer = opts.signingKey === undefined ? undefined : await readSigningKey(opts.signingKey);

  const { fields, body } = splitMessage(toCrlf(original));

  const pgp = await loadOpenpgp();
  const config = {
    aeadProtect: false,
    preferredCompressionAlgorithm: opts.compression === 'zlib' ? pgp.enums.compression.zlib : pgp.enums.compression.uncompressed,
  };
  // openpgp v6 chooses SEIPDv2 when the recipient's key advertises it, whatever aeadProtect says;
  // a session key without an AEAD algorithm keeps the SEIPDv1 packet GnuPG 2.2 reads (v6 keys need v2)
  const generated = await pgp.generateSessionKey({ encryptionKeys: recipient.key, config });
  const sessionKey = recipient.key.keyPacket.version === 6 ? generated : { data: generated.data, algorithm: generated.algorithm };
  const message = await pgp.createMessage({ binary: entityStream(Buffer.from(`${innerHeader(fields)}\r\n`, 'latin1'), body), format: 'binary' });
  const armored = await pgp.encrypt({
    message,
    encryptionKeys: recipient.key,
    sessionKey,
    ...(signer ? { signingKeys: signer } : {}),
    format: 'armored',
    config,
  });

  const boundary = `sealgate-pgp-${randomBytes(12).toString('hex')}`;
  return {
    stream: Readable.from(messageChunks(partsHead(outerHeader(fields, boundary, opts.outerSubject), boundary), armored, boundary)),
    recipientFingerprint: recipient.key.getFingerprint(),
    encryptionKeyId: recipient.keyId,
    signerFingerprint: signer ? signer.getFingerprint() : null,
  };
}

/** The original message as a PGP/MIME message for one recipient, in memory (about 1.37 times the input). */
export async function buildPgpMime(original: Uint8Array, opts: PgpMimeOptions): Promise<PgpMimeResult> {
  const { stream, ...meta } = await streamPgpMime(original, opts);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { message: Buffer.concat(chunks), ...meta };
}
