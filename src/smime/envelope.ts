/**
 * The S/MIME enveloping transform: one original RFC 5322 message and one
 * recipient certificate in, one application/pkcs7-mime (enveloped-data)
 * message out. The outer message keeps the transport headers, carries the
 * neutral Subject when one is given, and holds base64 of the CMS whose
 * content is the original MIME entity (its Content-* fields, the real Subject
 * and the body, CRLF). One recipient per call: no other recipient's key
 * identifier is ever in the RecipientInfos, so BCC stays private.
 *
 * Streamed (issue 13, item 8): streamSmime builds the key transport up front
 * and hands back a stream that encrypts and base64-encodes the content a
 * slice at a time as it is read (cms-stream.ts); the original stays the only
 * whole copy. envelopeSmime reads that stream into one buffer.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { SealgateError } from '../errors.js';
import { buildRecipientInfo, type KeyTransport } from './cms.js';
import { envelopedBer, envelopedHead } from './cms-stream.js';
import { innerEntityParts, outerFields, splitMessage, subjectFields } from './entity.js';
import { readRecipientCert } from './recipient-cert.js';
import { signEntityParts, type SmimeSigner } from './sign.js';
import { Base64Lines } from './text.js';

/** Largest original message encrypted when the caller sets no limit: the original is held in memory whole (the caller's buffer; a CRLF copy when it has bare LFs). */
export const DEFAULT_SMIME_MAX_BYTES = 50 * 1024 * 1024;

/** Refuses an original over the limit (SG_MESSAGE_TOO_BIG; size and limit only, never content). */
export function checkSize(original: Buffer, maxBytes: number | undefined): void {
  const max = maxBytes ?? DEFAULT_SMIME_MAX_BYTES;
  if (original.length > max) {
    throw new SealgateError('SG_MESSAGE_TOO_BIG', { message: 'message too large for S/MIME', detail: { size: original.length, limit: max } });
  }
}

export interface SmimeEnvelopeOptions {
  /** Replaces the Subject outside the envelope; the real one stays inside. Absent: the original Subject is kept outside too. */
  readonly outerSubject?: string;
  /** RSA recipients: RSAES-OAEP (SHA-256) instead of PKCS#1 v1.5 (later config `keys.smimeRsaOaep`); also used, whatever this says, when the certificate's SMIMECapabilities extension lists RSAES-OAEP. */
  readonly rsaOaep?: boolean;
  /** Refuse originals larger than this (bytes). */
  readonly maxBytes?: number;
  /** Sign with the organisation's certificate first (multipart/signed, SHA-256), then encrypt. */
  readonly sign?: SmimeSigner;
}

export interface SmimeEnvelope {
  /** The whole outgoing message, CRLF line ends. */
  readonly message: Buffer;
  readonly keyTransport: KeyTransport;
}

export interface SmimeStream {
  /** The whole outgoing message, CRLF line ends, produced as it is read. */
  readonly stream: Readable;
  readonly keyTransport: KeyTransport;
}

const PKCS7_MIME_HEAD = Buffer.from(
  'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n' +
    'Content-Disposition: attachment; filename=smime.p7m\r\n' +
    'Content-Transfer-Encoding: base64\r\n' +
    'Content-Description: S/MIME Encrypted Message\r\n' +
    '\r\n',
);

/** The outgoing message: its header block, then the BER pieces as 76-column base64. */
function* messageChunks(head: Buffer, ber: Iterable<Buffer[]>): Generator<Buffer> {
  yield head;
  const b64 = new Base64Lines();
  for (const pieces of ber) {
    const lines = b64.push(...pieces);
    if (lines.length > 0) yield lines;
  }
  const last = b64.end();
  if (last.length > 0) yield last;
}

/**
 * The original as an S/MIME enveloped message for one recipient, as a
 * stream. Before it returns: the size check, the certificate, the optional
 * organisation signature (one SHA-256 pass over the entity; the signed
 * multipart's parts reference the original, nothing is joined) and the key
 * transport; a problem there rejects the promise. The content is encrypted
 * while the stream is read; a failure then is an 'error' on the stream.
 * The stream reads `original` as it goes (views, not a copy): the caller
 * keeps it unchanged until the stream has ended or been destroyed.
 */
export async function streamSmime(original: Buffer, recipientCertPem: string, opts: SmimeEnvelopeOptions = {}): Promise<SmimeStream> {
  checkSize(original, opts.maxBytes);
  const recipient = readRecipientCert(recipientCertPem);
  const split = splitMessage(original);
  const entity = innerEntityParts(split);
  const content = opts.sign ? await signEntityParts(entity, opts.sign, subjectFields(split)) : entity;

  const cek = randomBytes(32);
  const iv = randomBytes(16);
  let info;
  let cipher;
  try {
    info = buildRecipientInfo(recipient, cek, { rsaOaep: opts.rsaOaep === true });
    cipher = createCipheriv('aes-256-cbc', cek, iv);
  } finally {
    // the cipher holds its own copy; nothing else needs the key
    cek.fill(0);
  }
  const head = Buffer.concat([...outerFields(split, opts.outerSubject), PKCS7_MIME_HEAD]);
  const ber = envelopedBer(envelopedHead(info.der, info.envelopedVersion, iv), cipher, content);
  return { stream: Readable.from(messageChunks(head, ber)), keyTransport: info.keyTransport };
}

/** streamSmime read into one buffer (the output, about 1.37 times the input, held whole). */
export async function envelopeSmime(original: Buffer, recipientCertPem: string, opts: SmimeEnvelopeOptions = {}): Promise<SmimeEnvelope> {
  const { stream, keyTransport } = await streamSmime(original, recipientCertPem, opts);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { message: Buffer.concat(chunks), keyTransport };
}

